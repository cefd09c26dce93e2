// Interop with the real kubo (`ipfs`), built by .ci/setup.d/kubo.sh. Without the binary these
// tests FAIL with a message saying how to get it (never skipped).
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CID } from 'multiformats/cid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../cli/main.ts';
import { isCustosError } from '../errors/index.ts';
import { cidOfFile, KUBO_CHUNK_SIZE, KUBO_MAX_LINKS } from './cid.ts';
import { linksOf } from './dag.ts';
import {
  initKuboRepo,
  KuboDaemon,
  kuboBinary,
  kuboOnlyHash,
  KUBO_VERSION,
  runKubo,
} from './kubo-process.ts';
import { KuboRpcBackend } from './kubo-rpc.ts';
import { HeliaDatasetStore } from './node.ts';
import { bufferIo } from '../cli/testing.ts';
import { failure } from './testing.ts';

const FULL_LEVEL = KUBO_CHUNK_SIZE * KUBO_MAX_LINKS; // 174 × 256 KiB: the largest depth-1 file

async function writeRandom(path: string, size: number): Promise<void> {
  const out = createWriteStream(path);
  for (let left = size; left > 0;) {
    const n = Math.min(left, 8 << 20);
    if (!out.write(randomBytes(n))) await new Promise<void>((r) => out.once('drain', () => r()));
    left -= n;
  }
  await new Promise<void>((resolve, reject) =>
    out.end((e?: Error | null) => (e ? reject(e) : resolve())),
  );
}

let binary: string;
let dir: string;

