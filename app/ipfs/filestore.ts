// The node's filestore (docs/decisions/003): raw leaves kept as references into a file Custos
// already holds (a dataset's container) instead of copies, as kubo's `ipfs add --nocopy` does. One
// index file per add: `<root CID>.refs` = MAGIC, the leaves' SHA-256 digests in file order (leaf i
// is the bytes at i × chunkSize, chunkSize long except the last), then a JSON trailer (the file's
// path relative to the index folder, its size, the chunk size, the root) and the trailer's length
// (u32, big-endian). A dropped leaf (garbage-collected) has 32 zero bytes as its digest.
import { createHash } from 'node:crypto';
import { access, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import * as Digest from 'multiformats/hashes/digest';
import { sha256 } from 'multiformats/hashes/sha2';
import { z } from 'zod';
import { CustosError, fromFsError } from '../errors/index.ts';
import { writeFileAtomic } from '../files/index.ts';

const MAGIC = Buffer.from('custos-filestore/1\n');
const DIGEST = 32;
const ZERO = Buffer.alloc(DIGEST);
const SUFFIX = '.refs';
/** Digests buffered before one append to the index being written (8 KiB). */
const APPEND_EVERY = 256;

const Trailer = z
  .object({
    source: z.string().min(1).max(4096),
    size: z.number().int().nonnegative(),
    chunkSize: z.number().int().positive(),
    root: z.string().min(1).max(200),
  })
  .strict();

interface Index {
  /** The index file. */
  readonly file: string;
  /** The referenced file, absolute. */
  readonly source: string;
  readonly size: number;
  readonly chunkSize: number;
  readonly trailer: Buffer;
  /** Digests in leaf order; a dropped leaf's digest is all zeros. */
  readonly digests: Buffer;
  live: number;
}

/** Where a referenced leaf is. */
export interface LeafRef {
  readonly index: Index;
  readonly leaf: number;
}

const keyOf = (digest: Uint8Array): string => Buffer.from(digest).toString('base64');

const isRawSha256 = (cid: CID): boolean =>
  cid.code === raw.code && cid.multihash.code === sha256.code && cid.multihash.size === DIGEST;

/** The references of one add, recorded as the leaves come (constant memory); see `commit`. */
export interface FilestoreAdd {
  /** Hashes the next leaf of the file and records it; returns its CID (raw, SHA-256). */
  leaf(bytes: Uint8Array): Promise<CID>;
  /**
   * Makes the references of this add live (the index is synced, then renamed into place).
   * @throws FileUnreadable when the file's size changed during the add (before, read, after).
   */
  commit(root: CID): Promise<void>;
  /** Drops what was recorded (nothing becomes live). */
  abort(): Promise<void>;
}

export class Filestore {
  readonly #dir: string;
  /** Digest → where the leaf is (several places when files share a leaf). */
  readonly #refs = new Map<string, LeafRef[]>();
  readonly #indexes = new Map<string, Index>();
  #counter = 0;

  private constructor(dir: string) {
    this.#dir = dir;
  }

  /**
   * Loads every index in `dir` (created if missing). A damaged index is skipped: its leaves read
   * as missing, which `verify` reports; nothing is guessed.
   * @throws NotFound / PermissionDenied / FileSystemError when the folder cannot be read.
   */
  static async open(dir: string): Promise<Filestore> {
    const store = new Filestore(dir);
    let names: string[];
    try {
      await mkdir(dir, { recursive: true });
      names = await readdir(dir);
    } catch (error) {
      throw fromFsError(error, dir);
    }
    for (const name of names) {
      // an add that was interrupted (kill -9) left its references unfinished: never live
      if (name.startsWith('.add.') && name.endsWith('.tmp'))
        await rm(join(dir, name), { force: true }).catch(() => undefined);
      if (!name.endsWith(SUFFIX)) continue;
      const index = parseIndex(join(dir, name), await readFile(join(dir, name)).catch(() => null));
      if (index !== undefined) store.#load(index);
    }
    return store;
  }

  #load(index: Index): void {
    const previous = this.#indexes.get(index.file);
    if (previous !== undefined) this.#unload(previous);
    this.#indexes.set(index.file, index);
    for (let leaf = 0; leaf * DIGEST < index.digests.length; leaf++) {
      const digest = index.digests.subarray(leaf * DIGEST, (leaf + 1) * DIGEST);
      if (digest.equals(ZERO)) continue;
      const key = keyOf(digest);
      const refs = this.#refs.get(key);
      if (refs === undefined) this.#refs.set(key, [{ index, leaf }]);
      else refs.push({ index, leaf });
    }
  }

  #unload(index: Index): void {
    for (const [key, refs] of this.#refs) {
      const kept = refs.filter((ref) => ref.index !== index);
      if (kept.length === 0) this.#refs.delete(key);
      else if (kept.length !== refs.length) this.#refs.set(key, kept);
    }
    this.#indexes.delete(index.file);
  }

  /** Where `cid` is referenced (raw SHA-256 leaves only); empty when nowhere. */
  lookup(cid: CID): readonly LeafRef[] {
    return (isRawSha256(cid) && this.#refs.get(keyOf(cid.multihash.digest))) || [];
  }

  /** Whether `cid` is referenced in a file that is still there (its bytes are checked on read). */
  async has(cid: CID): Promise<boolean> {
    for (const ref of this.lookup(cid)) {
      if (
        await access(ref.index.source).then(
          () => true,
          () => false,
        )
      )
        return true;
    }
    return false;
  }

  /**
   * The bytes of a referenced leaf, from the first of its files that still holds them, checked
   * against its hash.
   * @throws BlockMissing when no file has it (gone, shorter), CidMismatch when the bytes changed.
   */
  async read(cid: CID): Promise<Uint8Array> {
    let failure: Error | undefined;
    for (const ref of this.lookup(cid)) {
      try {
        return await readLeaf(cid, ref);
      } catch (error) {
        failure = error as Error;
      }
    }
    throw (
      failure ??
      new CustosError('BlockMissing', `block ${cid.toString()} is not referenced`, {
        details: { cid: cid.toString() },
      })
    );
  }

  /** Every referenced leaf. */
  *cids(): Generator<CID> {
    for (const key of [...this.#refs.keys()])
      yield CID.createV1(raw.code, Digest.create(sha256.code, Buffer.from(key, 'base64')));
  }

  /**
   * Drops every reference of `cid` (garbage collection). Returns the indexes to write; see
   * `persist`.
   */
  drop(cid: CID): string[] {
    const refs = this.lookup(cid);
    if (refs.length === 0) return [];
    this.#refs.delete(keyOf(cid.multihash.digest));
    for (const ref of refs) {
      ref.index.digests.fill(0, ref.leaf * DIGEST, (ref.leaf + 1) * DIGEST);
      ref.index.live -= 1;
    }
    return refs.map((ref) => ref.index.file);
  }

  /**
   * Writes dropped references to disk: an index with no live leaf is removed, another one
   * rewritten atomically.
   * @throws DiskFull / PermissionDenied / FileSystemError.
   */
  async persist(files: Iterable<string>): Promise<void> {
    for (const file of new Set(files)) {
      const index = this.#indexes.get(file);
      if (index === undefined) continue;
      try {
        if (index.live === 0) {
          this.#indexes.delete(file);
          await rm(file, { force: true });
        } else {
          await writeFileAtomic(file, Buffer.concat([MAGIC, index.digests, index.trailer]), 0o644);
        }
      } catch (error) {
        throw fromFsError(error, file);
      }
    }
  }

  /**
   * Starts recording the leaves of `path` (which must stay unchanged while it is referenced).
   * @throws DiskFull / PermissionDenied / FileSystemError for the index folder.
   */
  async begin(path: string, chunkSize: number): Promise<FilestoreAdd> {
    const source = resolve(path);
    let before: number;
    try {
      before = (await stat(source)).size;
    } catch (error) {
      throw fromFsError(error, source);
    }
    const tmp = join(this.#dir, `.add.${process.pid}.${this.#counter++}.tmp`);
    let handle: FileHandle;
    try {
      handle = await open(tmp, 'w');
      await handle.write(MAGIC);
    } catch (error) {
      throw fromFsError(error, this.#dir);
    }
    const pending: Buffer[] = [];
    let size = 0;
    let leaves = 0;
    let shortLeaf = false;
    const flush = async (): Promise<void> => {
      if (pending.length === 0) return;
      const chunk = Buffer.concat(pending);
      pending.length = 0;
      await handle.write(chunk);
    };
    const discard = async (): Promise<void> => {
      await handle.close().catch(() => undefined);
      await rm(tmp, { force: true }).catch(() => undefined);
    };
    return {
      leaf: async (bytes) => {
        // leaf i must start at i × chunkSize: only the last leaf may be short
        if (shortLeaf || bytes.length > chunkSize)
          throw new CustosError('Internal', 'the chunker gave a leaf of an unexpected size');
        shortLeaf = bytes.length < chunkSize;
        const digest = createHash('sha256').update(bytes).digest();
        pending.push(digest);
        size += bytes.length;
        leaves += 1;
        try {
          if (pending.length >= APPEND_EVERY) await flush();
        } catch (error) {
          throw fromFsError(error, this.#dir);
        }
        return CID.createV1(raw.code, Digest.create(sha256.code, digest));
      },
      commit: async (root) => {
        try {
          const onDisk = (await stat(source)).size;
          if (onDisk !== size || before !== size)
            throw new CustosError(
              'FileUnreadable',
              `${source} changed while it was added (${before} bytes before, ${size} read, ${onDisk} after): add it again once it is complete`,
              { details: { path: source } },
            );
        } catch (error) {
          await discard();
          throw fromFsError(error, source);
        }
        const file = join(this.#dir, `${root.toString()}${SUFFIX}`);
        const trailerJson = Buffer.from(
          JSON.stringify({
            source: relative(this.#dir, source),
            size,
            chunkSize,
            root: root.toString(),
          }),
        );
        const trailer = Buffer.alloc(trailerJson.length + 4);
        trailerJson.copy(trailer);
        trailer.writeUInt32BE(trailerJson.length, trailerJson.length);
        try {
          await flush();
          await handle.write(trailer);
          await handle.sync();
          await handle.close();
          await rename(tmp, file);
        } catch (error) {
          await discard();
          throw fromFsError(error, this.#dir);
        }
        const index = parseIndex(file, await readFile(file).catch(() => null));
        if (index === undefined || index.digests.length !== leaves * DIGEST)
          throw new CustosError('Internal', `the filestore index ${file} did not read back`);
        this.#load(index);
      },
      abort: discard,
    };
  }
}

/** An index file's contents, or undefined when it is not one (damaged, or of another version). */
function parseIndex(file: string, bytes: Buffer | null): Index | undefined {
  if (bytes === null || bytes.length < MAGIC.length + 4) return undefined;
  if (!bytes.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const trailerLength = bytes.readUInt32BE(bytes.length - 4);
  const trailerStart = bytes.length - 4 - trailerLength;
  if (trailerStart < MAGIC.length) return undefined;
  let trailer: z.infer<typeof Trailer>;
  try {
    const parsed = Trailer.safeParse(
      JSON.parse(bytes.subarray(trailerStart, bytes.length - 4).toString('utf8')),
    );
    if (!parsed.success) return undefined;
    trailer = parsed.data;
  } catch {
    return undefined;
  }
  const digests = Buffer.from(bytes.subarray(MAGIC.length, trailerStart));
  const leaves = Math.max(1, Math.ceil(trailer.size / trailer.chunkSize));
  if (digests.length !== leaves * DIGEST) return undefined;
  let live = 0;
  for (let leaf = 0; leaf < leaves; leaf++)
    if (!digests.subarray(leaf * DIGEST, (leaf + 1) * DIGEST).equals(ZERO)) live += 1;
  const base = join(file, '..');
  return {
    file,
    source: isAbsolute(trailer.source) ? trailer.source : resolve(base, trailer.source),
    size: trailer.size,
    chunkSize: trailer.chunkSize,
    trailer: Buffer.from(bytes.subarray(trailerStart)),
    digests,
    live,
  };
}

/** One leaf from one file. */
async function readLeaf(cid: CID, ref: LeafRef): Promise<Uint8Array> {
  const { index, leaf } = ref;
  const offset = leaf * index.chunkSize;
  const length = Math.max(0, Math.min(index.chunkSize, index.size - offset));
  const bytes = Buffer.allocUnsafe(length);
  let handle: FileHandle | undefined;
  let read = 0;
  try {
    handle = await open(index.source, 'r');
    while (read < length) {
      const { bytesRead } = await handle.read(bytes, read, length - read, offset + read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
  } catch (error) {
    throw new CustosError(
      'BlockMissing',
      `block ${cid.toString()} was kept in ${index.source}, which cannot be read`,
      { cause: error, details: { cid: cid.toString(), path: index.source } },
    );
  } finally {
    await handle?.close();
  }
  if (read < length)
    throw new CustosError(
      'BlockMissing',
      `block ${cid.toString()} was kept in ${index.source}, which is now shorter`,
      { details: { cid: cid.toString(), path: index.source } },
    );
  if (!createHash('sha256').update(bytes).digest().equals(cid.multihash.digest))
    throw new CustosError(
      'CidMismatch',
      `block ${cid.toString()} no longer matches ${index.source} (the file changed after it was added)`,
      { details: { cid: cid.toString(), path: index.source } },
    );
  return bytes;
}
