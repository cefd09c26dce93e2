// Replication to every configured backend, against a real kubo and the spec pinning server on it.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linksOf, readBlock } from './dag.ts';
import { KuboDaemon, kuboBinary } from './kubo-process.ts';
import { KuboRpcBackend } from './kubo-rpc.ts';
import { HeliaDatasetStore } from './node.ts';
import { startPinningServer, type PinningServer } from './pinning-service-server.ts';
import { replicate } from './replicate.ts';
import { parseStorageSettings } from './settings.ts';

describe('replicate to the configured backends', () => {
  let dir: string;
  let kubo: KuboDaemon;
  let other: KuboDaemon;
  let node: HeliaDatasetStore;
  let server: PinningServer;

  beforeAll(async () => {
    const binary = kuboBinary();
    dir = await mkdtemp(join(tmpdir(), 'custos-replicate-'));
    [kubo, other] = await Promise.all([KuboDaemon.start(binary), KuboDaemon.start(binary)]);
    node = await HeliaDatasetStore.open({ folder: join(dir, 'node') });
    server = await startPinningServer({
      kubo: new KuboRpcBackend({ apiUrl: other.apiUrl }),
      token: 'tok',
    });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await node?.close();
    await kubo?.stop();
    await other?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('pins locally, on the kubo node and at the pinning service; a dead backend is reported, not hidden', async () => {
    const path = join(dir, 'data.bin');
    await writeFile(path, randomBytes(5 * 262_144 + 3));
    const { cid } = await node.add(path);
    const settings = parseStorageSettings({
      kubo: [
        { name: 'hospital', apiUrl: kubo.apiUrl },
        { name: 'down', apiUrl: 'http://127.0.0.1:1' },
      ],
      pinningServices: [
        { name: 'service', endpoint: server.url, tokenRef: 'psa/service' },
        { name: 'bad token', endpoint: server.url, tokenRef: 'psa/wrong' },
      ],
    });
    const results = await replicate(node, cid, settings, {
      journalDir: join(dir, 'journal'),
      tokenFor: (ref) => Promise.resolve(ref === 'psa/service' ? 'tok' : 'nope'),
    });
    expect(await node.isPinned(cid)).toBe(true);
    expect(results.map((r) => [r.name, r.pinned, r.error?.tag ?? null])).toEqual([
      ['hospital', true, null],
      ['down', false, 'StorageUnavailable'],
      ['service', true, null],
      ['bad token', false, 'StorageUnauthorized'],
    ]);
    for (const daemon of [kubo, other]) {
      expect(
        (await daemon.cli(['pin', 'ls', '--type=recursive', cid.toString()])).toString(),
      ).toContain(cid.toString());
      expect(
        (await daemon.cli(['cat', '--offline', cid.toString()])).equals(await readFile(path)),
      ).toBe(true);
    }
  });

  it('an incomplete local copy stops everything before any backend is contacted', async () => {
    const path = join(dir, 'hole.bin');
    await writeFile(path, randomBytes(3 * 262_144));
    const { cid } = await node.add(path);
    const leaf = linksOf(cid, await readBlock(node.local, cid))[1];
    if (!leaf) throw new Error('no leaf');
    await node.local.delete(leaf);
    const settings = parseStorageSettings({ kubo: [{ name: 'hospital', apiUrl: kubo.apiUrl }] });
    const error: unknown = await replicate(node, cid, settings, {
      journalDir: join(dir, 'journal'),
      tokenFor: () => Promise.resolve(''),
    }).catch((e: unknown) => e);
    expect((error as { tag?: string }).tag).toBe('BlockMissing');
    expect(await new KuboRpcBackend({ apiUrl: kubo.apiUrl }).hasBlock(cid)).toBe(false);
  });
});
