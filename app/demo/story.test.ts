import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runDemo } from './story.ts';
import { SYNTHETIC_COLUMNS, syntheticPatientsCsv } from '../synthetic/index.ts';

let dir: string | undefined;
afterAll(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));

it('the demo runs every chapter and keeps its artifacts with --out', async () => {
  dir = await mkdtemp(join(tmpdir(), 'custos-demo-test-'));
  const lines: string[] = [];
  await runDemo({ out: dir, patients: 500, log: (l) => lines.push(l) });
  expect(lines.at(-1)).toBe('Demo complete.');
  expect(lines.join('\n')).toContain('refused: TamperedCiphertext');
  expect((await readdir(dir)).sort()).toEqual(
    [
      'patients.csv',
      'patients.custos',
      'patients.decrypted.csv',
      'patients.tampered.custos',
      'recovery-kit.txt',
      'vault',
    ].sort(),
  );
});

it('the synthetic dataset is deterministic per seed and has the documented columns', () => {
  const a = syntheticPatientsCsv(100, 7);
  expect(a).toBe(syntheticPatientsCsv(100, 7));
  expect(a).not.toBe(syntheticPatientsCsv(100, 8));
  const lines = a.trim().split('\n');
  expect(lines).toHaveLength(101);
  expect(lines[0]).toBe(SYNTHETIC_COLUMNS.join(','));
});
