// Container throughput (encrypt, decrypt; both backends) and peak memory, against openssl measured
// in the same run on the same machine: `openssl dgst -sha256` on the same file and
// `openssl speed -evp chacha20-poly1305`.
import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Benchmark, Figure } from './bench.ts';

const GiB = 1024 ** 3;
const MB = 1e6;

function makeFile(path: string, bytes: number): void {
  // Random content (no compression or dedup shortcuts anywhere), fast: openssl's CSPRNG.
  execFileSync('sh', ['-c', `openssl rand ${bytes} > '${path}'`]);
}

const RUNS = 3; // every timed figure is the best of three, baseline included

function sha256Rate(path: string, bytes: number): number {
  execFileSync('openssl', ['dgst', '-sha256', path]); // warm the page cache
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < RUNS; i += 1) {
    const started = performance.now();
    execFileSync('openssl', ['dgst', '-sha256', path]);
    best = Math.min(best, (performance.now() - started) / 1000);
  }
  return bytes / best;
}

function chachaRate(): number {
  const out = execFileSync(
    'openssl',
    ['speed', '-seconds', '2', '-bytes', '1048576', '-evp', 'chacha20-poly1305'],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  // Last table line: "ChaCha20-Poly1305   4500000.00k" (thousands of bytes per second).
  const line = out.trim().split('\n').pop() ?? '';
  const k = Number(/([\d.]+)k\s*$/.exec(line)?.[1]);
  if (!Number.isFinite(k)) throw new Error(`cannot parse openssl speed output: ${line}`);
  return k * 1000;
}

async function worker(mode: 'encrypt' | 'decrypt', backend: string, input: string, output: string) {
  let best = { plaintextBytes: 0, seconds: Number.POSITIVE_INFINITY, maxRssKiB: 0 };
  for (let i = 0; i < RUNS; i += 1) {
    await rm(output, { force: true });
    const out = execFileSync(
      process.execPath,
      [join(import.meta.dirname, 'crypto-worker.ts'), mode, backend, input, output],
      {
        encoding: 'utf8',
      },
    );
    const r = JSON.parse(out) as typeof best;
    best = {
      ...r,
      seconds: Math.min(best.seconds, r.seconds),
      maxRssKiB: Math.max(best.maxRssKiB, r.maxRssKiB),
    };
  }
  return best;
}

export const benchmark: Benchmark = {
  name: 'container encryption (app/crypto)',
  async run(ctx) {
    const { scratch } = ctx;
    const log = (line: string): void => ctx.log(line);
    const figures: Figure[] = [];
    const big = join(scratch, 'plain-1g.bin');
    const small = join(scratch, 'plain-256m.bin');
    log('writing 1 GiB and 256 MiB random files');
    makeFile(big, GiB);
    makeFile(small, GiB / 4);
    const sha = sha256Rate(big, GiB);
    const chacha = chachaRate();
    const shaBase = { name: 'openssl dgst -sha256 (same file)', value: sha / MB, unit: 'MB/s' };
    const chachaBase = {
      name: 'openssl speed chacha20-poly1305',
      value: chacha / MB,
      unit: 'MB/s',
    };
    log(
      `baselines: sha256 ${(sha / MB).toFixed(0)} MB/s, chacha20-poly1305 ${(chacha / MB).toFixed(0)} MB/s`,
    );

    const rss: Record<string, number> = {};
    for (const [label, file, size] of [
      ['256 MiB', small, GiB / 4],
      ['1 GiB', big, GiB],
    ] as const) {
      const enc = join(scratch, 'c.custos');
      const dec = join(scratch, 'p.out');
      const e = await worker('encrypt', 'sodium-native', file, enc);
      const d = await worker('decrypt', 'sodium-native', enc, dec);
      await rm(enc);
      await rm(dec);
      rss[label] = Math.max(e.maxRssKiB, d.maxRssKiB);
      if (label === '1 GiB') {
        const encRate = size / e.seconds / MB;
        const decRate = size / d.seconds / MB;
        figures.push(
          {
            name: 'encrypt 1 GiB file → container (sodium-native)',
            value: encRate,
            unit: 'MB/s',
            baseline: shaBase,
            ratio: encRate / shaBase.value,
            goal: '≥ 0.5× sha256',
            pass: encRate / shaBase.value >= 0.5,
          },
          {
            name: 'decrypt 1 GiB container → file (sodium-native)',
            value: decRate,
            unit: 'MB/s',
            baseline: shaBase,
            ratio: decRate / shaBase.value,
          },
          {
            name: 'encrypt vs raw ChaCha20-Poly1305',
            value: encRate,
            unit: 'MB/s',
            baseline: chachaBase,
            ratio: encRate / chachaBase.value,
          },
        );
        log(
          `sodium-native: encrypt ${encRate.toFixed(0)} MB/s, decrypt ${decRate.toFixed(0)} MB/s`,
        );
      }
    }
    const growth = (rss['1 GiB'] ?? 0) / (rss['256 MiB'] ?? 1);
    figures.push(
      { name: 'peak RSS, 1 GiB encrypt/decrypt', value: (rss['1 GiB'] ?? 0) / 1024, unit: 'MiB' },
      {
        name: 'peak RSS growth 256 MiB → 1 GiB (flat = 1.0)',
        value: growth,
        unit: '×',
        goal: '≤ 1.1× (flat)',
        pass: growth <= 1.1,
      },
    );

    const enc = join(scratch, 'w.custos');
    const w = await worker('encrypt', 'libsodium-wrappers-sumo', small, enc);
    const wd = await worker('decrypt', 'libsodium-wrappers-sumo', enc, join(scratch, 'w.out'));
    const wRate = GiB / 4 / w.seconds / MB;
    figures.push(
      {
        name: 'encrypt 256 MiB (libsodium-wrappers-sumo, portable)',
        value: wRate,
        unit: 'MB/s',
        baseline: shaBase,
        ratio: wRate / shaBase.value,
      },
      {
        name: 'decrypt 256 MiB (libsodium-wrappers-sumo, portable)',
        value: GiB / 4 / wd.seconds / MB,
        unit: 'MB/s',
        baseline: shaBase,
        ratio: GiB / 4 / wd.seconds / MB / shaBase.value,
      },
    );
    return figures;
  },
};
