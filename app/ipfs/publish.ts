import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CarWriter } from '@ipld/car';
import type { Blockstore } from 'interface-blockstore';
import type { CID } from 'multiformats/cid';
import { z } from 'zod';
import { CustosError, fromFsError } from '../errors/index.ts';
import { walkDag, type Block } from './dag.ts';
import type { KuboRpcBackend } from './kubo-rpc.ts';

/**
 * Resumable publish of a dataset to a kubo node.
 *
 * The DAG is sent in batches (CARs of `batchBlocks` blocks, depth-first order, imported without
 * pinning). After each batch kubo confirmed, a journal entry is written (atomically) so that a
 * publish killed at any point (kill -9, power cut, kubo down) restarts after the last confirmed
 * batch instead of re-sending everything. Only at the end is the root pinned — `pin/add` with
 * `offline=true`, which kubo refuses unless every block is already in its store — and then
 * `pin/ls` must list it. If kubo lost blocks in between (its GC collects unpinned blocks), the
 * offline pin fails, and the publish falls back to asking kubo block by block and re-sending only
 * the missing ones. A CID is never reported published while any block is missing.
 */

const JournalSchema = z.object({
  version: z.literal(1),
  root: z.string(),
  /** kubo's peer id: the same node even if its API address changes. */
  peer: z.string(),
  batchBlocks: z.number().int().positive(),
  /** Batches kubo confirmed, counted from the start of the depth-first walk. */
  batchesDone: z.number().int().nonnegative(),
});
type Journal = z.infer<typeof JournalSchema>;

export interface PublishProgress {
  readonly batch: number;
  readonly blocksSent: number;
  readonly blocksSkipped: number;
  readonly bytesSent: number;
}

export interface PublishResult extends PublishProgress {
  /** True when the walk had to ask kubo block by block (it had lost blocks it once confirmed). */
  readonly recheckedBlocks: boolean;
}

export interface PublishOptions {
  /** Folder for the journals (e.g. `<vault>/ipfs/publish`). */
  readonly journalDir: string;
  /** Blocks per CAR batch. Default 64 (16 MiB of 256 KiB leaves). */
  readonly batchBlocks?: number;
  readonly signal?: AbortSignal;
  /** Called after each batch kubo confirmed (and the journal recorded). */
  readonly onBatch?: (progress: PublishProgress) => void | Promise<void>;
}

function journalPath(dir: string, root: CID, peer: string): string {
  const key = createHash('sha256').update(`${root.toString()}\n${peer}`).digest('hex').slice(0, 32);
  return join(dir, `${key}.json`);
}

function readJournal(
  path: string,
  root: CID,
  peer: string,
  batchBlocks: number,
): Journal | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined; // torn or foreign file: start over
  }
  const parsed = JournalSchema.safeParse(json);
  // A journal for another root, node or batch size is ignored (it cannot be trusted for this one).
  if (!parsed.success) return undefined;
  const j = parsed.data;
  return j.root === root.toString() && j.peer === peer && j.batchBlocks === batchBlocks
    ? j
    : undefined;
}

function writeJournal(path: string, journal: Journal): void {
  const tmp = `${path}.tmp`;
  try {
    writeFileSync(tmp, `${JSON.stringify(journal)}\n`);
    renameSync(tmp, path);
  } catch (error) {
    throw fromFsError(error, path);
  }
}

async function* carOf(root: CID, blocks: readonly Block[]): AsyncGenerator<Uint8Array> {
  const { writer, out } = CarWriter.create([root]);
  const fill = (async () => {
    for (const block of blocks) await writer.put(block);
    await writer.close();
  })();
  for await (const chunk of out) yield chunk;
  await fill;
}

/**
 * Publishes `root` from the local blockstore to kubo, resuming a previous attempt if its journal
 * is there, and returns once kubo lists the root as recursively pinned.
 * @throws BlockMissing / CidMismatch (local copy incomplete or corrupt — nothing is pinned),
 *   StorageUnavailable (kubo down: run again later to resume), PinFailed, Cancelled.
 */
export async function publishToKubo(
  local: Pick<Blockstore, 'has' | 'get'>,
  kubo: KuboRpcBackend,
  root: CID,
  options: PublishOptions,
): Promise<PublishResult> {
  const batchBlocks = options.batchBlocks ?? 64;
  const signal = options.signal;
  try {
    mkdirSync(options.journalDir, { recursive: true });
  } catch (error) {
    throw fromFsError(error, options.journalDir);
  }
  const { id: peer } = await kubo.id(signal);
  const path = journalPath(options.journalDir, root, peer);
  const journal: Journal = readJournal(path, root, peer, batchBlocks) ?? {
    version: 1,
    root: root.toString(),
    peer,
    batchBlocks,
    batchesDone: 0,
  };
  let blocksSent = 0;
  let blocksSkipped = 0;
  let bytesSent = 0;
  let batch = 0;

  const send = async (blocks: Block[]): Promise<void> => {
    await kubo.importCar(carOf(root, blocks), root, signal, { pinRoots: false });
    blocksSent += blocks.length;
    bytesSent += blocks.reduce((n, b) => n + b.bytes.length, 0);
  };

  if (await kubo.isPinned(root, signal)) {
    rmSync(path, { force: true });
    return { batch: 0, blocksSent: 0, blocksSkipped: 0, bytesSent: 0, recheckedBlocks: false };
  }

  // Pass 1: batches in walk order, skipping those the journal says kubo confirmed. The walk still
  // reads and re-hashes every local block, so a corrupt local copy stops the publish here.
  let pending: Block[] = [];
  for await (const block of walkDag(local, root, signal)) {
    pending.push(block);
    if (pending.length < batchBlocks) continue;
    if (batch < journal.batchesDone) blocksSkipped += pending.length;
    else {
      await send(pending);
      journal.batchesDone = batch + 1;
      writeJournal(path, journal);
      await options.onBatch?.({ batch, blocksSent, blocksSkipped, bytesSent });
    }
    batch += 1;
    pending = [];
  }
  if (pending.length > 0) {
    if (batch < journal.batchesDone) blocksSkipped += pending.length;
    else {
      await send(pending);
      journal.batchesDone = batch + 1;
      writeJournal(path, journal);
      await options.onBatch?.({ batch, blocksSent, blocksSkipped, bytesSent });
    }
  }

  // Pinning offline is the completeness check: kubo refuses if any block is missing.
  let recheckedBlocks = false;
  try {
    await kubo.pin(root, { offline: true, ...(signal ? { signal } : {}) });
  } catch (error) {
    if (!(error instanceof CustosError && error.tag === 'PinFailed')) throw error;
    // Pass 2: kubo lost something it had confirmed. Ask block by block, send what is missing.
    recheckedBlocks = true;
    pending = [];
    for await (const block of walkDag(local, root, signal)) {
      if (await kubo.hasBlock(block.cid, signal)) continue;
      pending.push(block);
      if (pending.length >= batchBlocks) {
        await send(pending);
        pending = [];
      }
    }
    if (pending.length > 0) await send(pending);
    await kubo.pin(root, { offline: true, ...(signal ? { signal } : {}) });
  }
  if (!(await kubo.isPinned(root, signal))) {
    throw new CustosError('PinFailed', `kubo does not list ${root.toString()} as pinned`, {
      details: { cid: root.toString() },
    });
  }
  rmSync(path, { force: true });
  return { batch, blocksSent, blocksSkipped, bytesSent, recheckedBlocks };
}
