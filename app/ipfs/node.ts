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
import type { CID } from 'multiformats/cid';
import { CustosError, fromFsError, isCustosError } from '../errors/index.ts';
import { importBytes, readFileChunks } from './cid.ts';
import { readBlock, walkDag } from './dag.ts';
import type { AddOptions, AddResult, CatOptions, DatasetStore, VerifyResult } from './store.ts';

/** Where a vault keeps its IPFS node: `<vault>/ipfs` (blocks are ciphertext; no unlock needed). */
export function vaultIpfsFolder(vaultDir: string): string {
  return join(vaultDir, 'ipfs');
}

// The ring shared with the block-writing thread (block-writer.ts; the constants must match).
// Control words: HEAD = blocks queued, TAIL = blocks written, STOP = no more blocks, ERROR = the
// writer failed (its errno code and folder as JSON after the control words). Each slot: data
// length, path length, the path relative to the blockstore root (≤ 248 bytes), the block.
const HEAD = 0;
const TAIL = 1;
const STOP = 2;
const ERROR = 3;
const CONTROL_BYTES = 64;
const ERROR_BYTES = 1024;
const SLOT_HEADER = 8;
const PATH_BYTES = 248;
/** Room for a 256 KiB leaf plus UnixFS framing (CIDv0 leaves), and for any intermediate node. */
const SLOT_DATA = 262_144 + 4096;
const SLOTS = 16;
/** How long a full ring may stay full before the writer is declared stuck. */
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
  readonly worker: Worker;
  readonly control: Int32Array;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  /** Set when the writer thread ended on its own (it should not: it reports failures instead). */
  exited: boolean;
}

/**
 * blockstore-fs, same on-disk layout (NextToLast sharding, one file per block, written to a temp
 * name then renamed), with writes behind: `put` copies the block into a ring of 16 slots shared
 * with a worker thread, which creates the files on the other core while this thread reads and
 * hashes (bench/ipfs: the file writes were half of an add's time on one thread). `put` returns
 * once the block is queued; `flush()` waits until every queued block is on disk (in the page
 * cache, like blockstore-fs: no fsync) and throws the first write failure. `get`, `has`,
 * `delete`, `getAll` flush first, so a reader never misses a block that was put. Blocks larger
 * than a slot are written directly. Reads, deletes and GC are blockstore-fs's own.
 */
export class VaultBlockstore extends FsBlockstore {
  readonly #root: string;
  readonly #sharding: ShardingStrategy;
  readonly #dirs = new Set<string>();
  readonly #encoder = new TextEncoder();
  #counter = 0;
  #ring: Ring | undefined;

  constructor(root: string) {
    const sharding = new NextToLast();
    super(root, { shardingStrategy: sharding });
    this.#root = root;
    this.#sharding = sharding;
  }

