import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { JsonRpcProvider, Log } from 'ethers';
import { z } from 'zod';
import { CustosError, fromFsError } from '../errors/index.ts';
import { toChainError } from './errors.ts';
import { decodeRegistryLog, type RegistryEvent } from './events.ts';

/** Where the indexer got to: every event up to `finalBlock` has been delivered as final. */
export interface IndexerCursor {
  readonly finalBlock: number;
  /** Hash of `finalBlock` when it was delivered: a different hash later means a reorg deeper than the confirmations. */
  readonly finalBlockHash: string | null;
}

/** Keeps the cursor between runs. */
export interface CursorStore {
  load(): Promise<IndexerCursor | undefined>;
  save(cursor: IndexerCursor): Promise<void>;
}

/** A cursor kept in memory (tests, one-shot tools). */
export class MemoryCursorStore implements CursorStore {
  #cursor: IndexerCursor | undefined;
  load(): Promise<IndexerCursor | undefined> {
    return Promise.resolve(this.#cursor);
  }
  save(cursor: IndexerCursor): Promise<void> {
    this.#cursor = cursor;
    return Promise.resolve();
  }
}

const CursorSchema = z.object({
  finalBlock: z.number().int().min(-1),
  finalBlockHash: z
    .string()
    .regex(/^0x[0-9a-f]{64}$/)
    .nullable(),
});

/** A cursor kept in a small JSON file, replaced atomically. */
export class FileCursorStore implements CursorStore {
  readonly path: string;
  constructor(path: string) {
    this.path = path;
  }

  /** @throws FileSystemError, or Internal when the file is not a cursor. */
  async load(): Promise<IndexerCursor | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw fromFsError(error, this.path);
    }
    const parsed = CursorSchema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new CustosError('Internal', `${this.path} is not an indexer cursor`);
    return parsed.data;
  }

  /** @throws DiskFull, PermissionDenied, FileSystemError */
  async save(cursor: IndexerCursor): Promise<void> {
    const tmp = `${this.path}.tmp`;
    try {
      await mkdir(dirname(this.path), { recursive: true });
      await writeFile(tmp, JSON.stringify(cursor));
      await rename(tmp, this.path);
    } catch (error) {
      throw fromFsError(error, this.path);
    }
  }
}

export interface IndexerOptions {
  readonly provider: JsonRpcProvider;
  readonly registry: string;
  /** The block the registry was deployed in. */
  readonly startBlock: number;
  /** An event is final once its block has this many confirmations (its own block counts as one). */
  readonly confirmations: number;
  readonly store: CursorStore;
  /** Most blocks per eth_getLogs request. Default 2000. */
  readonly maxRange?: number;
}

/** What one poll found. */
export interface IndexerBatch {
  /** Events that became final in this poll, in chain order; delivered once. */
  readonly final: readonly RegistryEvent[];
  /** Events above the finality line, as the chain shows them now; a reorg can drop them. */
  readonly pending: readonly RegistryEvent[];
  readonly head: number;
  readonly finalBlock: number;
}

/**
 * Follows the registry's events from its deployment block. An event is delivered as final only
 * after `confirmations` blocks; events above that line are re-read from the chain on every poll,
 * so one dropped by a reorg simply disappears and is never shown as final. The cursor is saved
 * only after the caller has handled a batch (at-least-once delivery). A reorg that replaces a block
 * already delivered as final is reported as ReorgTooDeep, never silently followed.
 */
export class RegistryIndexer {
  readonly #o: IndexerOptions;

  constructor(options: IndexerOptions) {
    if (options.confirmations < 1)
      throw new CustosError('UsageError', 'confirmations must be at least 1');
    this.#o = options;
  }

