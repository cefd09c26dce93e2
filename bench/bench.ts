/**
 * The shape every benchmark in bench/ shares. A benchmark is a `*.bench.ts` file exporting
 * `benchmark: Benchmark`; `npm run bench` (bench/run.ts) runs them all and writes
 * bench/results/latest.json and bench/results/latest.md.
 *
 * Figures are compared with a baseline measured in the same run (openssl, sha256, …) — never with a
 * fixed number of seconds — or with a written goal (gas ≤ 110k).
 */
export interface Figure {
  /** What was measured, in words: "encrypt 1 GiB (sodium-native)". */
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** The baseline measured in the same run, if this figure is a ratio against one. */
  readonly baseline?: { readonly name: string; readonly value: number; readonly unit: string };
  /** value / baseline.value (for throughput: higher is better). */
  readonly ratio?: number;
  /** The goal, in words ("≥ 0.5× sha256", "≤ 110000 gas"), and whether this run met it. */
  readonly goal?: string;
  readonly pass?: boolean;
}

export interface BenchContext {
  /** A scratch folder, removed after the run. */
  readonly scratch: string;
  /** Prints a progress line. */
  log(line: string): void;
}

export interface Benchmark {
  readonly name: string;
  run(ctx: BenchContext): Promise<readonly Figure[]>;
}
