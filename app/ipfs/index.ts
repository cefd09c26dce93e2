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
