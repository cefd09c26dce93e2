import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { withBitswap } from '@helia/bitswap';
import { withLibp2pLight, type HeliaWithLibp2p } from '@helia/libp2p';
import { CarWriter } from '@ipld/car';
import { identify } from '@libp2p/identify';
import { tcp } from '@libp2p/tcp';
import { multiaddr } from '@multiformats/multiaddr';
import { FsBlockstore } from 'blockstore-fs';
import { NextToLast, type ShardingStrategy } from 'blockstore-fs/sharding';
import { FsDatastore } from 'datastore-fs';
import { createHeliaLight, type Helia } from 'helia';
import type { Blockstore, Pair } from 'interface-blockstore';
import { exporter } from 'ipfs-unixfs-exporter';
import type { BufferImporter } from 'ipfs-unixfs-importer';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import * as Digest from 'multiformats/hashes/digest';
import { sha256 } from 'multiformats/hashes/sha2';
import { CustosError, fromFsError, isCustosError } from '../errors/index.ts';
import { importBytes, KUBO_CHUNK_SIZE, readFileChunks } from './cid.ts';
import { CHECKED_ON_READ, checkBlock, readBlock, walkDag } from './dag.ts';
import { Filestore } from './filestore.ts';
import { blockKey, PinSet } from './pins.ts';
import type { AddOptions, AddResult, CatOptions, DatasetStore, VerifyResult } from './store.ts';

/** Where a vault keeps its IPFS node: `<vault>/ipfs` (blocks are ciphertext; no unlock needed). */
export function vaultIpfsFolder(vaultDir: string): string {
  return join(vaultDir, 'ipfs');
}

// The ring shared with the block-writing threads (block-writer.ts; the constants must match).
// Control words: HEAD = blocks queued, [1] = blocks taken by a writer, STOP = no more blocks,
// ERROR = a writer failed (its errno code and folder as JSON after the control words), then one
// state per slot (FREE → QUEUED by this thread → CLAIMED by a writer → FREE, or DONE for a raw
// leaf the writer hashed, until this thread has read the digest). Each slot: data length, path
// length, hash flag, the SHA-256 digest (raw leaves), the path relative to the blockstore root
// (≤ 248 bytes; empty for raw leaves: the writer derives it), the block.
const HEAD = 0;
const STOP = 2;
const ERROR = 3;
const STATE = 16;
const FREE = 0;
const QUEUED = 1;
const DONE = 3;
const CONTROL_BYTES = 256;
const ERROR_BYTES = 1024;
const SLOT_HEADER = 48;
const PATH_BYTES = 248;
/** Room for a 256 KiB leaf plus UnixFS framing (CIDv0 leaves), and for any intermediate node. */
const SLOT_DATA = 262_144 + 4096;
const SLOTS = 16;
const SLOT_SIZE = SLOT_HEADER + PATH_BYTES + SLOT_DATA;
/** Two writers: with the main thread, the hashing and the file writes use both cores. */
const WRITERS = 2;
/** Raw leaves read ahead of the tree (the importer's batch): 4 MiB. */
const LEAVES_IN_FLIGHT = 16;
/** How long a slot may stay busy before the writers are declared stuck. */
const STALL_MS = 60_000;

/** `Atomics.waitAsync` (ES2024, in Node 22; the project's TypeScript lib predates it). */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      this: void,
      array: Int32Array,
      index: number,
      value: number,
      timeout: number,
    ): { async: boolean; value: Promise<string> | string };
  }
).waitAsync;

interface Ring {
  readonly workers: readonly Worker[];
  readonly control: Int32Array;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  /** Set when a writer thread ended on its own (it should not: it reports failures instead). */
  exited: boolean;
}

const slotBase = (slot: number): number => CONTROL_BYTES + ERROR_BYTES + slot * SLOT_SIZE;

