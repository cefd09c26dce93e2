// The Pinning Service API client against a spec server backed by a real kubo daemon (which fetches
// the content from our Helia node over bitswap on loopback). Needs kubo: see kubo.test.ts.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCustosError } from '../errors/index.ts';
import { KUBO_CHUNK_SIZE, KUBO_MAX_LINKS } from './cid.ts';
import { KuboDaemon, kuboBinary } from './kubo-process.ts';
import { KuboRpcBackend } from './kubo-rpc.ts';
import { HeliaDatasetStore } from './node.ts';
import { startPinningServer, type PinningServer } from './pinning-service-server.ts';
import { PinningServiceClient, type PinStatus } from './pinning-service.ts';
import { failure } from './testing.ts';

const TOKEN = 'test-token-4f9a';

describe('IPFS Pinning Service API client ↔ spec server on a real kubo', () => {
  let dir: string;
  let kubo: KuboDaemon;
  let rpc: KuboRpcBackend;
  let ours: HeliaDatasetStore;
  let offlineNode: HeliaDatasetStore;
  let server: PinningServer;

  beforeAll(async () => {
    const binary = kuboBinary(); // fails with how-to when kubo is missing
    dir = await mkdtemp(join(tmpdir(), 'custos-psa-'));
    kubo = await KuboDaemon.start(binary);
    rpc = new KuboRpcBackend({ apiUrl: kubo.apiUrl });
    ours = await HeliaDatasetStore.open({ folder: join(dir, 'ours') });
    offlineNode = await HeliaDatasetStore.open({ folder: join(dir, 'offline'), listen: [] });
    // Generous: on a loaded 2-core CI machine a real bitswap fetch can take seconds.
    server = await startPinningServer({ kubo: rpc, token: TOKEN, fetchTimeoutMs: 30_000 });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await ours?.close();
    await offlineNode?.close();
    await kubo?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const client = (over: { token?: string; endpoint?: string } = {}): PinningServiceClient =>
    new PinningServiceClient({
      endpoint: over.endpoint ?? server.url,
      token: over.token ?? TOKEN,
      pollIntervalMs: 50,
    });

  it('pins a two-level dataset: queued → pinning → pinned, kubo holds it and serves the same bytes', async () => {
    const path = join(dir, 'dataset.bin');
    const content = randomBytes(KUBO_MAX_LINKS * KUBO_CHUNK_SIZE + 2 * KUBO_CHUNK_SIZE + 9);
    await writeFile(path, content);
    const { cid } = await ours.add(path);
    const seen: PinStatus['status'][] = [];
    const final = await client().pin(cid, {
      name: 'dataset.bin',
      origins: ours.multiaddrs(),
      onStatus: (s) => seen.push(s.status),
      timeoutMs: 30_000,
    });
    expect(final.status).toBe('pinned');
    expect(final.pin.cid).toBe(cid.toString());
    expect(seen[0]).toBe('queued');
    expect(seen.at(-1)).toBe('pinned');
    expect(
      server.transitions.filter((t) => t.requestid === final.requestid).map((t) => t.status),
    ).toEqual(['queued', 'pinning', 'pinned']);
    expect(final.delegates.length).toBeGreaterThan(0);
    expect(await rpc.isPinned(cid)).toBe(true);
    const catted = await kubo.cli(['cat', '--offline', cid.toString()]);
    expect(catted.equals(await readFile(path))).toBe(true);
    expect((await client().findPins(cid)).map((p) => p.requestid)).toContain(final.requestid);
  });

  it('content nobody can provide: the service reports failed → PinFailed, and kubo holds no pin', async () => {
    const path = join(dir, 'unreachable.bin');
    await writeFile(path, randomBytes(3 * KUBO_CHUNK_SIZE));
    const { cid } = await offlineNode.add(path); // a node that listens nowhere: no origin
    // A service that gives up on a fetch after 1.5 s, so that the failure comes quickly.
    const quick = await startPinningServer({ kubo: rpc, token: TOKEN, fetchTimeoutMs: 1500 });
    let error: unknown;
    try {
      error = await failure(client({ endpoint: quick.url }).pin(cid, { timeoutMs: 30_000 }));
    } finally {
      await quick.close();
    }
    expect(isCustosError(error, 'PinFailed')).toBe(true);
    expect((error as Error).message).toContain('could not fetch');
    expect(await rpc.isPinned(cid)).toBe(false);
  });

  it('the client gives up after its timeout with PinTimeout while the service is still pinning', async () => {
    const slow = await startPinningServer({ kubo: rpc, token: TOKEN, fetchTimeoutMs: 60_000 });
    try {
      const path = join(dir, 'slow.bin');
      await writeFile(path, randomBytes(KUBO_CHUNK_SIZE + 1));
      const { cid } = await offlineNode.add(path);
      const error = await failure(client({ endpoint: slow.url }).pin(cid, { timeoutMs: 400 }));
      expect(isCustosError(error, 'PinTimeout')).toBe(true);
      const [pending] = await client({ endpoint: slow.url }).findPins(cid);
      expect(pending?.status).toBe('pinning');
      expect(await rpc.isPinned(cid)).toBe(false);
    } finally {
      await slow.close();
    }
  });

  it('a wrong access token is StorageUnauthorized (401)', async () => {
    const error = await failure(client({ token: 'wrong' }).addPin(await anyCid()));
    expect(isCustosError(error, 'StorageUnauthorized')).toBe(true);
    expect((error as { details: Record<string, unknown> }).details['status']).toBe(401);
  });

  it('a rate-limited service is StorageRateLimited (429) with its Retry-After', async () => {
    const limited = await startPinningServer({
      kubo: rpc,
      token: TOKEN,
      rateLimit: { max: 2, windowMs: 60_000 },
    });
    try {
      const c = client({ endpoint: limited.url });
      const cid = await anyCid();
      await c.findPins(cid);
      await c.findPins(cid);
      const error = await failure(c.addPin(cid));
      expect(isCustosError(error, 'StorageRateLimited')).toBe(true);
      expect((error as { details: Record<string, unknown> }).details['retryAfter']).toBeGreaterThan(
        0,
      );
    } finally {
      await limited.close();
    }
  });

  it('a 429 while polling is waited out (Retry-After) and the pin still completes', async () => {
    // 3 requests per second: create + 2 polls, then 429 until the next second
    const limited = await startPinningServer({
      kubo: rpc,
      token: TOKEN,
      rateLimit: { max: 3, windowMs: 1000 },
    });
    try {
      const path = join(dir, 'polled.bin');
      await writeFile(path, randomBytes(40 * KUBO_CHUNK_SIZE));
      const { cid } = await ours.add(path);
      const c = new PinningServiceClient({
        endpoint: limited.url,
        token: TOKEN,
        pollIntervalMs: 1,
      });
      const final = await c.pin(cid, { origins: ours.multiaddrs(), timeoutMs: 30_000 });
      expect(final.status).toBe('pinned');
      expect(limited.rateLimited()).toBeGreaterThan(0);
      expect(await rpc.isPinned(cid)).toBe(true);
    } finally {
      await limited.close();
    }
  });

  it('an unreachable service is StorageUnavailable', async () => {
    const error = await failure(
      client({ endpoint: 'http://127.0.0.1:1' }).findPins(await anyCid()),
    );
    expect(isCustosError(error, 'StorageUnavailable')).toBe(true);
  });

  async function anyCid() {
    const path = join(dir, 'tiny.txt');
    await writeFile(path, 'tiny');
    return (await offlineNode.add(path)).cid;
  }
});
