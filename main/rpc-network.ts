/**
 * A real network profile (testnet, mainnet, a hospital consortium chain): a JSON file names the
 * RPC node, the deployed registry, the key-release operator and the enclave apps grants may name.
 * The owner signs on a Ledger over USB; a relayer hot key (a little gas, no authority: it can only
 * send what the owner signed) sends the transactions. The key-release service runs on a server
 * (`custos serve-keys`), so this profile has no local journal. Composition root like devnet.ts.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { z } from 'zod';
import type { DisplayedField, EnclaveApp } from '../app/api/index.ts';
import {
  RegistryClient,
  checkChain,
  providerFor,
  type TypedDataSigner,
} from '../app/chain/index.ts';
import { clearSignFields } from '../app/chain/clear-sign.ts';
import { CustosError } from '../app/errors/index.ts';
import { HeliaDatasetStore } from '../app/ipfs/index.ts';
import { remoteStorage } from './ipfs-backends.ts';
import type { NetworkBackend, NetworkSession, OwnerSigner } from '../app/service/network.ts';
import {
  LedgerSigner,
  openLedgerTransport,
  type LedgerSignerOptions,
} from '../app/signer/index.ts';
import type { Vault } from '../app/vault/index.ts';

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'an 0x-address (20 bytes)');

/** `network.json`: what a real profile needs. Written by whoever deployed the registry. */
export const NetworkFileSchema = z.strictObject({
  format: z.literal('custos-network/1'),
  profile: z.enum(['testnet', 'mainnet']),
  name: z.string().trim().min(1).max(100),
  rpcUrl: z.url({ protocol: /^(https?|wss?)$/ }),
  chainId: z.number().int().positive(),
  registry: address,
  /** The block the registry was deployed in: the audit reads from there. */
  startBlock: z.number().int().min(0),
  confirmations: z.number().int().min(1).max(64).default(2),
  /** The key-release service's hot key, named on each dataset (`setOperator`). */
  operator: address,
  /** The owner's Ledger account; a device holding another account is refused. */
  owner: address.optional(),
  /** BIP-32 path of the owner's account on the Ledger. */
  derivationPath: z.string().default("44'/60'/0'/0/0"),
  /** A file holding the relayer's private key (0x-hex); CUSTOS_RELAYER_KEY overrides it. */
  relayerKeyFile: z.string().min(1).optional(),
  /** The enclave apps grants may name, with their measurements (MRENCLAVE / MRTD digest). */
  enclaveApps: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[a-z0-9-]{1,100}$/),
        title: z.string().min(1).max(200),
        measurement: z.string().regex(/^0x[0-9a-f]{64}$/, 'a 0x-hex 32-byte measurement'),
      }),
    )
    .max(64),
});
export type NetworkFile = z.output<typeof NetworkFileSchema>;

/** Reads and checks a network file. @throws NotFound, UsageError naming the bad field. */
export async function readNetworkFile(path: string): Promise<NetworkFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CustosError('NotFound', `no network file at ${path}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CustosError('UsageError', `${path} is not JSON`, { cause: error });
  }
  const parsed = NetworkFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CustosError(
      'UsageError',
      `${path}: ${issue?.path.join('.') || '(top level)'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

/** The relayer key: CUSTOS_RELAYER_KEY, else the profile's key file. @throws UsageError */
async function relayerKey(file: NetworkFile, env: NodeJS.ProcessEnv): Promise<string> {
  const fromEnv = env['CUSTOS_RELAYER_KEY']?.trim();
  const key =
    fromEnv ||
    (file.relayerKeyFile ? (await readFile(file.relayerKeyFile, 'utf8')).trim() : undefined);
  if (!key) {
    throw new CustosError(
      'UsageError',
      'no relayer key: set CUSTOS_RELAYER_KEY or relayerKeyFile in the network file (a hot key with a little gas; it can only send what your Ledger signed)',
    );
  }
  if (!/^0x[0-9a-fA-F]{64}$/.test(key))
    throw new CustosError('UsageError', 'the relayer key is not a 0x-hex 32-byte private key');
  return key;
}

/**
 * The owner's Ledger as the UI sees it. A real device's screen cannot be read, so `displayed()`
 * is what the device should show for the message being signed (ERC-7730 descriptor): the steward
 * compares the two before approving on the device.
 */
export function ledgerOwnerSigner(ledger: LedgerSigner, label: string): OwnerSigner {
  let displayed: readonly DisplayedField[] = [];
  const listeners = new Set<() => void>();
  ledger.onState(() => {
    if ((ledger.state.status as string) !== 'confirm-on-device') displayed = [];
    for (const l of listeners) l();
  });
  const signTypedData: TypedDataSigner['signTypedData'] = (domain, types, message) => {
    const primaryType = Object.keys(types).find((t) => t !== 'EIP712Domain') ?? '';
    displayed = clearSignFields(primaryType, message);
    return ledger.signTypedData(domain, types, message);
  };
  return {
    kind: 'ledger',
    label,
    state: () => ledger.state,
    displayed: () => displayed,
    onChange: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    connect: () => ledger.address(),
    signTypedData,
  };
}

/**
 * The network backend of a profile file. `dir` holds this profile's IPFS node (beside the vault).
 * `openTransport` is the Ledger's transport: USB HID unless a test passes the APDU emulator.
 */
export function rpcNetworkBackend(options: {
  file: NetworkFile;
  dir: string;
  env?: NodeJS.ProcessEnv;
  openTransport?: LedgerSignerOptions['openTransport'];
}): NetworkBackend {
  const { file, dir } = options;
  const ledger = new LedgerSigner({
    openTransport: options.openTransport ?? (() => openLedgerTransport()),
    path: file.derivationPath,
    ...(file.owner ? { expectedAddress: file.owner } : {}),
    label: 'Ledger',
  });
  return {
    profile: file.profile,
    label: file.name,
    simulated: false,
    signer: ledgerOwnerSigner(ledger, 'Ledger'),
    enclaveApps: (): Promise<EnclaveApp[]> => Promise.resolve(file.enclaveApps),
    async start(_vault: Vault): Promise<NetworkSession> {
      const provider = providerFor(file.rpcUrl, file.chainId);
      try {
        await checkChain(provider, file.chainId);
        if ((await provider.getCode(file.registry)) === '0x') {
          throw new CustosError(
            'WrongChain',
            `no Custos registry at ${file.registry} on chain ${file.chainId}`,
          );
        }
        const relayer = new RegistryClient({
          provider,
          registry: file.registry,
          chainId: file.chainId,
          confirmations: file.confirmations,
        }).withSender(new Wallet(await relayerKey(file, options.env ?? process.env), provider));
        const store = await HeliaDatasetStore.open({ folder: join(dir, 'ipfs') });
        return {
          id: randomBytes(8).toString('hex'),
          chainId: file.chainId,
          rpcUrl: file.rpcUrl,
          registry: file.registry,
          startBlock: file.startBlock,
          provider,
          relayer,
          store,
          operator: file.operator,
          journalPath: null,
          evidenceDir: null,
          ...remoteStorage(store, join(dir, 'publish-journal')),
          close: async () => {
            await store.close();
            provider.destroy();
          },
        };
      } catch (error) {
        provider.destroy();
        throw error;
      }
    },
  };
}