  /**
   * Reads new events; calls `handle` with the batch, then advances the cursor.
   * @throws RpcUnavailable, ReorgTooDeep, and whatever `handle` throws (the cursor then stays).
   */
  async poll(
    handle: (batch: IndexerBatch) => Promise<void> | void = () => {},
  ): Promise<IndexerBatch> {
    const { provider, store, confirmations } = this.#o;
    const cursor = (await store.load()) ?? {
      finalBlock: this.#o.startBlock - 1,
      finalBlockHash: null,
    };
    try {
      if (cursor.finalBlockHash !== null) {
        const hash = await this.#blockHash(cursor.finalBlock);
        if (hash !== cursor.finalBlockHash) {
          throw new CustosError(
            'ReorgTooDeep',
            `block ${cursor.finalBlock} was replaced after it was final`,
            {
              details: { block: cursor.finalBlock, expected: cursor.finalBlockHash, found: hash },
            },
          );
        }
      }
      const head = await provider.getBlockNumber();
      const finalHead = Math.max(cursor.finalBlock, head - confirmations + 1);
      const finalLogs = await this.#logs(cursor.finalBlock + 1, finalHead);
      const finalHash =
        finalHead > cursor.finalBlock ? await this.#blockHash(finalHead) : cursor.finalBlockHash;
      await this.#checkCanonical(finalLogs);
      const pendingLogs = await this.#logs(finalHead + 1, head);
      const batch: IndexerBatch = {
        final: decodeAll(finalLogs),
        pending: decodeAll(pendingLogs),
        head,
        finalBlock: finalHead,
      };
      await handle(batch);
      if (finalHead > cursor.finalBlock)
        await store.save({ finalBlock: finalHead, finalBlockHash: finalHash });
      return batch;
    } catch (error) {
      throw toChainError(error, { step: 'indexer' });
    }
  }

  /**
   * Polls until `signal` aborts, handing each batch with something new to `handle`.
   * @throws what poll throws, except RpcUnavailable, which is retried after `intervalMs`.
   */
  async follow(
    handle: (batch: IndexerBatch) => Promise<void> | void,
    options: {
      signal: AbortSignal;
      intervalMs?: number;
      onRpcUnavailable?: (error: CustosError) => void;
    },
  ): Promise<void> {
    let lastPending = '';
    while (!options.signal.aborted) {
      try {
        await this.poll(async (batch) => {
          const pendingKey = batch.pending.map((e) => `${e.blockHash}:${e.logIndex}`).join(',');
          if (batch.final.length > 0 || pendingKey !== lastPending) await handle(batch);
          lastPending = pendingKey;
        });
      } catch (error) {
        if (!(error instanceof CustosError) || error.tag !== 'RpcUnavailable') throw error;
        options.onRpcUnavailable?.(error);
      }
      try {
        await sleep(options.intervalMs ?? 1000, undefined, { signal: options.signal });
      } catch {
        return; // aborted
      }
    }
  }

  async #blockHash(blockNumber: number): Promise<string | null> {
    const block = await this.#o.provider.getBlock(blockNumber);
    return block?.hash ?? null;
  }

  async #logs(from: number, to: number): Promise<Log[]> {
    const out: Log[] = [];
    const step = this.#o.maxRange ?? 2000;
    for (let start = from; start <= to; start += step) {
      const end = Math.min(to, start + step - 1);
      out.push(
        ...(await this.#o.provider.getLogs({
          address: this.#o.registry,
          fromBlock: start,
          toBlock: end,
        })),
      );
    }
    return out;
  }

  /** Each final log must sit in the block now canonical at its height (a reorg mid-read would break this). */
  async #checkCanonical(logs: readonly Log[]): Promise<void> {
    const seen = new Map<number, string>();
    for (const log of logs) {
      if (!seen.has(log.blockNumber))
        seen.set(log.blockNumber, (await this.#blockHash(log.blockNumber)) ?? '');
      if (seen.get(log.blockNumber) !== log.blockHash) {
        throw new CustosError(
          'ReorgTooDeep',
          `block ${log.blockNumber} changed while it was being indexed as final`,
          {
            details: { block: log.blockNumber },
          },
        );
      }
    }
  }
}

function decodeAll(logs: readonly Log[]): RegistryEvent[] {
  return logs.map(decodeRegistryLog).filter((e): e is RegistryEvent => e !== undefined);
}
