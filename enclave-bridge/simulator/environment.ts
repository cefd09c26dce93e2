/**
 * A whole devnet on one machine: the chain (anvil + registry), the owner's IPFS node, the owner's
 * unlocked vault, the key-release service (operator key, journal, devnet attestation policy with
 * this devnet's simulation key) — what the simulated enclave runner, the demo and the tests run
 * against. Everything here is labelled devnet; nothing of it is a production setup.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { JsonRpcProvider, Wallet } from 'ethers';
import { z } from 'zod';
import { DEVNET_KEYS, RegistryClient, startDevnet, type Devnet } from '../../app/chain/index.ts';
import { HeliaDatasetStore } from '../../app/ipfs/index.ts';
import { Journal, type KeyReleaseRecord } from '../../app/journal/index.ts';
import type { Vault } from '../../app/vault/index.ts';
import { simulationKeyFromSeed, type SimulationKey } from '../attestation/index.ts';
import {
  KeyReleaseService,
  serveKeyRelease,
  type RateLimiter,
  type RunningKeyReleaseServer,
} from '../key-release/index.ts';
import { sodium } from '../../app/crypto/index.ts';

/** What another process needs to use a running devnet (written to `devnet.json`). */
export const DevnetDescriptorSchema = z.strictObject({
  format: z.literal('custos-devnet/1'),
  rpcUrl: z.string(),
  chainId: z.number().int(),
  registry: z.string(),
  startBlock: z.number().int(),
  keyReleaseUrl: z.string(),
  /** The owner's IPFS node: dial one of these to fetch a dataset's ciphertext. */
  ipfs: z.array(z.string()),
  /** File holding the devnet simulation key's seed (hex): the simulated enclave signs with it. */
  simulationSeedFile: z.string(),
  journal: z.string(),
});
export type DevnetDescriptor = z.infer<typeof DevnetDescriptorSchema>;

export interface DevnetEnvironment {
  readonly dir: string;
  readonly devnet: Devnet;
  readonly owner: RegistryClient;
  readonly operator: RegistryClient;
  readonly relayer: RegistryClient;
  readonly store: HeliaDatasetStore;
  readonly vault: Vault;
  readonly simulationKey: SimulationKey;
  readonly keyRelease: RunningKeyReleaseServer;
  readonly service: KeyReleaseService;
  readonly journalPath: string;
  readonly descriptor: DevnetDescriptor;
  close(): Promise<void>;
}

/** Reads a devnet descriptor file. @throws UsageError when it is not one. */
export async function readDevnetDescriptor(path: string): Promise<DevnetDescriptor> {
  return DevnetDescriptorSchema.parse(JSON.parse(await readFile(path, 'utf8')));
}

/** Registry clients for a running devnet (read-only provider plus the three devnet accounts). */
export function devnetClients(d: Pick<DevnetDescriptor, 'rpcUrl' | 'chainId' | 'registry'>): {
  provider: JsonRpcProvider;
  owner: RegistryClient;
  operator: RegistryClient;
  relayer: RegistryClient;
} {
  const provider = new JsonRpcProvider(d.rpcUrl, d.chainId, {
    staticNetwork: true,
    cacheTimeout: -1,
  });
  const base = new RegistryClient({
    provider,
    registry: d.registry,
    chainId: d.chainId,
    pollMs: 50,
  });
  return {
    provider,
    owner: base.withSender(new Wallet(DEVNET_KEYS.owner, provider)),
    operator: base.withSender(new Wallet(DEVNET_KEYS.operator, provider)),
    relayer: base.withSender(new Wallet(DEVNET_KEYS.relayer, provider)),
  };
}

/**
 * Starts a devnet environment in `dir` around an unlocked `vault`, and writes `dir/devnet.json`.
 * `close()` stops the key-release service, the IPFS node and anvil.
 */
export async function startDevnetEnvironment(
  dir: string,
  vault: Vault,
  options: { limiter?: RateLimiter } = {},
): Promise<DevnetEnvironment> {
  await mkdir(dir, { recursive: true });
  const devnet = await startDevnet();
  const closers: (() => Promise<unknown>)[] = [() => devnet.stop()];
  try {
    const { owner, operator, relayer } = devnetClients(devnet);
    const store = await HeliaDatasetStore.open({ folder: join(dir, 'owner-ipfs') });
    closers.unshift(() => store.close());
    const seed = (await sodium()).randomBytes(32);
    const simulationSeedFile = join(dir, 'simulation-key.hex');
    await writeFile(simulationSeedFile, Buffer.from(seed).toString('hex'), { mode: 0o600 });
    const simulationKey = await simulationKeyFromSeed(seed);
    const journalPath = join(dir, 'key-release-journal.jsonl');
    const journal = await Journal.open<KeyReleaseRecord>(journalPath);
    closers.unshift(() => journal.close());
    const service = new KeyReleaseService({
      registry: operator,
      policy: { network: 'devnet', simulationKeys: [simulationKey.publicKey] },
      datasetKey: (containerId) => vault.datasetKey(containerId),
      journal,
      fromBlock: devnet.startBlock,
      evidenceDir: join(dir, 'evidence'),
      ...(options.limiter ? { limiter: options.limiter } : {}),
    });
    const keyRelease = await serveKeyRelease(service);
    closers.unshift(() => keyRelease.close());
    const descriptor: DevnetDescriptor = {
      format: 'custos-devnet/1',
      rpcUrl: devnet.rpcUrl,
      chainId: devnet.chainId,
      registry: devnet.registry,
      startBlock: devnet.startBlock,
      keyReleaseUrl: keyRelease.url,
      ipfs: store.multiaddrs(),
      simulationSeedFile,
      journal: journalPath,
    };
    await writeFile(join(dir, 'devnet.json'), `${JSON.stringify(descriptor, null, 2)}\n`, {
      mode: 0o600,
    });
    let closed = false;
    return {
      dir,
      devnet,
      owner,
      operator,
      relayer,
      store,
      vault,
      simulationKey,
      keyRelease,
      service,
      journalPath,
      descriptor,
      async close() {
        if (closed) return;
        closed = true;
        for (const close of closers) await close().catch(() => undefined);
      },
    };
  } catch (error) {
    for (const close of closers) await close().catch(() => undefined);
    throw error;
  }
}
