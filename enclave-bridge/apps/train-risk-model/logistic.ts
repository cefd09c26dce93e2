/**
 * Logistic regression on standardised features: exact fitting by Newton's method (IRLS) with a
 * small L2 penalty, or DP-SGD (per-example gradient clipping + Gaussian noise) when the consumer
 * asks for memorisation protection. Deterministic: every random draw comes from a seeded PRNG.
 */

export interface Standardiser {
  readonly mean: number[];
  readonly scale: number[];
}

/** Column means and standard deviations (a constant column gets scale 1). */
export function standardiser(x: readonly Float64Array[], d: number): Standardiser {
  const mean = new Array<number>(d).fill(0);
  const m2 = new Array<number>(d).fill(0);
  let n = 0;
  for (const row of x) {
    n += 1;
    for (let j = 0; j < d; j += 1) {
      const v = row[j] as number;
      const delta = v - (mean[j] as number);
      mean[j] = (mean[j] as number) + delta / n;
      m2[j] = (m2[j] as number) + delta * (v - (mean[j] as number));
    }
  }
  const scale = m2.map((s) => {
    const sd = Math.sqrt(s / Math.max(1, n - 1));
    return sd > 1e-12 ? sd : 1;
  });
  return { mean, scale };
}

export function standardise(x: readonly Float64Array[], s: Standardiser): Float64Array[] {
  return x.map((row) => row.map((v, j) => (v - (s.mean[j] as number)) / (s.scale[j] as number)));
}

export const sigmoid = (z: number): number =>
  z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));

/** Weights on standardised features; `bias` is the intercept. */
export interface LinearModel {
  readonly bias: number;
  readonly weights: number[];
}

export function predict(model: LinearModel, row: Float64Array): number {
  let z = model.bias;
  for (let j = 0; j < row.length; j += 1) z += (model.weights[j] as number) * (row[j] as number);
  return sigmoid(z);
}

/** Solves A x = b (A symmetric positive definite, small) by Gaussian elimination with pivoting. */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i] as number]);
  for (let col = 0; col < n; col += 1) {
    let pivot = col;
    for (let r = col + 1; r < n; r += 1) {
      if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r;
    }
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    const p = m[col]![col]!;
    if (Math.abs(p) < 1e-300) throw new RangeError('singular system');
    for (let r = 0; r < n; r += 1) {
      if (r === col) continue;
      const f = m[r]![col]! / p;
      if (f === 0) continue;
      for (let c = col; c <= n; c += 1) m[r]![c] = m[r]![c]! - f * m[col]![c]!;
    }
  }
  return m.map((row, i) => row[n]! / row[i]!);
}

export interface NewtonResult {
  readonly model: LinearModel;
  readonly iterations: number;
  readonly converged: boolean;
}

/**
 * Maximum (L2-penalised) likelihood by Newton's method. The penalty `l2` applies to the weights,
 * not the intercept, and is per record (the objective is mean log-likelihood − l2/2 ‖w‖²).
 */
export function fitNewton(
  x: readonly Float64Array[],
  y: Uint8Array,
  d: number,
  options: { l2: number; maxIterations?: number; tolerance?: number },
): NewtonResult {
  const n = x.length;
  const k = d + 1; // index 0 is the intercept
  let beta = new Array<number>(k).fill(0);
  const maxIterations = options.maxIterations ?? 50;
  const tolerance = options.tolerance ?? 1e-10;
  for (let it = 1; it <= maxIterations; it += 1) {
    const grad = new Array<number>(k).fill(0);
    const hess = Array.from({ length: k }, () => new Array<number>(k).fill(0));
    for (let i = 0; i < n; i += 1) {
      const row = x[i] as Float64Array;
      let z = beta[0] as number;
      for (let j = 0; j < d; j += 1) z += (beta[j + 1] as number) * (row[j] as number);
      const p = sigmoid(z);
      const r = (y[i] as number) - p;
      const w = p * (1 - p);
      for (let a = 0; a < k; a += 1) {
        const xa = a === 0 ? 1 : (row[a - 1] as number);
        grad[a] = (grad[a] as number) + r * xa;
        const ha = hess[a] as number[];
        for (let b = a; b < k; b += 1) {
          const xb = b === 0 ? 1 : (row[b - 1] as number);
          ha[b] = (ha[b] as number) + w * xa * xb;
        }
      }
    }
    for (let a = 0; a < k; a += 1) {
      grad[a] = (grad[a] as number) / n - (a === 0 ? 0 : options.l2 * (beta[a] as number));
      for (let b = a; b < k; b += 1) {
        const v = (hess[a]![b] as number) / n + (a === b && a > 0 ? options.l2 : 0);
        hess[a]![b] = v;
        hess[b]![a] = v;
      }
    }
    const step = solve(hess, grad);
    beta = beta.map((v, i) => v + (step[i] as number));
    if (Math.max(...step.map(Math.abs)) < tolerance || it === maxIterations) {
      return {
        model: { bias: beta[0] as number, weights: beta.slice(1) },
        iterations: it,
        converged: it < maxIterations || Math.max(...step.map(Math.abs)) < tolerance,
      };
    }
  }
  throw new RangeError('unreachable');
}