/**
 * blockstore-fs, same on-disk layout (NextToLast sharding, one file per block, written to a temp
 * name then renamed), with writes behind: `put` copies the block into a ring of 16 slots shared
 * with two worker threads, which create the files while this thread reads and builds the tree
 * (bench/ipfs: the file writes were half of an add's time on one thread). `putRawLeaf` also
 * leaves the SHA-256 of a raw leaf to the writers. `put` returns once the block is queued;
 * `flush()` waits until every queued block is on disk (in the page cache, like blockstore-fs: no
 * fsync) and throws the first write failure. `get`, `has`, `delete`, `getAll` flush first, so a
 * reader never misses a block that was put. Blocks larger than a slot are written directly.
 * Reads, deletes and GC are blockstore-fs's own, plus the raw leaves `filestore` references
 * (docs/decisions/003): those are read from their file and dropped from its index. Every block
 * `get` yields is checked against its CID first (`CHECKED_ON_READ`): a corrupt block is
 * CidMismatch, never bytes.
 */
export class VaultBlockstore extends FsBlockstore {
  readonly [CHECKED_ON_READ] = true as const;
  readonly filestore: Filestore;
  readonly #root: string;
  readonly #sharding: ShardingStrategy;
  readonly #dirs = new Set<string>();
  readonly #encoder = new TextEncoder();
  #counter = 0;
  #ring: Ring | undefined;
  /** Indexes with dropped references, written when a `deleteMany` ends (else at each delete). */
  #dropped: string[] | undefined;

  constructor(root: string, filestore: Filestore) {
    const sharding = new NextToLast();
    super(root, { shardingStrategy: sharding });
    this.filestore = filestore;
    this.#root = root;
    this.#sharding = sharding;
  }

