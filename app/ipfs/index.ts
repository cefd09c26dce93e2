/**
 * IPFS storage: kubo-identical CIDs, the embedded Helia node and the remote backends. The rest of
 * Custos uses `DatasetStore` and the functions exported here, nothing under this folder directly.
 */
export {
  cidOfFile,
  importBytes,
  kuboImporterOptions,
  readFileChunks,
  KUBO_CHUNK_SIZE,
  KUBO_MAX_LINKS,
  type CidVersion,
  type DagShape,
} from './cid.ts';
export { HeliaDatasetStore, vaultIpfsFolder, type NodeOptions } from './node.ts';
export type { AddOptions, AddResult, CatOptions, DatasetStore, VerifyResult } from './store.ts';
export { checkBlock, walkDag, type Block } from './dag.ts';
export { KuboRpcBackend, type KuboRpcOptions } from './kubo-rpc.ts';
export {
  IpfsClusterClient,
  type ClusterOptions,
  type ClusterPinStatus,
  type ClusterPublishOptions,
  type Replication,
} from './cluster.ts';
export {
  PinningServiceClient,
  PIN_STATUSES,
  type PinState,
  type PinStatus,
  type PinningServiceOptions,
  type WaitOptions,
} from './pinning-service.ts';
export {
  publishToKubo,
  type PublishOptions,
  type PublishProgress,
  type PublishResult,
} from './publish.ts';
export { parseStorageSettings, StorageSettingsSchema, type StorageSettings } from './settings.ts';
export { replicate, type ReplicaResult, type ReplicateOptions } from './replicate.ts';