/** xorshift32 with Box–Muller normals: deterministic draws from a seed. */
export function seededRandom(seed: number): { uniform(): number; normal(): number } {
  let s = seed >>> 0 || 0x9e3779b9;
  const uniform = (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
  return {
    uniform,
    normal: () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform()),
  };
}

export interface DpSgdOptions {
  /** Per-example gradient L2 norm bound C. */
  readonly clipNorm: number;
  /** σ: the noise added to each summed batch gradient is N(0, σ²C²) per coordinate. */
  readonly noiseMultiplier: number;
  readonly batchSize: number;
  readonly epochs: number;
  readonly learningRate: number;
  readonly l2: number;
  readonly seed: number;
}

export interface DpSgdResult {
  readonly model: LinearModel;
  readonly steps: number;
  /** Fraction of per-example gradients that the clip bound shortened. */
  readonly clippedFraction: number;
}

/**
 * DP-SGD (Abadi et al. 2016): shuffled batches; each example's gradient is clipped to norm C, the
 * batch sum gets Gaussian noise of standard deviation σC, and the step uses the noisy mean.
 */
export function fitDpSgd(
  x: readonly Float64Array[],
  y: Uint8Array,
  d: number,
  o: DpSgdOptions,
): DpSgdResult {
  const n = x.length;
  const k = d + 1;
  const beta = new Array<number>(k).fill(0);
  const random = seededRandom(o.seed);
  const order = Array.from({ length: n }, (_, i) => i);
  const g = new Array<number>(k);
  const sum = new Array<number>(k);
  let steps = 0;
  let clipped = 0;
  let examples = 0;
  for (let epoch = 0; epoch < o.epochs; epoch += 1) {
    for (let i = n - 1; i > 0; i -= 1) {
      const j = Math.floor(random.uniform() * (i + 1));
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    for (let start = 0; start < n; start += o.batchSize) {
      const end = Math.min(n, start + o.batchSize);
      sum.fill(0);
      for (let b = start; b < end; b += 1) {
        const idx = order[b] as number;
        const row = x[idx] as Float64Array;
        let z = beta[0] as number;
        for (let j = 0; j < d; j += 1) z += (beta[j + 1] as number) * (row[j] as number);
        const r = sigmoid(z) - (y[idx] as number);
        g[0] = r;
        let norm2 = r * r;
        for (let j = 0; j < d; j += 1) {
          const v = r * (row[j] as number);
          g[j + 1] = v;
          norm2 += v * v;
        }
        const norm = Math.sqrt(norm2);
        const factor = norm > o.clipNorm ? o.clipNorm / norm : 1;
        if (factor < 1) clipped += 1;
        examples += 1;
        for (let a = 0; a < k; a += 1) sum[a] = (sum[a] as number) + (g[a] as number) * factor;
      }
      const size = end - start;
      for (let a = 0; a < k; a += 1) {
        const noisy =
          ((sum[a] as number) + o.noiseMultiplier * o.clipNorm * random.normal()) / size;
        const penalty = a === 0 ? 0 : o.l2 * (beta[a] as number);
        beta[a] = (beta[a] as number) - o.learningRate * (noisy + penalty);
      }
      steps += 1;
    }
  }
  return {
    model: { bias: beta[0] as number, weights: beta.slice(1) },
    steps,
    clippedFraction: examples === 0 ? 0 : clipped / examples,
  };
}
