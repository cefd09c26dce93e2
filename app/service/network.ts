/**
 * What the service needs from a network profile, injected by the host (main/): the service may not
 * import enclave-bridge/ (lint), and the host composes the devnet environment (chain + IPFS +
 * key-release service) around the unlocked vault. The service only uses app/ types here.
 */
import type { JsonRpcProvider } from 'ethers';
import type { CID } from 'multiformats/cid';
import type { DisplayedField, EnclaveApp, StorageBackendHealth } from '../api/index.ts';
import type { RegistryClient, TypedDataSigner } from '../chain/index.ts';
import type { DatasetStore, ReplicaResult, StorageSettings } from '../ipfs/index.ts';
import type { DeviceState } from '../signer/index.ts';
import type { Vault } from '../vault/index.ts';

/** The vault's remote IPFS backends as saved now (read at each use: a change needs no restart). */
export interface StorageConfig {
  readonly settings: StorageSettings;
  /** Opens a pinning service's token from where it is kept (keychain, or sealed in the vault). */
  readonly tokenFor: (tokenRef: string) => Promise<string>;
}

/** A running network around one unlocked vault; closed when the vault locks. */
export interface NetworkSession {
  /** Random per start: a devnet starts empty, so registrations are per session. */
  readonly id: string;
  readonly chainId: number;
  readonly rpcUrl: string;
  readonly registry: string;
  readonly startBlock: number;
  readonly provider: JsonRpcProvider;
  /** The key-release journal and its evidence folder, when this network runs one (devnet). */
  readonly journalPath: string | null;
  readonly evidenceDir: string | null;
  /** Sends owner-signed messages (the owner needs no gas). */
  readonly relayer: RegistryClient;
  /** The vault's IPFS node. */
  readonly store: DatasetStore;
  /** The key-release service's operator address (named on each registered dataset). */
  readonly operator: string;
  /**
   * Copies a locally pinned dataset to every remote IPFS backend `storage` names (kubo nodes,
   * pinning services); failures are returned per backend, not thrown. Absent: this profile cannot.
   */
  replicate?(cid: CID, storage: StorageConfig): Promise<ReplicaResult[]>;
  /** Each IPFS backend (the embedded node first, then those of `storage`), checked live. */
  storageHealth?(storage: StorageConfig): Promise<StorageBackendHealth[]>;
  close(): Promise<void>;
}

/** The owner's signer as the UI sees it: an account, a device state, what the device displays. */
export interface OwnerSigner {
  readonly kind: 'ledger' | 'emulated-ledger' | 'dev-key';
  readonly label: string;
  state(): DeviceState;
  /** What the device displays while it waits for the user; empty when unknown. */
  displayed(): readonly DisplayedField[];
  /** Calls `listener` on every change of state or display; returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
  /** Resolves the account (connects, asks the device); throws the device's typed error. */
  connect(): Promise<string>;
  signTypedData: TypedDataSigner['signTypedData'];
  /** Emulated device only: the user presses approve or reject. */
  answer?(answer: 'approve' | 'reject'): void;
}

export interface NetworkBackend {
  readonly profile: 'devnet' | 'testnet' | 'mainnet';
  readonly label: string;
  readonly simulated: boolean;
  readonly signer: OwnerSigner;
  /** The key-release service's attestation policy, for Settings (read-only there). */
  readonly trustPolicy?: TrustPolicyView;
  /** The enclave applications grants can name (enclave-bridge/apps on the devnet). */
  enclaveApps(): Promise<EnclaveApp[]>;
  /** Starts the network around the unlocked vault (devnet: anvil, Helia, key release). */
  start(vault: Vault): Promise<NetworkSession>;
}

/** What Settings shows of the key-release service's AttestationPolicy (enclave-bridge). */
export interface TrustPolicyView {
  readonly network: string;
  /** Intel TCB statuses accepted (`Revoked` never is). */
  readonly allowedTcbStatuses: readonly string[];
  readonly acceptsSimulated: boolean;
  readonly simulationKeys: number;
}
