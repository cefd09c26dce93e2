import type { CID } from 'multiformats/cid';
import type { CidVersion } from './cid.ts';

export interface AddOptions {
  /** Default 1 (kubo `ipfs add --cid-version=1`). */
  readonly cidVersion?: CidVersion;
  readonly signal?: AbortSignal;
  /** Called with the number of file bytes read so far. */
  readonly onProgress?: (bytes: number) => void;
  /**
   * Reference the file's leaves instead of copying them (kubo `--nocopy`; CIDv1 only, a CIDv0 add
   * copies). For files Custos owns and never rewrites: a dataset's container
   * (docs/decisions/003). The CID is the same either way.
   */
  readonly noCopy?: boolean;
}

export interface AddResult {
  readonly cid: CID;
  /** File size in bytes. */
  readonly size: bigint;
}

export interface VerifyResult {
  /** Blocks checked (root included). */
  readonly blocks: number;
  /** Bytes of all blocks checked. */
  readonly bytes: number;
}

export interface CatOptions {
  readonly signal?: AbortSignal;
  /** Only the local blockstore (the default); `false` also asks connected peers over bitswap. */
  readonly offline?: boolean;
}

/**
 * Where datasets' ciphertext lives on IPFS, as the rest of Custos sees it. The implementation is
 * the embedded Helia node (`HeliaDatasetStore`); remote backends (kubo RPC, pinning services)
 * receive copies from it.
 */
export interface DatasetStore {
  /**
   * Imports a file (streaming, constant memory) with kubo's DAG settings; the CID is the one
   * `ipfs add --cid-version=N` gives. Does not pin.
   * @throws NotFound / PermissionDenied / FileSystemError for the file, DiskFull for the store.
   */
  add(path: string, options?: AddOptions): Promise<AddResult>;
  /**
   * The file's bytes, every block checked against its hash.
   * @throws BlockMissing when a block is absent (offline), CidMismatch when a stored block is corrupt.
   */
  cat(cid: CID, options?: CatOptions): AsyncIterable<Uint8Array>;
  /**
   * Pins a CID locally, after checking that all its blocks are present and intact.
   * @throws BlockMissing, CidMismatch (nothing is pinned then).
   */
  pin(cid: CID, options?: { signal?: AbortSignal }): Promise<void>;
  /** Removes the local pin (its blocks go at the next garbage collection). */
  unpin(cid: CID, options?: { signal?: AbortSignal }): Promise<void>;
  isPinned(cid: CID, options?: { signal?: AbortSignal }): Promise<boolean>;
  /**
   * Walks the whole DAG in the local blockstore and re-hashes every block.
   * @throws BlockMissing naming the first absent block, CidMismatch naming the first corrupt one.
   */
  verify(cid: CID, options?: { signal?: AbortSignal }): Promise<VerifyResult>;
  /** The DAG as a CARv1 stream (root first, depth-first), each block checked as it is read. */
  exportCar(cid: CID, options?: { signal?: AbortSignal }): AsyncIterable<Uint8Array>;
  /** Deletes blocks that no pin holds. */
  gc(options?: { signal?: AbortSignal }): Promise<void>;
  close(): Promise<void>;
}
