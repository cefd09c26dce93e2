/**
 * The devnet profile for the hosts (web host, e2e): around the unlocked vault, the whole devnet
 * environment of enclave-bridge/simulator (anvil + registry, the vault's Helia node, the
 * key-release service), and an owner signer that says what it is: the APDU-level emulated Ledger
 * (EMULATED, development mnemonic, answered from the app) or the devnet key (DEV KEY). The
 * service (app/service) may not import enclave-bridge/; this composition root may.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DEVNET_KEYS } from '../app/chain/index.ts';
import type { DisplayedField, StorageBackendHealth } from '../app/api/index.ts';
import {
  KuboRpcBackend,
  PinningServiceClient,
  replicate,
  type StorageSettings,
} from '../app/ipfs/index.ts';
import { CID } from 'multiformats/cid';
import type { NetworkBackend, NetworkSession, OwnerSigner } from '../app/service/network.ts';
import { DevSigner, DEV_SIGNER_LABEL, type DeviceState } from '../app/signer/index.ts';
import { emulatedLedgerSigner, type UserAnswer } from '../app/signer/emulator/index.ts';
import type { Vault } from '../app/vault/index.ts';
import { ENCLAVE_APPS } from '../enclave-bridge/apps/index.ts';
import {
  DEVNET_OPERATOR,
  startDevnetEnvironment,
  type DevnetEnvironment,
} from '../enclave-bridge/simulator/index.ts';

/** anvil's development mnemonic: the emulated Ledger's first account (as in the demo). */
export const DEVELOPMENT_MNEMONIC = 'test test test test test test test test test test test junk';

export type DevnetSignerKind = 'emulated-ledger' | 'dev-key';

/** The emulated Ledger, its prompts answered by the steward in the app (approve / reject). */
export function emulatedOwnerSigner(): OwnerSigner & {
  answer(a: UserAnswer): void;
  readonly device: ReturnType<typeof emulatedLedgerSigner>['device'];
} {
  const listeners = new Set<() => void>();
  const notify = (): void => {
    for (const l of listeners) l();
  };
  let displayed: readonly DisplayedField[] = [];
  let pending: ((a: UserAnswer) => void) | null = null;
  const { device, signer } = emulatedLedgerSigner({
    mnemonic: DEVELOPMENT_MNEMONIC,
    user: (prompt) =>
      new Promise<UserAnswer>((resolve) => {
        displayed = prompt.fields.map((f) => ({ label: f.label, value: f.value }));
        pending = resolve;
        notify();
      }),
  });
  signer.onState(() => {
    if ((signer.state.status as string) !== 'confirm-on-device') {
      displayed = [];
      pending = null;
    }
    notify();
  });
  return {
    kind: 'emulated-ledger',
    label: 'Ledger (EMULATED)',
    device,
    state: () => signer.state,
    displayed: () => displayed,
    onChange: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    connect: () => signer.address(),
    signTypedData: (domain, types, message) => signer.signTypedData(domain, types, message),
    answer: (a) => {
      const p = pending;
      pending = null;
      p?.(a);
    },
  };
}

/** The devnet owner key as a signer (DevSigner refuses any other profile). */
export function devKeyOwnerSigner(): OwnerSigner {
  const dev = new DevSigner(DEVNET_KEYS.owner, 'devnet');
  let address: string | null = null;
  return {
    kind: 'dev-key',
    label: DEV_SIGNER_LABEL,
    state: (): DeviceState => ({ status: 'ready', address }),
    displayed: () => [],
    onChange: () => () => undefined,
    connect: async () => (address ??= await dev.address()),
    signTypedData: (domain, types, message) => dev.signTypedData(domain, types, message),
  };
}

/** A running devnet session, with what the later screens need (journal, evidence, runs). */
export interface DevnetSession extends NetworkSession {
  readonly env: DevnetEnvironment;
}

