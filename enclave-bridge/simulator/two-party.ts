/**
 * A second owner on the same devnet: a MODEL PROVIDER with its own account (anvil account 3), its
 * own operator key (account 4), its own vault, IPFS node, key-release service and journal. The
 * hospital's key-release service never holds the model's key and the provider's never holds the
 * patients' key: an enclave app reading both does two key releases, each to its owner's service,
 * each opening its own run (docs/ai-apps.md). Devnet only.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonRpcProvider, Wallet } from 'ethers';
import { RegistryClient } from '../../app/chain/index.ts';
import { encryptFile, sodium } from '../../app/crypto/index.ts';
import { CustosError } from '../../app/errors/index.ts';
import { HeliaDatasetStore } from '../../app/ipfs/index.ts';
import { Journal, type KeyReleaseRecord } from '../../app/journal/index.ts';
import type { Vault } from '../../app/vault/index.ts';
import type { SimulationKey } from '../attestation/index.ts';
import { enclaveApp } from '../apps/index.ts';
import {
  KeyReleaseService,
  serveKeyRelease,
  type RateLimiter,
  type RunningKeyReleaseServer,
} from '../key-release/index.ts';
import {
  newEnclaveIdentity,
  runMultiDatasetJob,
  simulatedAttester,
  type MultiRunResult,
} from '../runtime/index.ts';
import type { DevnetDescriptor, DevnetEnvironment } from './environment.ts';

/** Anvil's default-mnemonic accounts 3 and 4 (funded on every devnet): the provider and its operator. */
export const PROVIDER_KEYS = {
  owner: '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
  operator: '0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a',
} as const;

export interface ModelProvider {
  readonly dir: string;
  readonly owner: RegistryClient;
  readonly operator: RegistryClient;
  readonly store: HeliaDatasetStore;
  readonly vault: Vault;
  readonly keyRelease: RunningKeyReleaseServer;
  readonly service: KeyReleaseService;
  readonly journalPath: string;
  /** `provider.json`: the devnet as the provider sees it (its key-release URL, its IPFS node). */
  readonly descriptor: DevnetDescriptor;
  readonly descriptorPath: string;
  close(): Promise<void>;
}

const sha256 = (bytes: Uint8Array | string): string =>
  `0x${createHash('sha256').update(bytes).digest('hex')}`;

/**
 * Starts the model provider's side next to a running devnet environment, around the provider's
 * unlocked `vault`. `close()` stops its service and IPFS node (not the devnet).
 */
