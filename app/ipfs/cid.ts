import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import {
  importer,
  type ImporterOptions,
  type InProgressImportResult,
  type WritableStorage,
} from 'ipfs-unixfs-importer';
import { fixedSize } from 'ipfs-unixfs-importer/chunker';
import type { FileLayout, Reducer } from 'ipfs-unixfs-importer/layout';
import type { CID } from 'multiformats/cid';
import { CustosError, fromFsError } from '../errors/index.ts';

export type CidVersion = 0 | 1;

/** kubo's `ipfs add` defaults (boxo `chunk.DefaultBlockSize`, `helpers.DefaultLinksPerBlock`). */
export const KUBO_CHUNK_SIZE = 262_144;
export const KUBO_MAX_LINKS = 174;

/** How a file becomes a UnixFS DAG. Defaults are kubo's for the given CID version. */
export interface DagShape {
  readonly cidVersion: CidVersion;
  /** Fixed chunk size in bytes (kubo `--chunker=size-N`). Default 262144. */
  readonly chunkSize?: number;
  /** Links per intermediate node. Default 174. */
  readonly maxLinks?: number;
  /** Raw leaves. Default: true for CIDv1, false for CIDv0 (as kubo). */
  readonly rawLeaves?: boolean;
}

/**
 * kubo's balanced layout, streamed: one pending list per tree level, each at most `maxLinks`
 * entries, so memory is O(depth × maxLinks) whatever the file size (the importer's own `balanced`
 * keeps every level-1 node of the file until the end).
 *
 * The shape equals boxo's `balanced.Layout`: leaves all at the same depth, every node full except
 * the right-most path, which may be a chain of single-child nodes; a one-chunk file is its own root.
 */
export function streamingBalanced(maxLinks: number): FileLayout {
  if (!Number.isInteger(maxLinks) || maxLinks < 2)
    throw new RangeError('maxLinks must be an integer ≥ 2');
  return async (source, reduce: Reducer) => {
    const levels: InProgressImportResult[][] = [[]];
    const push = async (level: number, node: InProgressImportResult): Promise<void> => {
      const list = (levels[level] ??= []);
      list.push(node);
      if (list.length === maxLinks) {
        levels[level] = [];
        await push(level + 1, await reduce(list));
      }
    };
    for await (const leaf of source) await push(0, leaf);
    // Close the right-most path bottom-up. Level 0 is always reduced (a lone first chunk reduces to
    // itself); a higher level is reduced when it holds several nodes or a level above is pending,
    // which yields the single-child chain boxo builds on a partial right-most subtree.
    for (let level = 0; level < levels.length; level++) {
      const list = levels[level] ?? [];
      if (list.length === 0) continue;
      const above = levels.slice(level + 1).some((l) => l.length > 0);
      if (level > 0 && list.length === 1 && !above) return list[0] as InProgressImportResult;
      const node = await reduce(list);
      levels[level] = [];
      if (!above) return node;
      (levels[level + 1] ??= []).push(node);
    }
    throw new CustosError('Internal', 'the chunker produced no chunk');
  };
}

/** Importer options reproducing `ipfs add --cid-version=N` (plus any explicit shape overrides). */
export function kuboImporterOptions(shape: DagShape): ImporterOptions {
  const rawLeaves = shape.rawLeaves ?? shape.cidVersion === 1;
  return {
    cidVersion: shape.cidVersion,
    rawLeaves,
    leafType: 'file',
    reduceSingleLeafToSelf: true,
    wrapWithDirectory: false,
    fieldOrder: 'links-first',
    chunker: fixedSize({ chunkSize: shape.chunkSize ?? KUBO_CHUNK_SIZE }),
    layout: streamingBalanced(shape.maxLinks ?? KUBO_MAX_LINKS),
    // the default (10 concurrent leaves) keeps up to ~2.5 MiB in flight; that is our constant
  };
}

/** A block sink that keeps nothing: for `--only-hash`. */
const DISCARD: WritableStorage = { put: (cid: CID) => cid };

/**
 * Imports a byte stream as one UnixFS file, writing every block to `blockstore`, and returns the
 * root CID and the file size. `extra.bufferImporter` may replace how leaves are hashed and
 * stored (it must give the same CIDs); `extra.blockWriteConcurrency` is the importer's batch of
 * leaves in flight.
 * @throws whatever the source or the blockstore throws (already tagged by them).
 */
export async function importBytes(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  shape: DagShape,
  blockstore: WritableStorage = DISCARD,
  extra: Pick<ImporterOptions, 'bufferImporter' | 'blockWriteConcurrency'> = {},
): Promise<{ cid: CID; size: bigint }> {
  let root: { cid: CID; size: bigint } | undefined;
  for await (const entry of importer([{ content: source }], blockstore, {
    ...kuboImporterOptions(shape),
    ...extra,
  })) {
    root = { cid: entry.cid, size: entry.unixfs?.fileSize() ?? entry.size };
  }
  if (root === undefined) throw new CustosError('Internal', 'the importer returned no root');
  return root;
}

/** Streams a file from disk (1 MiB reads, constant memory). */
export async function* readFileChunks(
  path: string,
  signal?: AbortSignal,
): AsyncGenerator<Uint8Array> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    throw fromFsError(error, path);
  }
  if (!info.isFile())
    throw new CustosError('NotFound', `${path} is not a regular file`, { details: { path } });
  const stream = createReadStream(path, { highWaterMark: 1 << 20, ...(signal ? { signal } : {}) });
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (error) {
    if ((error as Error).name === 'AbortError')
      throw new CustosError('Cancelled', 'cancelled', { cause: error });
    throw fromFsError(error, path);
  }
}

/**
 * The CID `ipfs add -Q --cid-version=N FILE` prints for this file, computed locally without storing
 * anything. Constant memory for any file size.
 * @throws CustosError NotFound / PermissionDenied / FileSystemError when the file cannot be read.
 */
export async function cidOfFile(
  path: string,
  shape: DagShape = { cidVersion: 1 },
  signal?: AbortSignal,
): Promise<CID> {
  return (await importBytes(readFileChunks(path, signal), shape)).cid;
}
