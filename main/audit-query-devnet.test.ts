/**
 * The service's queryAudit on a real devnet (anvil + registry + key-release journal): the timeline
 * is read from the chain, kept while the chain head stays, read again after a new block, and a
 * later page naming an old version is answered from the new timeline.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devnetBackend } from './devnet.ts';
import { METHODS, type AuditQuery } from '../app/api/contract.ts';
import { CustosService } from '../app/service/index.ts';

let dir: string;
let network: ReturnType<typeof devnetBackend>;
let service: CustosService;
let datasetId: string;

/** A query as the contract parses it (its defaults filled in). */
const parse = (input: Partial<AuditQuery>): AuditQuery => METHODS.queryAudit.input.parse(input);

/** Resolves on the service's next event of that name. */
function nextEvent(name: string): Promise<void> {
  return new Promise((resolve) => {
    const off = service.onEvent((event) => {
      if (event === name) {
        off();
        resolve();
      }
    });
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custos-audit-'));
  network = devnetBackend({ dir: join(dir, 'devnet'), signer: 'dev-key' });
  service = new CustosService({ vaultDir: join(dir, 'vault'), kdf: 'interactive', network });
  const h = service.handlers;
  await h.createVault({ passphrase: 'granite orchid lantern seventy' });
  for (;;) {
    const waiting = nextEvent('status');
    if ((await h.getStatus({})).network.state === 'connected') break;
    await waiting;
  }
  const path = join(dir, 'cohort.csv');
  await writeFile(path, 'patient_id,age\nP-1,54\nP-2,61\n');
  const { jobId } = await h.startImport({ path, name: 'Cardiology cohort 2024', description: '' });
  for (;;) {
    const waiting = nextEvent('importProgress');
    const job = await h.getImport({ jobId });
    if (job.state !== 'running') {
      datasetId = job.datasetId ?? '';
      break;
    }
    await waiting;
  }
  await h.publishDataset({ id: datasetId });
}, 120_000);

afterAll(async () => {
  await service.close();
  await rm(dir, { recursive: true, force: true });
});

describe('queryAudit in the service', () => {
  it('reads the registered dataset from the chain; the same head gives the same timeline', async () => {
    const h = service.handlers;
    const first = await h.queryAudit(parse({}));
    expect(first.datasets).toEqual([{ id: datasetId, name: 'Cardiology cohort 2024' }]);
    expect(first.kinds).toContain('dataset-registered');
    expect(first.total).toBe(first.all);
    expect(first.entries.length).toBe(first.all);
    const again = await h.queryAudit(parse({ offset: 1, limit: 1 }));
    expect(again.version).toBe(first.version);
    expect(again.entries).toEqual(first.entries.slice(1, 2));
  });

  it('reads the chain again after a new block; later pages keep their timeline while it is kept', async () => {
    const h = service.handlers;
    const before = await h.queryAudit(parse({}));
    const provider = network.sessions[0]?.env.devnet.provider;
    if (!provider) throw new Error('the devnet did not start');
    await provider.send('evm_mine', []);
    // A later page of the answer before the block: from the same timeline, not rebuilt.
    const page = await h.queryAudit(parse({ offset: 1, version: before.version }));
    expect(page.version).toBe(before.version);
    // A first page checks the head: the block gives a new timeline.
    const after = await h.queryAudit(parse({}));
    expect(after.version).not.toBe(before.version);
    expect(after.all).toBe(before.all);
    // The old one is gone: a page naming it is answered from the new one (the screen re-reads).
    const late = await h.queryAudit(parse({ offset: 1, version: before.version }));
    expect(late.version).toBe(after.version);
  });

  it('names the field of a query it refuses', async () => {
    await expect(
      service.handlers.queryAudit(parse({ from: '2026-12-04', until: '2026-12-01' })),
    ).rejects.toMatchObject({ tag: 'UsageError', details: { field: 'until' } });
  });
});
