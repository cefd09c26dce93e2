// The embedded node's pins: the roots it keeps, with every block under them. One small JSON file
// (`<node>/pins.json`, written atomically) instead of Helia's pin records, which store one datastore
// entry per block of the DAG and read every block again to write them (bench: 6.9 s of a 9.4 s
// pin of 1 GiB). Garbage collection walks the pinned DAGs' intermediate nodes to find what is kept
// (leaves are known from their parents' links, so they are not read).
import { readFile } from 'node:fs/promises';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { z } from 'zod';
import { CustosError, fromFsError } from '../errors/index.ts';
import { writeFileAtomic } from '../files/index.ts';
import { linksOf, readBlock } from './dag.ts';
import type { Blockstore } from 'interface-blockstore';

const PinsFile = z
  .object({ version: z.literal(1), roots: z.array(z.string().min(1).max(200)).max(1_000_000) })
  .strict();

/** Blocks are stored by multihash (a CIDv0 and a CIDv1 of the same node are one block). */
export const blockKey = (cid: CID): string => Buffer.from(cid.multihash.bytes).toString('base64');

export class PinSet {
  readonly #file: string;
  readonly #roots: Map<string, CID>;

  private constructor(file: string, roots: readonly CID[]) {
    this.#file = file;
    this.#roots = new Map(roots.map((cid) => [cid.toString(), cid]));
  }

  /**
   * Reads the pin file; when there is none yet, starts from `existing` (the pins a node of an
   * earlier version recorded in Helia's datastore) and writes it.
   * @throws StorageUnavailable when the file is not a pin file (nothing is guessed or overwritten),
   * NotFound / PermissionDenied / FileSystemError when it cannot be read.
   */
  static async open(file: string, existing: () => AsyncIterable<CID>): Promise<PinSet> {
    let text: string | undefined;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw fromFsError(error, file);
    }
    if (text === undefined) {
      const roots: CID[] = [];
      for await (const cid of existing()) roots.push(cid);
      const pins = new PinSet(file, roots);
      await pins.#save();
      return pins;
    }
    let roots: CID[];
    try {
      roots = PinsFile.parse(JSON.parse(text)).roots.map((s) => CID.parse(s));
    } catch (error) {
      throw new CustosError('StorageUnavailable', `${file} is not a readable pin list`, {
        cause: error,
        details: { path: file },
      });
    }
    return new PinSet(file, roots);
  }

  async #save(): Promise<void> {
    const roots = [...this.#roots.keys()].sort();
    await writeFileAtomic(this.#file, `${JSON.stringify({ version: 1, roots }, null, 1)}\n`, 0o644);
  }

  has(cid: CID): boolean {
    return this.#roots.has(cid.toString());
  }

  roots(): CID[] {
    return [...this.#roots.values()];
  }

  /** Records a pin (the caller has checked that every block is present). */
  async add(cid: CID): Promise<void> {
    if (this.has(cid)) return;
    this.#roots.set(cid.toString(), cid);
    try {
      await this.#save();
    } catch (error) {
      this.#roots.delete(cid.toString()); // not pinned unless it is on disk
      throw error;
    }
  }

  async remove(cid: CID): Promise<void> {
    if (!this.has(cid)) return;
    this.#roots.delete(cid.toString());
    try {
      await this.#save();
    } catch (error) {
      this.#roots.set(cid.toString(), cid);
      throw error;
    }
  }

  /**
   * The keys (`blockKey`) of every block under every pinned root. Intermediate nodes are read
   * and checked; raw leaves are taken from their parents' links.
   * @throws BlockMissing / CidMismatch when a pinned DAG is damaged: then nothing can be collected
   * safely.
   */
  async kept(store: Pick<Blockstore, 'has' | 'get'>, signal?: AbortSignal): Promise<Set<string>> {
    const kept = new Set<string>();
    const stack = this.roots();
    for (let cid = stack.pop(); cid !== undefined; cid = stack.pop()) {
      signal?.throwIfAborted();
      const key = blockKey(cid);
      if (kept.has(key)) continue;
      kept.add(key);
      if (cid.code === raw.code) continue;
      stack.push(...linksOf(cid, await readBlock(store, cid, signal)));
    }
    return kept;
  }
}
