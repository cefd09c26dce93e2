// Against a real IPFS Cluster: two ipfs-cluster-service peers (crdt) on loopback, each in front of
// its own kubo daemon (built by .ci/setup.d/ipfs-cluster.sh and kubo.sh; tests FAIL with a message
// saying how to get them, never skip).
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCustosError } from '../errors/index.ts';
import { KUBO_CHUNK_SIZE } from './cid.ts';
import { ClusterPeer } from './cluster-process.ts';
import { IpfsClusterClient } from './cluster.ts';
import { linksOf, readBlock } from './dag.ts';
import { KuboDaemon } from './kubo-process.ts';
import { KuboRpcBackend } from './kubo-rpc.ts';
import { HeliaDatasetStore } from './node.ts';
import { replicate } from './replicate.ts';
import { parseStorageSettings } from './settings.ts';
import { failure } from './testing.ts';

const auth = { user: 'custos', password: randomBytes(12).toString('hex') };

describe('IPFS Cluster (two real peers on loopback, each with its kubo)', () => {
  let dir: string;
  let kubos: KuboDaemon[] = [];
  let a: ClusterPeer;
  let b: ClusterPeer;
  let node: HeliaDatasetStore;
  let cluster: IpfsClusterClient;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-cluster-test-'));
    kubos = await Promise.all([KuboDaemon.start(), KuboDaemon.start()]);
    const secret = ClusterPeer.secret();
    a = await ClusterPeer.start(kubos[0] as KuboDaemon, { secret, basicAuth: auth });
    b = await ClusterPeer.start(kubos[1] as KuboDaemon, { secret, bootstrap: a.address });
    await a.waitForPeers(2);
    node = await HeliaDatasetStore.open({ folder: join(dir, 'node'), listen: [] });
    cluster = new IpfsClusterClient({ apiUrl: a.apiUrl, auth, pollIntervalMs: 200 });
  }, 120_000);
  afterAll(async () => {
    await node?.close();
    await b?.stop();
    await a?.stop();
    await Promise.all(kubos.map((k) => k.stop()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const dataset = async (name: string, size: number): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, randomBytes(size));
    return path;
  };

  it('id answers with the peer and the cluster size', async () => {
    const id = await cluster.id();
    expect(id.id).toBe(a.peerId);
    expect(id.version).toContain('1.1.5');
    expect(id.peers).toBe(2);
  });

  it('publish with replication 2: both sites pin the exact CID and the second site serves the bytes', async () => {
    const path = await dataset('replicated.bin', 7 * KUBO_CHUNK_SIZE + 11);
    const { cid } = await node.add(path, { noCopy: true });
    const seen: string[] = [];
    const status = await cluster.publish(node, cid, {
      replication: { min: 2, max: 2 },
      name: 'dataset-test',
      onStatus: (s) => seen.push(s.peers.map((p) => p.status).join(',')),
    });
    expect(
      status.peers
        .filter((p) => p.status === 'pinned')
        .map((p) => p.peerId)
        .sort(),
    ).toEqual([a.peerId, b.peerId].sort());
    expect(seen.length).toBeGreaterThan(0);
    for (const kubo of kubos)
      expect(await new KuboRpcBackend({ apiUrl: kubo.apiUrl }).isPinned(cid)).toBe(true);
    const catted = await b.kubo.cli(['cat', '--offline', cid.toString()]);
    expect(catted.equals(await readFile(path))).toBe(true);

    await cluster.unpin(cid);
    await expect
      .poll(async () => (await cluster.status(cid)).peers.map((p) => p.status), { timeout: 20_000 })
      .toEqual(['unpinned', 'unpinned']);
  });

  it('replicate() with clusters in the settings: pinned on two sites; one asking too much is reported, not hidden', async () => {
    const path = await dataset('settings.bin', 3 * KUBO_CHUNK_SIZE + 1);
    const { cid } = await node.add(path, { noCopy: true });
    const settings = parseStorageSettings({
      clusters: [
        {
          name: 'Network',
          apiUrl: a.apiUrl,
          replicationMin: 2,
          replicationMax: 2,
          user: auth.user,
          tokenRef: 'cluster/pw',
        },
        { name: 'Too many', apiUrl: b.apiUrl, replicationMin: 3, replicationMax: 3 },
      ],
    });
    const results = await replicate(node, cid, settings, {
      tokenFor: (ref) => Promise.resolve(ref === 'cluster/pw' ? auth.password : 'wrong'),
      journalDir: join(dir, 'journal'),
    });
    expect(results.map((r) => [r.name, r.kind, r.pinned, r.error?.tag])).toEqual([
      ['Network', 'ipfs-cluster', true, undefined],
      ['Too many', 'ipfs-cluster', false, 'PinFailed'],
    ]);
    expect(await node.isPinned(cid)).toBe(true);
    for (const kubo of kubos)
      expect(await new KuboRpcBackend({ apiUrl: kubo.apiUrl }).isPinned(cid)).toBe(true);
  });

  it('asking for more copies than the cluster has peers is PinFailed, and nothing is pinned', async () => {
    const path = await dataset('too-many.bin', 2 * KUBO_CHUNK_SIZE);
    const { cid } = await node.add(path, { noCopy: true });
    const error = await failure(cluster.publish(node, cid, { replication: { min: 3, max: 3 } }));
    expect(isCustosError(error, 'PinFailed')).toBe(true);
    expect((error as Error).message).toContain('not enough peers');
    for (const kubo of kubos)
      expect(await new KuboRpcBackend({ apiUrl: kubo.apiUrl }).isPinned(cid)).toBe(false);
  });

  it('an incomplete local copy fails with BlockMissing (ours, not the upload error) and pins nothing', async () => {
    const isolated = await HeliaDatasetStore.open({ folder: join(dir, 'hole'), listen: [] });
    try {
      const path = await dataset('hole.bin', 5 * KUBO_CHUNK_SIZE);
      const { cid } = await isolated.add(path);
      const leaf = linksOf(cid, await readBlock(isolated.local, cid))[3];
      if (!leaf) throw new Error('no leaf');
      await isolated.local.delete(leaf);
      const error = await failure(
        cluster.publish(isolated, cid, { replication: { min: 1, max: 2 } }),
      );
      expect(isCustosError(error, 'BlockMissing')).toBe(true);
      expect((await cluster.status(cid)).peers.every((p) => p.status !== 'pinned')).toBe(true);
    } finally {
      await isolated.close();
    }
  });

  it('wrong or missing credentials are StorageUnauthorized', async () => {
    const wrong = new IpfsClusterClient({ apiUrl: a.apiUrl, auth: { ...auth, password: 'nope' } });
    expect(isCustosError(await failure(wrong.id()), 'StorageUnauthorized')).toBe(true);
    const none = new IpfsClusterClient({ apiUrl: a.apiUrl });
    expect(isCustosError(await failure(none.id()), 'StorageUnauthorized')).toBe(true);
  });

  it('an unreachable address or a server that is not a cluster is StorageUnavailable', async () => {
    const closed = new IpfsClusterClient({ apiUrl: 'http://127.0.0.1:9' });
    const down = await failure(closed.id());
    expect(isCustosError(down, 'StorageUnavailable')).toBe(true);
    expect((down as Error).message).toContain('unreachable');
    const kubo = new IpfsClusterClient({ apiUrl: (kubos[0] as KuboDaemon).apiUrl });
    expect(isCustosError(await failure(kubo.id()), 'StorageUnavailable')).toBe(true);
    expect(
      isCustosError(
        await failure(
          cluster.publish(node, (await node.add(await dataset('r.bin', 10))).cid, {
            replication: { min: 2, max: 1 },
          }),
        ),
        'UsageError',
      ),
    ).toBe(true);
  });
});
