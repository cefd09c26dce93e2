import { createHash } from 'node:crypto';
import * as dagPb from '@ipld/dag-pb';
import type { Blockstore } from 'interface-blockstore';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { identity } from 'multiformats/hashes/identity';
import { sha256 } from 'multiformats/hashes/sha2';
import { CustosError, isCustosError } from '../errors/index.ts';

export interface Block {
  readonly cid: CID;
  readonly bytes: Uint8Array;
}

type ReadableBlocks = Pick<Blockstore, 'get'> & { readonly [CHECKED_ON_READ]?: true };

/**
 * Marks a blockstore whose `get` yields only blocks it has checked against their CID (the vault's
 * node: block files and referenced leaves alike), so `readBlock` does not hash them a second time.
 */
export const CHECKED_ON_READ: unique symbol = Symbol('custos.checkedOnRead');

async function concat(
  chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of chunks) parts.push(c);
  return parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts);
}

/**
 * Checks that `bytes` hash to `cid`.
 * @throws CustosError CidMismatch when they do not, or when the CID uses a hash we do not support.
 */
export function checkBlock(cid: CID, bytes: Uint8Array): void {
  const { code, digest } = cid.multihash;
  let ok: boolean;
  if (code === sha256.code) ok = createHash('sha256').update(bytes).digest().equals(digest);
  else if (code === identity.code) ok = Buffer.from(digest).equals(bytes);
  else
    throw new CustosError(
      'CidMismatch',
      `unsupported hash 0x${code.toString(16)} in ${cid.toString()}`,
    );
  if (!ok) {
    throw new CustosError(
      'CidMismatch',
      `block ${cid.toString()} does not match its hash (corrupted)`,
      {
        details: { cid: cid.toString() },
      },
    );
  }
}

/**
 * Reads one block from a local blockstore and checks its hash.
 * @throws BlockMissing when absent, CidMismatch when corrupted.
 */
export async function readBlock(
  store: ReadableBlocks,
  cid: CID,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  if (cid.multihash.code === identity.code) return cid.multihash.digest;
  let bytes: Uint8Array;
  try {
    bytes = await concat(store.get(cid, signal ? { signal } : {}));
  } catch (error) {
    signal?.throwIfAborted();
    // a typed reason (e.g. the file a referenced leaf was kept in is gone) says more than ours
    if (isCustosError(error)) throw error;
    throw new CustosError('BlockMissing', `block ${cid.toString()} is not in the local store`, {
      cause: error,
      details: { cid: cid.toString() },
    });
  }
  if (store[CHECKED_ON_READ] !== true) checkBlock(cid, bytes);
  return bytes;
}

/** The links of a block (dag-pb), none for raw. */
export function linksOf(cid: CID, bytes: Uint8Array): CID[] {
  if (cid.code === raw.code) return [];
  if (cid.code !== dagPb.code)
    throw new CustosError(
      'CidMismatch',
      `unexpected codec 0x${cid.code.toString(16)} in a UnixFS file`,
    );
  return dagPb.decode(bytes).Links.map((l) => CID.asCID(l.Hash) ?? CID.decode(l.Hash.bytes));
}

/** Blocks read ahead of the walk (the next ones in depth-first order): 2 MiB of 256 KiB leaves. */
const READ_AHEAD = 8;

/**
 * Every block of the DAG under `root`, depth-first, root first (the order of `ipfs dag export`),
 * each checked against its hash. The next few blocks are read while one is hashed and handed on,
 * so the disk and the hash overlap. Memory: the pending links of one path (≤ depth × 174 CIDs)
 * and `READ_AHEAD` blocks.
 * @throws BlockMissing / CidMismatch at the first absent or corrupt block (in walk order).
 */
export async function* walkDag(
  store: ReadableBlocks,
  root: CID,
  signal?: AbortSignal,
): AsyncGenerator<Block> {
  const stack: CID[] = [root];
  // reads started ahead, by position from the bottom of the stack (a CID may occur twice)
  const ahead = new Map<number, { cid: CID; bytes: Promise<Uint8Array> }>();
  const start = (at: number, cid: CID): Promise<Uint8Array> => {
    const started = ahead.get(at);
    if (started !== undefined && started.cid.equals(cid)) return started.bytes;
    const bytes = readBlock(store, cid, signal);
    bytes.catch(() => undefined); // reported when its turn comes
    ahead.set(at, { cid, bytes });
    return bytes;
  };
  for (let cid = stack.pop(); cid !== undefined; cid = stack.pop()) {
    signal?.throwIfAborted();
    const at = stack.length;
    const reading = start(at, cid);
    ahead.delete(at);
    for (let i = at - 1; i >= Math.max(0, at - READ_AHEAD); i--) void start(i, stack[i] as CID);
    const bytes = await reading;
    yield { cid, bytes };
    const links = linksOf(cid, bytes);
    for (let i = links.length - 1; i >= 0; i--) stack.push(links[i] as CID);
  }
}
