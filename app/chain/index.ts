/**
 * The chain layer: the Custos registry contract (datasets, EIP-712 grants, run ledger) as seen
 * from the app — network profiles, the embedded devnet, a client for every function, and an event
 * indexer with finality and reorg handling. See docs/contracts.md and docs/eip712.md.
 */
export * from './eip712.ts';
export { NetworkProfileSchema, checkChain, providerFor, type NetworkProfile } from './network.ts';
export { DEVNET_CHAIN_ID, DEVNET_KEYS, startDevnet, type Devnet } from './devnet.ts';
export {
  RegistryClient,
  type ConfirmedTransaction,
  type OwnerMessage,
  type RegistryClientOptions,
  type SignedMessage,
  type TypedDataSigner,
} from './registry.ts';
export { decodeRegistryError, toChainError } from './errors.ts';
export { decodeRegistryLog, findEvent, type RegistryEvent } from './events.ts';
export {
  FileCursorStore,
  MemoryCursorStore,
  RegistryIndexer,
  type CursorStore,
  type IndexerBatch,
  type IndexerCursor,
  type IndexerOptions,
} from './indexer.ts';
export type { Dataset, Grant, GrantTerms, Run } from './abi.generated.ts';
