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
import type { DisplayedField } from '../app/api/index.ts';
import type { NetworkBackend, NetworkSession, OwnerSigner } from '../app/service/network.ts';
import { DevSigner, DEV_SIGNER_LABEL, type DeviceState } from '../app/signer/index.ts';
import { emulatedLedgerSigner, type UserAnswer } from '../app/signer/emulator/index.ts';
import type { Vault } from '../app/vault/index.ts';
import { ENCLAVE_APPS } from '../enclave-bridge/apps/index.ts';
import { remoteStorage } from './ipfs-backends.ts';
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

/**
 * The devnet network profile; its environment lives in `dir` (beside the vault). Remote IPFS
 * backends come from the vault's storage settings, passed in by the service at each publish.
 */
export function devnetBackend(options: {
  dir: string;
  signer: DevnetSignerKind;
}): NetworkBackend & { readonly sessions: DevnetSession[] } {
  const signer = options.signer === 'dev-key' ? devKeyOwnerSigner() : emulatedOwnerSigner();
  const sessions: DevnetSession[] = [];
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
        ...remoteStorage(env.store, join(env.dir, 'publish-journal')),
        close: () => env.close(),
      };
      sessions.push(session);
      return session;
    },
  };
}

/** The devnet folder of a vault folder. */
export const devnetDir = (vaultDir: string): string => join(vaultDir, '..', 'devnet');
