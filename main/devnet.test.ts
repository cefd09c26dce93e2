/**
 * The devnet profile's IPFS backends as Settings shows them: each asked live — a real kubo node,
 * a real Pinning Service API server in front of it (right and wrong token), and a kubo address
 * where nothing listens.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KuboRpcBackend } from '../app/ipfs/index.ts';
import { KuboDaemon } from '../app/ipfs/kubo-process.ts';
import { startPinningServer, type PinningServer } from '../app/ipfs/pinning-service-server.ts';
import type { StorageConfig } from '../app/service/network.ts';
import { Vault } from '../app/vault/index.ts';
import { devnetBackend, type DevnetSession } from './devnet.ts';

let dir: string;
let kubo: KuboDaemon;
let pinning: PinningServer;
let session: DevnetSession;
let storage: StorageConfig;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custos-devnet-'));
  kubo = await KuboDaemon.start();
  pinning = await startPinningServer({
    kubo: new KuboRpcBackend({ apiUrl: kubo.apiUrl }),
    token: 'right-token',
  });
  const backend = devnetBackend({ dir: join(dir, 'devnet'), signer: 'dev-key' });
  const vault = await Vault.create(join(dir, 'vault'), 'devnet test passphrase', {
    kdf: 'interactive',
  });
  session = (await backend.start(vault)) as DevnetSession;
  const tokens: Record<string, string> = { good: 'right-token', bad: 'wrong-token' };
  storage = {
    settings: {
      kubo: [
        { name: 'Hospital node', apiUrl: kubo.apiUrl },
        { name: 'Switched-off node', apiUrl: 'http://127.0.0.1:9' },
      ],
      pinningServices: [
        { name: 'Pinning service', endpoint: pinning.url, tokenRef: 'good' },
        { name: 'Pinning service, old token', endpoint: pinning.url, tokenRef: 'bad' },
      ],
      clusters: [],
      cidVersion: 1,
      pinTimeoutSeconds: 60,
    },
    tokenFor: (ref) => Promise.resolve(tokens[ref] ?? ''),
  };
});

afterAll(async () => {
  await session.close();
  await pinning.close();
  await kubo.stop();
  await rm(dir, { recursive: true, force: true });
});

it('reports every IPFS backend with a live health check', async () => {
  const health = await session.storageHealth?.(storage);
  const by = new Map((health ?? []).map((h) => [h.name, h]));
  expect(health?.[0]).toMatchObject({ kind: 'embedded', health: 'ok' });
  expect(health?.[0]?.detail).toContain(session.env.store.peerId());
  expect(by.get('Hospital node')).toMatchObject({ kind: 'kubo', health: 'ok' });
  expect(by.get('Hospital node')?.detail).toMatch(/^kubo \d+\.\d+/);
  expect(by.get('Switched-off node')).toMatchObject({ kind: 'kubo', health: 'unreachable' });
  expect(by.get('Pinning service')).toMatchObject({ kind: 'pinning-service', health: 'ok' });
  expect(by.get('Pinning service, old token')).toMatchObject({ health: 'unreachable' });
  expect(by.get('Pinning service, old token')?.detail).toMatch(/token|401|unauthori/i);
});
