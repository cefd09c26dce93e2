/**
 * Where a published dataset is stored: the copies a publish confirmed (a real kubo node, a real
 * Helia node, a real vault and storage settings) are what `replicateOrRefuse` returns and what the
 * datasets index keeps; a backend that does not confirm gives no copies at all; an index written
 * before copies were recorded still reads (copies unknown, not "none").
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dataset } from '../api/index.ts';
import { sodium } from '../crypto/index.ts';
import { HeliaDatasetStore, replicate } from '../ipfs/index.ts';
import { KuboDaemon } from '../ipfs/kubo-process.ts';
import { Vault } from '../vault/index.ts';
import { INDEX_FILE, readDatasetsIndex, writeDatasetsIndex } from './datasets-index.ts';
import type { NetworkSession } from './network.ts';
import { StorageSettingsFile, replicateOrRefuse } from './storage-settings.ts';

let dir: string;
let kubo: KuboDaemon;
let node: HeliaDatasetStore;
let vault: Vault;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custos-copies-'));
  kubo = await KuboDaemon.start();
  node = await HeliaDatasetStore.open({ folder: join(dir, 'node') });
  vault = await Vault.create(join(dir, 'vault'), 'copies test passphrase', { kdf: 'interactive' });
}, 60_000);
afterAll(async () => {
  vault?.lock();
  await node?.close();
  await kubo?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The session part a publish uses: the real `replicate` from this computer's node. */
const session = {
  replicate: (cid, storage) =>
    replicate(node, cid, storage.settings, {
      tokenFor: storage.tokenFor,
      journalDir: join(dir, 'journal'),
    }),
} as Pick<NetworkSession, 'replicate'> as NetworkSession;

async function published(bytes: number) {
  const path = join(dir, `data-${bytes}.bin`);
  await writeFile(path, randomBytes(bytes));
  return (await node.add(path)).cid;
}

const dataset = (storage: Record<string, unknown>): Record<string, unknown> => ({
  id: 'a'.repeat(32),
  name: 'Cardiology cohort 2024',
  description: '',
  sourceName: 'cohort.csv',
  format: 'csv',
  sizeBytes: 10,
  recordCount: 1,
  columns: [],
  sha256: '0'.repeat(64),
  createdAt: '2026-12-04T10:00:00.000Z',
  storage,
  chain: { registered: false },
});

describe('the copies a publish confirmed', () => {
  it('a publish with a kubo node in Settings returns its copy, pinned there, and the index keeps it', async () => {
    const settings = new StorageSettingsFile({ dir: vault.dir, sodium });
    expect(
      await replicateOrRefuse(session, await settings.config(vault), await published(9)),
    ).toEqual([]); // no remote backend: nothing to copy, nothing claimed
    await settings.add(vault, { kind: 'kubo', name: 'Hospital IPFS node', apiUrl: kubo.apiUrl });
    const cid = await published(300_000);
    const before = Date.now();
    const copies = await replicateOrRefuse(session, await settings.config(vault), cid);
    expect(copies).toEqual([
      { name: 'Hospital IPFS node', kind: 'kubo', pinnedAt: expect.any(String) as unknown },
    ]);
    const pinnedAt = Date.parse(copies[0]?.pinnedAt ?? '');
    expect(pinnedAt).toBeGreaterThanOrEqual(before);
    expect(pinnedAt).toBeLessThanOrEqual(Date.now());
    expect(
      (await kubo.cli(['pin', 'ls', '--type=recursive', cid.toString()])).toString(),
    ).toContain(cid.toString());

    const entry = dataset({ local: true, ipfsCid: cid.toString(), copies }) as Dataset;
    await writeDatasetsIndex(vault.dir, [entry]);
    expect((await readDatasetsIndex(vault.dir))[0]?.storage.copies).toEqual(copies);
  });

  it('a backend that does not confirm refuses the publish: no copy is returned for the others', async () => {
    const settings = new StorageSettingsFile({ dir: vault.dir, sodium });
    await settings.add(vault, {
      kind: 'kubo',
      name: 'Switched-off node',
      apiUrl: 'http://127.0.0.1:9',
    });
    await expect(
      replicateOrRefuse(session, await settings.config(vault), await published(1000)),
    ).rejects.toMatchObject({
      tag: 'StorageUnavailable',
      details: { backends: 'Switched-off node' },
    });
    await settings.remove('Switched-off node');
  });
});

describe('the datasets index', () => {
  it('an index written before copies were recorded still reads, copies unknown; a bad copy is refused', async () => {
    const old = dataset({ local: true, ipfsCid: 'bafkqaaa' });
    const file = (d: unknown) =>
      writeFile(
        join(vault.dir, INDEX_FILE),
        JSON.stringify({ format: 'custos-datasets', version: 1, datasets: [d] }),
      );
    await file(old);
    const [read] = await readDatasetsIndex(vault.dir);
    expect(read?.storage).toEqual({ local: true, ipfsCid: 'bafkqaaa' });
    expect(read?.storage.copies).toBeUndefined();

    await file(
      dataset({
        local: true,
        ipfsCid: 'bafkqaaa',
        copies: [{ name: 'Somewhere', kind: 'ftp', pinnedAt: '2026-12-04T10:00:00.000Z' }],
      }),
    );
    await expect(readDatasetsIndex(vault.dir)).rejects.toMatchObject({ tag: 'KeyringCorrupt' });
  });
});