  #startWriters(): Ring {
    const sab = new SharedArrayBuffer(CONTROL_BYTES + ERROR_BYTES + SLOTS * SLOT_SIZE);
    const workers: Worker[] = [];
    for (let i = 0; i < WRITERS; i++) {
      const worker = new Worker(new URL('./block-writer.ts', import.meta.url), {
        // not `--input-type` (a `node -e` parent's), which a worker refuses
        execArgv: process.execArgv.filter((arg) => !arg.startsWith('--input-type')),
        workerData: { root: this.#root, sab, slots: SLOTS, slotSize: SLOT_SIZE },
        // a writer allocates little (a digest, a CID, a path per block): small heaps
        resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 32 },
      });
      worker.unref();
      workers.push(worker);
    }
    const ring: Ring = {
      workers,
      control: new Int32Array(sab, 0, CONTROL_BYTES / 4),
      bytes: new Uint8Array(sab),
      view: new DataView(sab),
      exited: false,
    };
    for (const worker of workers) worker.once('exit', () => (ring.exited = true));
    this.#ring = ring;
    return ring;
  }

  /** Throws the writers' first failure (once: the ring is reset for the next add). */
  #check(ring: Ring): void {
    if (Atomics.load(ring.control, ERROR) !== 1) return;
    const length = ring.view.getUint32(CONTROL_BYTES);
    const text = new TextDecoder().decode(
      ring.bytes.slice(CONTROL_BYTES + 4, CONTROL_BYTES + 4 + length),
    );
    const failure = JSON.parse(text) as { code: string; path: string; message: string };
    Atomics.store(ring.control, ERROR, 0);
    const error = Object.assign(new Error(failure.message), { code: failure.code });
    throw fromFsError(error, failure.path);
  }

  /** Waits (without blocking this thread) while `slot`'s state is `state`. */
  async #waitWhile(ring: Ring, slot: number, state: number, deadline: number): Promise<void> {
    if (ring.exited) {
      this.#ring = undefined; // the next put starts new writers
      throw new CustosError('StorageUnavailable', `the block writer of ${this.#root} stopped`);
    }
    if (performance.now() > deadline)
      throw new CustosError('StorageUnavailable', `the block writer of ${this.#root} is stuck`);
    const { async, value } = waitAsync(ring.control, STATE + slot, state, 100);
    if (async) await value;
  }

  /** Queues a block in the next slot (waiting for it to be free); returns the slot. */
  async #enqueue(block: Uint8Array, path: Uint8Array | undefined): Promise<number> {
    const ring = this.#ring ?? this.#startWriters();
    this.#check(ring);
    const deadline = performance.now() + STALL_MS;
    // several puts may be waiting: each claims its slot only once it sees it free, synchronously
    for (;;) {
      const head = Atomics.load(ring.control, HEAD);
      const slot = head % SLOTS;
      const state = Atomics.load(ring.control, STATE + slot);
      if (state === FREE) {
        const base = slotBase(slot);
        ring.view.setUint32(base, block.length);
        ring.view.setUint32(base + 4, path?.length ?? 0);
        ring.view.setUint32(base + 8, path === undefined ? 1 : 0);
        if (path !== undefined) ring.bytes.set(path, base + SLOT_HEADER);
        ring.bytes.set(block, base + SLOT_HEADER + PATH_BYTES);
        Atomics.store(ring.control, STATE + slot, QUEUED);
        Atomics.store(ring.control, HEAD, head + 1);
        Atomics.notify(ring.control, HEAD);
        return slot;
      }
      await this.#waitWhile(ring, slot, state, deadline);
    }
  }

  /** Waits until every block put so far is written; throws the first write failure. */
  async flush(): Promise<void> {
    const ring = this.#ring;
    if (ring === undefined) return;
    const deadline = performance.now() + STALL_MS;
    for (let slot = 0; slot < SLOTS; slot++) {
      for (;;) {
        const state = Atomics.load(ring.control, STATE + slot);
        if (state === FREE || state === DONE) break;
        await this.#waitWhile(ring, slot, state, deadline);
      }
    }
    this.#check(ring);
  }

  /**
   * Stores a raw leaf (CIDv1, codec raw, SHA-256), hashed by a writer thread; returns its CID —
   * the same as `CID.createV1(raw.code, await sha256.digest(block))`.
   */
  async putRawLeaf(block: Uint8Array): Promise<CID> {
    if (block.length > SLOT_DATA) {
      const cid = CID.createV1(raw.code, await sha256.digest(block));
      return this.put(cid, block);
    }
    const slot = await this.#enqueue(block, undefined);
    const ring = this.#ring;
    if (ring === undefined) throw new CustosError('StorageUnavailable', 'the block writer stopped');
    const deadline = performance.now() + STALL_MS;
    for (;;) {
      const state = Atomics.load(ring.control, STATE + slot);
      if (state === DONE) break;
      await this.#waitWhile(ring, slot, state, deadline);
    }
    const base = slotBase(slot);
    const digest = ring.bytes.slice(base + 16, base + 48);
    Atomics.store(ring.control, STATE + slot, FREE);
    Atomics.notify(ring.control, STATE + slot);
    this.#check(ring);
    return CID.createV1(raw.code, Digest.create(sha256.code, digest));
  }

  override async put(
    key: CID,
    val: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
    options?: { signal?: AbortSignal },
  ): Promise<CID> {
    if (!(val instanceof Uint8Array)) return super.put(key, val, options);
    options?.signal?.throwIfAborted();
    const { dir, file } = this.#sharding.encode(key);
    const path = this.#encoder.encode(`${dir}/${file}`);
    if (val.length <= SLOT_DATA && path.length <= PATH_BYTES) {
      await this.#enqueue(val, path);
      return key;
    }
    return this.putNow(key, val);
  }

  /** Writes a block at once on this thread (no writer threads started), temp file then rename. */
  putNow(key: CID, val: Uint8Array): CID {
    const { dir, file } = this.#sharding.encode(key);
    const folder = join(this.#root, dir);
    const tmp = join(folder, `.${file}.${process.pid}.${this.#counter++}.tmp`);
    try {
      if (!this.#dirs.has(folder)) {
        mkdirSync(folder, { recursive: true });
        this.#dirs.add(folder);
      }
      writeFileSync(tmp, val);
      renameSync(tmp, join(folder, file));
    } catch (error) {
      try {
        rmSync(tmp, { force: true });
      } catch {
        // the folder itself is the problem: report the write's error
      }
      throw fromFsError(error, folder);
    }
    return key;
  }

  override async *get(key: CID, options?: { signal?: AbortSignal }): AsyncGenerator<Uint8Array> {
    if (this.filestore.lookup(key).length > 0) {
      let bytes: Uint8Array | undefined;
      try {
        bytes = await this.filestore.read(key);
      } catch (error) {
        // the referenced file no longer holds it: a copy of the block may still be here
        if (!(await this.has(key, { ...options, copyOnly: true }))) throw error;
      }
      if (bytes !== undefined) {
        yield bytes;
        return;
      }
    }
    await this.flush();
    const parts: Uint8Array[] = [];
    for await (const part of super.get(key, options)) parts.push(part);
    const bytes = parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts);
    checkBlock(key, bytes); // nothing corrupt is handed on (bitswap included)
    yield bytes;
  }

  override async has(
    key: CID,
    options?: { signal?: AbortSignal; copyOnly?: boolean },
  ): Promise<boolean> {
    if (options?.copyOnly !== true && (await this.filestore.has(key))) return true;
    await this.flush();
    return super.has(key, options);
  }

  override async delete(key: CID, options?: { signal?: AbortSignal }): Promise<void> {
    const dropped = this.filestore.drop(key);
    if (this.#dropped) this.#dropped.push(...dropped);
    else if (dropped.length > 0) await this.filestore.persist(dropped);
    await this.flush();
    return super.delete(key, options);
  }

  override async *deleteMany(
    source: AsyncIterable<CID> | Iterable<CID>,
    options?: { signal?: AbortSignal },
  ): AsyncGenerator<CID> {
    const dropped: string[] = (this.#dropped ??= []);
    try {
      yield* super.deleteMany(source, options);
    } finally {
      if (this.#dropped === dropped) this.#dropped = undefined;
      await this.filestore.persist(dropped);
    }
  }

  override async *getAll(options?: { signal?: AbortSignal }): AsyncGenerator<Pair> {
    await this.flush();
    yield* super.getAll(options);
    const filestore = this.filestore;
    for (const cid of filestore.cids()) {
      yield {
        cid,
        bytes: (async function* () {
          yield await filestore.read(cid);
        })(),
      };
    }
  }

  override async close(): Promise<void> {
    const ring = this.#ring;
    if (ring !== undefined) {
      try {
        await this.flush();
      } finally {
        Atomics.store(ring.control, STOP, 1);
        Atomics.notify(ring.control, HEAD);
        this.#ring = undefined;
        await Promise.all(ring.workers.map((worker) => worker.terminate()));
      }
    }
    await super.close();
  }
}

export interface NodeOptions {
  /** Folder for the blockstore (`blocks/`) and datastore (`data/`: pins, peer key). */
  readonly folder: string;
  /**
   * libp2p listen addresses. Default: one TCP port on 127.0.0.1 chosen by the OS. Pass `[]` for a
   * node that does not listen at all.
   */
  readonly listen?: readonly string[];
}

type CustosHelia = Helia & HeliaWithLibp2p;

/**
 * The embedded IPFS node: Helia with a filesystem blockstore, libp2p with TCP + noise + yamux +
 * identify only, bitswap as the only way to exchange blocks. No bootstrap list, no mDNS, no UPnP,
 * no DHT, no delegated routing, no HTTP gateways: it talks to the peers it is told to dial, nothing
 * else (built with `createHeliaLight` + `withLibp2pLight` + bitswap, never `createHelia()`).
 */
export class HeliaDatasetStore implements DatasetStore {
  readonly helia: CustosHelia;
  /** The raw filesystem blockstore, bypassing the network: what "local" means. */
  readonly local: Blockstore;
  readonly #blocks: VaultBlockstore;
  readonly #pins: PinSet;

  private constructor(helia: CustosHelia, blocks: VaultBlockstore, pins: PinSet) {
    this.helia = helia;
    this.local = blocks;
    this.#blocks = blocks;
    this.#pins = pins;
  }

  /**
   * Opens (creating if needed) a node in `folder` and starts it.
   * @throws StorageUnavailable when the node cannot start (e.g. the folder cannot be written).
   */
  static async open(options: NodeOptions): Promise<HeliaDatasetStore> {
    const blocksDir = join(options.folder, 'blocks');
    const dataDir = join(options.folder, 'data');
    try {
      await mkdir(blocksDir, { recursive: true });
      await mkdir(dataDir, { recursive: true });
    } catch (error) {
      throw fromFsError(error, options.folder);
    }
    const blockstore = new VaultBlockstore(
      blocksDir,
      await Filestore.open(join(options.folder, 'filestore')),
    );
    const datastore = new FsDatastore(dataDir);
    try {
      await blockstore.open();
      await datastore.open();
      const light = createHeliaLight({ blockstore, datastore, routers: [], blockBrokers: [] });
      const networked = withLibp2pLight(light, {
        addresses: { listen: [...(options.listen ?? ['/ip4/127.0.0.1/tcp/0'])] },
        transports: [tcp()],
        connectionEncrypters: [noise()],
        streamMuxers: [yamux()],
        peerDiscovery: [],
        services: { identify: identify() },
      });
      const helia = withBitswap(networked) as CustosHelia;
      await helia.start();
      // pins recorded in Helia's datastore by an earlier version are carried over once
      const pins = await PinSet.open(join(options.folder, 'pins.json'), async function* () {
        for await (const pin of helia.pins.ls()) yield pin.cid;
      });
      return new HeliaDatasetStore(helia, blockstore, pins);
    } catch (error) {
      if (isCustosError(error)) throw error;
      throw new CustosError(
        'StorageUnavailable',
        `cannot start the IPFS node in ${options.folder}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  /** Our libp2p addresses, each ending in `/p2p/<peer id>`. */
  multiaddrs(): string[] {
    return this.helia.libp2p.getMultiaddrs().map((m) => m.toString());
  }

  peerId(): string {
    return this.helia.libp2p.peerId.toString();
  }

  /**
   * Connects to a peer (e.g. a kubo node on loopback) so bitswap can exchange blocks with it.
   * @throws StorageUnavailable when the dial fails.
   */
  async connect(address: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.helia.libp2p.dial(multiaddr(address), signal ? { signal } : {});
    } catch (error) {
      throw new CustosError(
        'StorageUnavailable',
        `cannot connect to ${address}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  async add(path: string, options: AddOptions = {}): Promise<AddResult> {
    let read = 0;
    const source = readFileChunks(path, options.signal);
    const counted = options.onProgress
      ? (async function* () {
          for await (const chunk of source) {
            read += chunk.length;
            options.onProgress?.(read);
            yield chunk;
          }
        })()
      : source;
    const cidVersion = options.cidVersion ?? 1;
    const blocks = this.#blocks;
    if (options.noCopy === true && cidVersion === 1) {
      // Leaves stay in the file (hashed here, recorded in the filestore); the few intermediate
      // nodes are written at once. No writer threads: there is nothing big to write.
      const recording = await blocks.filestore.begin(path, KUBO_CHUNK_SIZE);
      const bufferImporter: BufferImporter = async function* (file) {
        for await (const block of file.content) {
          const cid = await recording.leaf(block);
          yield () => Promise.resolve({ cid, size: BigInt(block.length), block });
        }
      };
      try {
        const result = await importBytes(
          counted,
          { cidVersion },
          { put: (cid: CID, bytes: Uint8Array) => blocks.putNow(cid, bytes) },
          { bufferImporter },
        );
        await recording.commit(result.cid);
        return result;
      } catch (error) {
        await recording.abort();
        throw error;
      }
    }
    // Blocks go straight to the filesystem blockstore (bitswap serves them from there); the add
    // returns only once every block is written.
    try {
      // CIDv1 leaves are raw blocks: the writer threads hash them (CIDv0 leaves are UnixFS nodes,
      // hashed here by the importer).
      // The importer takes its leaves in batches (reads a batch, runs it, waits for all of it):
      // each leaf starts as soon as it is read, so reading and hashing overlap.
      const bufferImporter: BufferImporter = async function* (file) {
        for await (const block of file.content) {
          const leaf = blocks
            .putRawLeaf(block)
            .then((cid) => ({ cid, size: BigInt(block.length), block }));
          leaf.catch(() => undefined); // handled when the importer awaits it
          yield () => leaf;
        }
      };
      return await importBytes(
        counted,
        { cidVersion },
        blocks,
        cidVersion === 1 ? { bufferImporter, blockWriteConcurrency: LEAVES_IN_FLIGHT } : {},
      );
    } finally {
      await this.#blocks.flush();
    }
  }

  async *cat(cid: CID, options: CatOptions = {}): AsyncIterable<Uint8Array> {
    const offline = options.offline ?? true;
    const local = this.local;
    const helia = this.helia;
    const signal = options.signal;
    // The exporter reads through this: local blocks re-hashed, remote ones (fetched by bitswap,
    // which checks them) only when asked to go online.
    const verified: Pick<Blockstore, 'get'> = {
      async *get(c: CID) {
        if (offline || (await local.has(c))) {
          yield await readBlock(local, c, signal);
          return;
        }
        for await (const chunk of helia.blockstore.get(c, signal ? { signal } : {})) yield chunk;
      },
    };
    const entry = await exporter(cid, verified, signal ? { signal } : {});
    if (entry.type !== 'file' && entry.type !== 'raw' && entry.type !== 'identity') {
      throw new CustosError('NotFound', `${cid.toString()} is not a file (${entry.type})`);
    }
    yield* entry.content(signal ? { signal } : {});
  }

  async verify(cid: CID, options: { signal?: AbortSignal } = {}): Promise<VerifyResult> {
    let blocks = 0;
    let bytes = 0;
    for await (const block of walkDag(this.local, cid, options.signal)) {
      blocks += 1;
      bytes += block.bytes.length;
    }
    return { blocks, bytes };
  }

  async pin(cid: CID, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.verify(cid, options);
    await this.#pins.add(cid);
  }

  async unpin(cid: CID, options: { signal?: AbortSignal } = {}): Promise<void> {
    options.signal?.throwIfAborted();
    await this.#pins.remove(cid);
  }

  isPinned(cid: CID): Promise<boolean> {
    return Promise.resolve(this.#pins.has(cid));
  }

  async *exportCar(cid: CID, options: { signal?: AbortSignal } = {}): AsyncIterable<Uint8Array> {
    const { writer, out } = CarWriter.create([cid]);
    const local = this.local;
    const fill = (async () => {
      try {
        for await (const block of walkDag(local, cid, options.signal)) {
          await writer.put(block);
        }
      } finally {
        await writer.close();
      }
    })();
    let failure: Error | undefined;
    fill.catch((error: unknown) => {
      failure = error instanceof Error ? error : new Error(String(error));
    });
    for await (const chunk of out) yield chunk;
    await fill.catch(() => undefined);
    if (failure !== undefined) throw failure;
  }

  async gc(options: { signal?: AbortSignal } = {}): Promise<void> {
    const kept = await this.#pins.kept(this.local, options.signal);
    const blocks = this.#blocks;
    const unkept = async function* (): AsyncGenerator<CID> {
      for await (const { cid } of blocks.getAll()) {
        options.signal?.throwIfAborted();
        if (!kept.has(blockKey(cid))) yield cid;
      }
    };
    for await (const _ of blocks.deleteMany(unkept())) {
      // one block file deleted, or one reference dropped
    }
  }

  async close(): Promise<void> {
    try {
      await this.helia.stop();
    } finally {
      await this.#blocks.close();
    }
  }
}
