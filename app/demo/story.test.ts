import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PDFDocument } from 'pdf-lib';
import { afterAll, expect, it } from 'vitest';
import { TrustedBlocksSchema, verifyUsageProof } from '../proofs/index.ts';
import { runDemo } from './story.ts';

let dir: string | undefined;
afterAll(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));

it('the demo tells the whole story, names what is simulated, and keeps its artifacts with --out', async () => {
  dir = await mkdtemp(join(tmpdir(), 'custos-demo-test-'));
  const lines: string[] = [];
  await runDemo({ out: dir, patients: 300, log: (l) => lines.push(l) });
  const text = lines.join('\n');
  expect(lines.at(-1)).toBe('Demo complete.');
  for (const honest of [
    'Ledger is EMULATED',
    'enclave SIMULATED',
    'Ledger (EMULATED) shows:',
    '[SIMULATED]',
  ]) {
    expect(text).toContain(honest);
  }
  expect(text).toContain('second run refused: GrantRevoked');
  expect(text).toMatch(/0 anomalies/);
  expect(text).toContain('verified: every receipt proven');
  expect((await readdir(dir)).sort()).toEqual(
    [
      'devnet',
      'patients.ndjson',
      'recovery-kit.txt',
      'result.json',
      'result.sealed',
      'trusted-blocks.json',
      'usage-proof.json',
      'usage-proof.pdf',
      'vault',
    ].sort(),
  );
  // The artifacts stand on their own, the chain gone: the bundle verifies offline against the block
  // hashes read from the node at export time, and not without them.
  const bundle = JSON.parse(await readFile(join(dir, 'usage-proof.json'), 'utf8')) as unknown;
  const trusted = TrustedBlocksSchema.parse(
    JSON.parse(await readFile(join(dir, 'trusted-blocks.json'), 'utf8')),
  );
  const report = await verifyUsageProof(bundle, { trustedBlocks: trusted });
  expect(report.failures).toEqual([]);
  expect(report.checks['enclave-signature']).toEqual({ checked: 1, failed: 0 });
  expect((await verifyUsageProof(bundle)).ok).toBe(false);
  // …the PDF opens, and the result holds aggregates only.
  expect(
    (await PDFDocument.load(await readFile(join(dir, 'usage-proof.pdf')))).getPageCount(),
  ).toBeGreaterThan(0);
  const result = JSON.parse(await readFile(join(dir, 'result.json'), 'utf8')) as { schema: string };
  expect(result.schema).toBe('custos.cohort-stats.result/1');
}, 120_000);

it('with --ai, a model is trained in the enclave and a provider’s model runs on another owner’s records', async () => {
  const out = await mkdtemp(join(tmpdir(), 'custos-demo-ai-'));
  try {
    const lines: string[] = [];
    await runDemo({ out, patients: 100, ai: true, log: (l) => lines.push(l) });
    const text = lines.join('\n');
    expect(lines.at(-1)).toBe('Demo complete.');
    expect(text).toMatch(/held-out AUC 0\.\d{3}/);
    expect(text).toContain('model key released by its owner’s service');
    expect(text).toContain('data key released by its owner’s service');
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}, 120_000);