export async function startModelProvider(
  env: DevnetEnvironment,
  dir: string,
  vault: Vault,
  options: { limiter?: RateLimiter } = {},
): Promise<ModelProvider> {
  await mkdir(dir, { recursive: true });
  const closers: (() => Promise<unknown>)[] = [];
  const closeAll = async (): Promise<void> => {
    for (const close of closers.splice(0)) await close().catch(() => undefined);
  };
  try {
    const provider = new JsonRpcProvider(env.devnet.rpcUrl, env.devnet.chainId, {
      staticNetwork: true,
      cacheTimeout: -1,
    });
    closers.push(() => Promise.resolve(provider.destroy()));
    const base = new RegistryClient({
      provider,
      registry: env.devnet.registry,
      chainId: env.devnet.chainId,
      pollMs: 50,
    });
    const owner = base.withSender(new Wallet(PROVIDER_KEYS.owner, provider));
    const operator = base.withSender(new Wallet(PROVIDER_KEYS.operator, provider));
    const store = await HeliaDatasetStore.open({ folder: join(dir, 'provider-ipfs') });
    closers.unshift(() => store.close());
    const journalPath = join(dir, 'provider-key-release-journal.jsonl');
    const journal = await Journal.open<KeyReleaseRecord>(journalPath);
    closers.unshift(() => journal.close());
    const service = new KeyReleaseService({
      registry: operator,
      // The provider trusts the same (devnet) enclave vendor as the hospital, by its own choice.
      policy: { network: 'devnet', simulationKeys: [env.simulationKey.publicKey] },
      datasetKey: (containerId) => vault.datasetKey(containerId),
      journal,
      fromBlock: env.devnet.startBlock,
      ...(options.limiter ? { limiter: options.limiter } : {}),
    });
    const keyRelease = await serveKeyRelease(service);
    closers.unshift(() => keyRelease.close());
    const descriptor: DevnetDescriptor = {
      ...env.descriptor,
      keyReleaseUrl: keyRelease.url,
      ipfs: store.multiaddrs(),
      journal: journalPath,
    };
    const descriptorPath = join(dir, 'provider.json');
    await writeFile(descriptorPath, `${JSON.stringify(descriptor, null, 2)}\n`, { mode: 0o600 });
    return {
      dir,
      owner,
      operator,
      store,
      vault,
      keyRelease,
      service,
      journalPath,
      descriptor,
      descriptorPath,
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/**
 * The provider publishes a model file as a Custos dataset: encrypted with a new key in its vault,
 * added and pinned on its IPFS node, registered from its account, its operator named.
 */
export async function publishModel(
  p: ModelProvider,
  file: string,
  options: { label: string },
): Promise<{ datasetId: string; containerId: string; cid: string }> {
  const { id: containerId } = await p.vault.addDataset(options.label);
  const containerPath = join(p.dir, `${containerId}.custos`);
  const key = p.vault.datasetKey(containerId);
  try {
    await encryptFile(
      { sodium: await sodium(), datasetKey: key, datasetId: containerId },
      file,
      containerPath,
    );
  } finally {
    key.fill(0);
  }
  const { cid } = await p.store.add(containerPath, { noCopy: true });
  await p.store.pin(cid);
  const { datasetId } = await p.owner.registerDataset({
    containerId: `0x${containerId}`,
    cid: `0x${Buffer.from(cid.bytes).toString('hex')}`,
    ciphertextHash: sha256(await readFile(containerPath)),
    metadataHash: sha256(JSON.stringify({ label: options.label, kind: 'custos.risk-model/1' })),
  });
  await p.owner.setOperator(datasetId, new Wallet(PROVIDER_KEYS.operator).address);
  return { datasetId, containerId, cid: cid.toString() };
}

/** The provider grants `measurements` use of its model (grantee: the devnet relayer by default). */
export async function grantModel(
  p: ModelProvider,
  datasetId: string,
  terms: {
    measurements: readonly string[];
    notBefore: number;
    notAfter: number;
    maxRuns: number;
    grantee: string;
    purpose?: string;
  },
): Promise<string> {
  const { grantId } = await p.owner.grant({
    datasetId,
    grantee: terms.grantee,
    measurements: terms.measurements,
    notBefore: BigInt(terms.notBefore),
    notAfter: BigInt(terms.notAfter),
    maxRuns: BigInt(terms.maxRuns),
    purposeHash: sha256(terms.purpose ?? 'model inference'),
    legalBasisHash: sha256('licence'),
  });
  return grantId;
}

export interface SimulatedMultiRunOptions {
  readonly app: string;
  /** One per role of the app: the grant and the key-release service of that dataset's owner. */
  readonly grants: Readonly<Record<string, { grantId: string; keyReleaseUrl: string }>>;
  readonly params?: unknown;
  readonly consumerPublicKey: Uint8Array;
  /** Every owner's IPFS node addresses. */
  readonly ipfs: readonly string[];
  readonly simulationKey: SimulationKey;
  readonly relayer: RegistryClient;
  readonly measurement?: string;
}

export interface SimulatedMultiRunResult extends MultiRunResult {
  readonly app: string;
  readonly measurement: string;
  readonly simulated: true;
}

/**
 * Runs a multi-dataset app in the simulated enclave: one identity and one attestation key for the
 * whole run, its own IPFS node dialling every owner's, a key release per role in the app's order.
 * @throws UsageError for a single-dataset app or a missing role; otherwise as `runMultiDatasetJob`.
 */
export async function runSimulatedMultiEnclave(
  options: SimulatedMultiRunOptions,
): Promise<SimulatedMultiRunResult> {
  const app = enclaveApp(options.app);
  const multi = app.multi;
  if (!multi) throw new CustosError('UsageError', `${app.name} reads one dataset`);
  const inputs = multi.roles.map((role) => {
    const g = options.grants[role];
    if (!g) throw new CustosError('UsageError', `${app.name} needs a grant for its ${role}`);
    return { role, serviceUrl: g.keyReleaseUrl, grantId: g.grantId };
  });
  const measurement = options.measurement ?? (await app.measurement());
  const folder = await mkdtemp(join(tmpdir(), 'custos-enclave-'));
  const store = await HeliaDatasetStore.open({ folder, listen: [] });
  try {
    for (const address of options.ipfs) await store.connect(address).catch(() => undefined);
    const now = new Date();
    const result = await runMultiDatasetJob({
      inputs,
      identity: await newEnclaveIdentity(),
      attester: simulatedAttester(
        options.simulationKey,
        Buffer.from(measurement.replace(/^0x/, ''), 'hex'),
      ),
      store,
      app: (plaintexts, runIds) => multi.run(plaintexts, options.params ?? {}, { now, runIds }),
      consumerPublicKey: options.consumerPublicKey,
      relayer: options.relayer,
    });
    return { ...result, app: app.name, measurement, simulated: true };
  } finally {
    await store.close();
    await rm(folder, { recursive: true, force: true });
  }
}