  #startWriter(): Ring {
    const sab = new SharedArrayBuffer(
      CONTROL_BYTES + ERROR_BYTES + SLOTS * (SLOT_HEADER + PATH_BYTES + SLOT_DATA),
    );
    const worker = new Worker(new URL('./block-writer.ts', import.meta.url), {
      // not `--input-type` (a `node -e` parent's), which a worker refuses
      execArgv: process.execArgv.filter((arg) => !arg.startsWith('--input-type')),
      workerData: {
        root: this.#root,
        sab,
        slots: SLOTS,
        slotSize: SLOT_HEADER + PATH_BYTES + SLOT_DATA,
      },
    });
    worker.unref();
    this.#ring = {
      worker,
      control: new Int32Array(sab, 0, CONTROL_BYTES / 4),
      bytes: new Uint8Array(sab),
      view: new DataView(sab),
      exited: false,
    };
    const ring = this.#ring;
    worker.once('exit', () => (ring.exited = true));
    return ring;
  }

  /** Throws the writer's first failure (once: the ring is reset for the next add). */
  #check(): void {
    const ring = this.#ring;
    if (ring === undefined || Atomics.load(ring.control, ERROR) === 0) return;
    const length = ring.view.getUint32(CONTROL_BYTES);
    const text = new TextDecoder().decode(
      ring.bytes.slice(CONTROL_BYTES + 4, CONTROL_BYTES + 4 + length),
    );
    const failure = JSON.parse(text) as { code: string; path: string; message: string };
    Atomics.store(ring.control, ERROR, 0);
    const error = Object.assign(new Error(failure.message), { code: failure.code });
    throw fromFsError(error, failure.path);
  }

  /**
   * Waits until at most `inUse` slots are in use: first blocking this thread (the writer frees a
   * slot within a fraction of a millisecond), then, if it takes longer, without blocking, so that
   * the writer's exit is noticed.
   */
  async #waitFor(ring: Ring, inUse: number): Promise<void> {
    const deadline = performance.now() + STALL_MS;
    let tail = Atomics.load(ring.control, TAIL);
    if (Atomics.load(ring.control, HEAD) - tail <= inUse) return;
    Atomics.wait(ring.control, TAIL, tail, 50);
    for (;;) {
      tail = Atomics.load(ring.control, TAIL);
      if (Atomics.load(ring.control, HEAD) - tail <= inUse) return;
      if (ring.exited) {
        this.#ring = undefined; // the next put starts a new writer
        throw new CustosError('StorageUnavailable', `the block writer of ${this.#root} stopped`);
      }
      if (performance.now() > deadline)
        throw new CustosError('StorageUnavailable', `the block writer of ${this.#root} is stuck`);
      const { async, value } = waitAsync(ring.control, TAIL, tail, 100);
      if (async) await value;
    }
  }

  /** Waits until every block put so far is written; throws the first write failure. */
  async flush(): Promise<void> {
    const ring = this.#ring;
    if (ring === undefined) return;
    await this.#waitFor(ring, 0);
    this.#check();
  }
  override async put(
    key: CID,
    val: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
    options?: { signal?: AbortSignal },
  ): Promise<CID> {
    if (!(val instanceof Uint8Array)) return super.put(key, val, options);
    options?.signal?.throwIfAborted();
    const { dir, file } = this.#sharding.encode(key);
    const relative = `${dir}/${file}`;
    const path = this.#encoder.encode(relative);
    if (val.length <= SLOT_DATA && path.length <= PATH_BYTES) {
      const ring = this.#ring ?? this.#startWriter();
      this.#check();
      // several puts may be waiting for room: each claims its slot only once it sees one free
      while (Atomics.load(ring.control, HEAD) - Atomics.load(ring.control, TAIL) >= SLOTS)
        await this.#waitFor(ring, SLOTS - 1);
      const head = Atomics.load(ring.control, HEAD);
      const base =
        CONTROL_BYTES + ERROR_BYTES + (head % SLOTS) * (SLOT_HEADER + PATH_BYTES + SLOT_DATA);
      ring.view.setUint32(base, val.length);
      ring.view.setUint32(base + 4, path.length);
      ring.bytes.set(path, base + SLOT_HEADER);
      ring.bytes.set(val, base + SLOT_HEADER + PATH_BYTES);
      Atomics.store(ring.control, HEAD, head + 1);
      Atomics.notify(ring.control, HEAD);
      return Promise.resolve(key);
    }
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
    return Promise.resolve(key);
  }

  override async *get(key: CID, options?: { signal?: AbortSignal }): AsyncGenerator<Uint8Array> {
    await this.flush();
    yield* super.get(key, options);
  }

  override async has(key: CID, options?: { signal?: AbortSignal }): Promise<boolean> {
    await this.flush();
    return super.has(key, options);
  }

  override async delete(key: CID, options?: { signal?: AbortSignal }): Promise<void> {
    await this.flush();
    return super.delete(key, options);
  }

  override async *getAll(options?: { signal?: AbortSignal }): AsyncGenerator<Pair> {
    await this.flush();
    yield* super.getAll(options);
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
        await ring.worker.terminate();
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

  private constructor(helia: CustosHelia, blocks: VaultBlockstore) {
    this.helia = helia;
    this.local = blocks;
    this.#blocks = blocks;
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
    const blockstore = new VaultBlockstore(blocksDir);
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
      return new HeliaDatasetStore(helia, blockstore);
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
    // Blocks go straight to the filesystem blockstore (bitswap serves them from there); the add
    // returns only once every block is written.
    try {
      return await importBytes(counted, { cidVersion: options.cidVersion ?? 1 }, this.#blocks);
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
    if (await this.isPinned(cid, options)) return;
    const opts = { ...(options.signal ? { signal: options.signal } : {}), offline: true };
    for await (const _ of this.helia.pins.add(cid, opts)) {
      // walks the DAG, recording one pin reference per block
    }
  }

  async unpin(cid: CID, options: { signal?: AbortSignal } = {}): Promise<void> {
    if (!(await this.isPinned(cid, options))) return;
    for await (const _ of this.helia.pins.rm(
      cid,
      options.signal ? { signal: options.signal } : {},
    )) {
      // drops the pin reference of every block
    }
  }

  async isPinned(cid: CID, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    return this.helia.pins.isPinned(cid, options.signal ? { signal: options.signal } : {});
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
    await this.helia.gc(options.signal ? { signal: options.signal } : {});
  }

  async close(): Promise<void> {
    try {
      await this.helia.stop();
    } finally {
      await this.#blocks.close();
    }
  }
}