/** The devnet network profile; its environment lives in `dir` (beside the vault). */
export function devnetBackend(options: {
  dir: string;
  signer: DevnetSignerKind;
  /** Remote IPFS backends each published dataset is copied to (default: none). */
  storage?: StorageSettings;
  /** Resolves a pinning service's token reference (the host's keychain). */
  tokenFor?: (tokenRef: string) => Promise<string>;
}): NetworkBackend & { readonly sessions: DevnetSession[] } {
  const signer = options.signer === 'dev-key' ? devKeyOwnerSigner() : emulatedOwnerSigner();
  const sessions: DevnetSession[] = [];
  const storage = options.storage;
  const tokenFor =
    options.tokenFor ??
    ((ref: string) =>
      Promise.reject(new Error(`no keychain holds the pinning service token “${ref}”`)));
  return {
    profile: 'devnet',
    label: 'Development network',
    simulated: true,
    signer,
    sessions,
    // What startDevnetEnvironment gives the key-release service (its default TCB statuses).
    trustPolicy: {
      network: 'devnet',
      allowedTcbStatuses: ['UpToDate'],
      acceptsSimulated: true,
      simulationKeys: 1,
    },
    cidVersion: options.storage?.cidVersion ?? 1,
    enclaveApps: () =>
      Promise.all(
        Object.values(ENCLAVE_APPS).map(async (app) => ({
          name: app.name,
          title: app.title,
          measurement: (await app.measurement()).toLowerCase(),
        })),
      ),
    async start(vault: Vault) {
      const env = await startDevnetEnvironment(options.dir, vault);
      const session: DevnetSession = {
        id: randomBytes(8).toString('hex'),
        chainId: env.devnet.chainId,
        rpcUrl: env.devnet.rpcUrl,
        registry: env.devnet.registry,
        startBlock: env.devnet.startBlock,
        provider: env.devnet.provider,
        relayer: env.relayer,
        store: env.store,
        operator: DEVNET_OPERATOR,
        journalPath: env.journalPath,
        evidenceDir: join(env.dir, 'evidence'),
        env,
        ...(storage && (storage.kubo.length > 0 || storage.pinningServices.length > 0)
          ? {
              replicate: (cid: CID) =>
                replicate(env.store, cid, storage, {
                  tokenFor,
                  journalDir: join(env.dir, 'publish-journal'),
                }),
            }
          : {}),
        storageHealth: () => storageHealth(env, storage, tokenFor),
        close: () => env.close(),
      };
      sessions.push(session);
      return session;
    },
  };
}

/** The devnet folder of a vault folder. */
export const devnetDir = (vaultDir: string): string => join(vaultDir, '..', 'devnet');

const HEALTH_TIMEOUT_MS = 3000;

/** Each IPFS backend, asked now: the embedded node, every kubo node, every pinning service. */
async function storageHealth(
  env: DevnetEnvironment,
  storage: StorageSettings | undefined,
  tokenFor: (ref: string) => Promise<string>,
): Promise<StorageBackendHealth[]> {
  const addresses = env.store.multiaddrs();
  const embedded: StorageBackendHealth = {
    name: 'Embedded IPFS node (in this app)',
    kind: 'embedded',
    address: addresses.join(' ').slice(0, 2000) || null,
    health: 'ok',
    detail: `peer ${env.store.peerId()}`.slice(0, 500),
  };
  const problem = (error: unknown): string =>
    (error instanceof Error ? error.message : String(error)).slice(0, 500);
  const kubo = (storage?.kubo ?? []).map(async (k): Promise<StorageBackendHealth> => {
    try {
      const version = await new KuboRpcBackend({ apiUrl: k.apiUrl }).version(
        AbortSignal.timeout(HEALTH_TIMEOUT_MS),
      );
      return {
        name: k.name,
        kind: 'kubo',
        address: k.apiUrl,
        health: 'ok',
        detail: `kubo ${version}`,
      };
    } catch (error) {
      return {
        name: k.name,
        kind: 'kubo',
        address: k.apiUrl,
        health: 'unreachable',
        detail: problem(error),
      };
    }
  });
  const services = (storage?.pinningServices ?? []).map(
    async (p): Promise<StorageBackendHealth> => {
      try {
        const client = new PinningServiceClient({
          endpoint: p.endpoint,
          token: await tokenFor(p.tokenRef),
          requestTimeoutMs: HEALTH_TIMEOUT_MS,
        });
        // Any answer from the API (even "no such pin") shows it is up and accepts the token.
        await client.findPins(CID.parse('bafkqaaa'));
        return {
          name: p.name,
          kind: 'pinning-service',
          address: p.endpoint,
          health: 'ok',
          detail: null,
        };
      } catch (error) {
        return {
          name: p.name,
          kind: 'pinning-service',
          address: p.endpoint,
          health: 'unreachable',
          detail: problem(error),
        };
      }
    },
  );
  return [embedded, ...(await Promise.all([...kubo, ...services]))];
}
