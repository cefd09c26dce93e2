// `npm run bench`: runs every bench/*.bench.ts and writes bench/results/latest.{json,md}.
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Benchmark, Figure } from './bench.ts';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = (await readdir(here))
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

const results: { benchmark: string; figures: readonly Figure[]; error?: string }[] = [];
for (const file of files) {
  const { benchmark } = (await import(pathToFileURL(join(here, file)).href)) as {
    benchmark: Benchmark;
  };
  const scratch = await mkdtemp(join(tmpdir(), 'custos-bench-'));
  console.log(`== ${benchmark.name}`);
  try {
    const figures = await benchmark.run({ scratch, log: (line) => console.log(`   ${line}`) });
    results.push({ benchmark: benchmark.name, figures });
  } catch (error) {
    console.error(`   failed: ${(error as Error).stack ?? String(error)}`);
    results.push({ benchmark: benchmark.name, figures: [], error: String(error) });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

// Run with a filter (`npm run bench -- startup`), the other benchmarks' last figures are kept.
const out = join(here, 'results');
let carried = '';
let carriedFrom: string | undefined;
if (only.length > 0) {
  const previous = (await readFile(join(out, 'latest.json'), 'utf8')
    .then((t) => JSON.parse(t) as { date: string; results: typeof results })
    .catch(() => null)) ?? { date: '', results: [] };
  const ran = new Set(results.map((r) => r.benchmark));
  const kept = previous.results.filter((r) => !ran.has(r.benchmark));
  if (kept.length > 0)
    carried = ` (only ${[...ran].join(', ')} ran now; the other figures are from ${previous.date})`;
  if (kept.length > 0) carriedFrom = previous.date;
  results.splice(0, 0, ...kept);
}

const fmt = (n: number): string => (Number.isInteger(n) ? String(n) : n.toPrecision(4));
const rows = results.flatMap((r) =>
  r.error
    ? [`| ${r.benchmark} | failed: ${r.error.replaceAll('|', '/')} | | | | |`]
    : r.figures.map(
        (f) =>
          `| ${f.name} | ${fmt(f.value)} ${f.unit} | ${f.baseline ? `${f.baseline.name}: ${fmt(f.baseline.value)} ${f.baseline.unit}` : ''} | ${f.ratio === undefined ? '' : `${f.ratio.toFixed(2)}×`} | ${f.goal ?? ''} | ${f.pass === undefined ? '' : f.pass ? 'met' : '**not met**'} |`,
      ),
);
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.versions.node}`;
const md = `# Benchmark results\n\n${new Date().toISOString()} — ${machine}${carried}\n\n| figure | value | baseline (same run) | ratio | goal | |\n|---|---|---|---|---|---|\n${rows.join('\n')}\n`;
await mkdir(out, { recursive: true });
await writeFile(
  join(out, 'latest.json'),
  `${JSON.stringify({ date: new Date().toISOString(), machine, carriedFrom, results }, null, 2)}\n`,
);
await writeFile(join(out, 'latest.md'), md);
console.log(`\n${md}`);
process.exitCode = results.some((r) => r.error) ? 1 : 0;