beforeAll(async () => {
  binary = kuboBinary(); // throws StorageUnavailable: "kubo not found at …: run .ci/setup.d/kubo.sh …"
  expect((await runKubo(binary, tmpdir(), ['version', '--number'])).toString().trim()).toBe(
    KUBO_VERSION,
  );
  dir = await mkdtemp(join(tmpdir(), 'custos-kubo-test-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('our CIDs equal `ipfs add -Q --only-hash --cid-version=N` (real kubo)', () => {
  let repo: string;
  beforeAll(async () => {
    repo = await initKuboRepo(binary);
  });
  afterAll(async () => {
    await rm(repo, { recursive: true, force: true });
  });

  const sizes = [
    0,
    1,
    1000,
    KUBO_CHUNK_SIZE - 1,
    KUBO_CHUNK_SIZE,
    KUBO_CHUNK_SIZE + 1,
    5 * KUBO_CHUNK_SIZE + 4321,
    FULL_LEVEL - 1,
    FULL_LEVEL,
    FULL_LEVEL + 1, // first two-level tree
    2 * FULL_LEVEL + 123_457,
  ];

  it.each(sizes)('random file of %i bytes, CIDv0 and CIDv1', async (size) => {
    const path = join(dir, `random-${size}.bin`);
    await writeRandom(path, size);
    for (const cidVersion of [0, 1] as const) {
      const ours = (await cidOfFile(path, { cidVersion })).toString();
      expect(ours).toBe(await kuboOnlyHash(binary, repo, path, cidVersion));
    }
    await rm(path);
  });

  it('three-level trees (174² + 1 chunks) with --chunker=size-1024, both versions', async () => {
    // 174² × 1 KiB + a bit: the same layout code as 256 KiB chunks, at 1/256 of the bytes.
    const size = KUBO_MAX_LINKS * KUBO_MAX_LINKS * 1024 + 1500;
    const path = join(dir, 'deep.bin');
    await writeRandom(path, size);
    for (const cidVersion of [0, 1] as const) {
      const ours = (await cidOfFile(path, { cidVersion, chunkSize: 1024 })).toString();
      expect(ours).toBe(
        await kuboOnlyHash(binary, repo, path, cidVersion, ['--chunker=size-1024']),
      );
    }
    await rm(path);
  });

  it('`custos cid FILE [--cid-version N]` prints exactly what kubo prints', async () => {
    const path = join(dir, 'cli.bin');
    await writeRandom(path, FULL_LEVEL + 99);
    for (const cidVersion of [0, 1] as const) {
      const io = bufferIo();
      expect(await main(['cid', path, '--cid-version', String(cidVersion)], io)).toBe(0);
      expect(io.out()).toBe(`${await kuboOnlyHash(binary, repo, path, cidVersion)}\n`);
    }
  });
});

describe('a kubo daemon on loopback and our Helia node', () => {
  let kubo: KuboDaemon;
  let ours: HeliaDatasetStore;
  let rpc: KuboRpcBackend;

  beforeAll(async () => {
    kubo = await KuboDaemon.start(binary);
    ours = await HeliaDatasetStore.open({ folder: join(dir, 'node') });
    rpc = new KuboRpcBackend({ apiUrl: kubo.apiUrl });
  }, 60_000);
  afterAll(async () => {
    await ours?.close();
    await kubo?.stop();
  });

  it('kubo listens on 127.0.0.1 only, with no bootstrap peers and no routing', async () => {
    expect(kubo.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(kubo.swarm.length).toBeGreaterThan(0);
    for (const a of kubo.swarm) expect(a).toMatch(/^\/ip4\/127\.0\.0\.1\//);
    expect(JSON.parse((await kubo.cli(['config', 'Bootstrap'])).toString())).toEqual([]);
    expect((await kubo.cli(['config', 'Routing.Type'])).toString().trim()).toBe('none');
    expect(await rpc.version()).toBe(KUBO_VERSION);
  });

  it('our node adds a two-level file; kubo, peered on loopback, fetches it over bitswap byte-for-byte', async () => {
    const path = join(dir, 'bitswap.bin');
    await writeRandom(path, FULL_LEVEL + 3 * KUBO_CHUNK_SIZE + 77);
    const { cid } = await ours.add(path);
    expect(await rpc.hasBlock(cid)).toBe(false);
    await ours.connect(`${kubo.swarm[0]}`);
    const catted = await kubo.cli(['cat', cid.toString()]);
    expect(catted.equals(await readFile(path))).toBe(true);
    expect(await rpc.hasBlock(cid)).toBe(true);
  });

  it('a file added without a copy (leaves referenced in it) is served over bitswap the same', async () => {
    const path = join(dir, 'bitswap-nocopy.bin');
    await writeRandom(path, 9 * KUBO_CHUNK_SIZE + 5);
    const { cid } = await ours.add(path, { noCopy: true });
    expect(await rpc.hasBlock(cid)).toBe(false);
    await ours.connect(`${kubo.swarm[0]}`);
    const catted = await kubo.cli(['cat', cid.toString()]);
    expect(catted.equals(await readFile(path))).toBe(true);
  });

  it('we push a CAR (dag/import): kubo pins it, pin ls confirms, `ipfs cat` matches, and `repo gc` keeps it', async () => {
    // A separate node that never dials kubo: the blocks can only arrive through the CAR.
    const isolated = await HeliaDatasetStore.open({ folder: join(dir, 'isolated'), listen: [] });
    try {
      const keep = join(dir, 'keep.bin');
      const drop = join(dir, 'drop.bin');
      await writeRandom(keep, FULL_LEVEL + 5 * KUBO_CHUNK_SIZE + 11);
      await writeRandom(drop, 3 * KUBO_CHUNK_SIZE + 5);
      const kept = await isolated.add(keep);
      const dropped = await isolated.add(drop);
      await rpc.publish(isolated, kept.cid);
      expect(await rpc.isPinned(kept.cid)).toBe(true);
      // the second one arrives without a pin: garbage for kubo's GC
      await rpc.importCar(isolated.exportCar(dropped.cid), dropped.cid);
      await rpc.unpin(dropped.cid);
      expect(await rpc.isPinned(dropped.cid)).toBe(false);
      expect(await rpc.hasBlock(dropped.cid)).toBe(true);

      await kubo.cli(['repo', 'gc', '--quiet']);
      expect(await rpc.hasBlock(dropped.cid)).toBe(false);
      expect(await rpc.isPinned(kept.cid)).toBe(true);
      const catted = await kubo.cli(['cat', '--offline', kept.cid.toString()]);
      expect(catted.equals(await readFile(keep))).toBe(true);
    } finally {
      await isolated.close();
    }
  });

  it('a CAR from an incomplete local store fails with BlockMissing and kubo pins nothing', async () => {
    const isolated = await HeliaDatasetStore.open({ folder: join(dir, 'broken'), listen: [] });
    try {
      const path = join(dir, 'broken.bin');
      await writeRandom(path, 40 * KUBO_CHUNK_SIZE);
      const { cid } = await isolated.add(path);
      const root = await readAll(isolated.local.get(cid));
      const leaf = linksOf(cid, root)[30];
      if (!leaf) throw new Error('no leaf');
      await isolated.local.delete(leaf);
      const error = await failure(rpc.publish(isolated, cid));
      expect(isCustosError(error, 'BlockMissing')).toBe(true);
      expect(await rpc.isPinned(cid)).toBe(false);
    } finally {
      await isolated.close();
    }
  });

  it('kubo unreachable (stopped port) and a wrong API address are StorageUnavailable', async () => {
    const cid = CID.parse('bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku');
    const closed = new KuboRpcBackend({ apiUrl: 'http://127.0.0.1:1' });
    const e1 = await failure(closed.isPinned(cid));
    expect(isCustosError(e1, 'StorageUnavailable')).toBe(true);
    expect((e1 as Error).message).toContain('unreachable');
    // kubo's gateway port is an HTTP server, but not the RPC API
    const gateway = (await kubo.cli(['config', 'Addresses.Gateway'])).toString().trim();
    expect(gateway).toMatch(/tcp\/0/); // OS-chosen: read the real port from kubo's own gateway file
    const gwPort = /:(\d+)/.exec((await readFile(join(kubo.repo, 'gateway'), 'utf8')).trim())?.[1];
    const wrong = new KuboRpcBackend({ apiUrl: `http://127.0.0.1:${gwPort}` });
    const e2 = await failure(wrong.isPinned(cid));
    expect(isCustosError(e2, 'StorageUnavailable')).toBe(true);
  });

  it('kubo refusing a pin (blocks it does not have, offline) is PinFailed, and pin ls says not pinned', async () => {
    const unknown = CID.parse('bafkreie7q3iidccmpvszul7kudcvvuavuo7u6gzlbobczuk5nqze3ywo4y');
    const error = await failure(rpc.pin(unknown, { offline: true }));
    expect(isCustosError(error, 'PinFailed')).toBe(true);
    expect(await rpc.isPinned(unknown)).toBe(false);
  });
});

async function readAll(
  source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of source) parts.push(p);
  return Buffer.concat(parts);
}
