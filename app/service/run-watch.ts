/**
 * Follows the running network for the service: a health check of the RPC endpoint on every poll
 * (the network chip turns "unreachable" within one interval of the node going away, and back
 * when it answers again), and the registry's RunOpened logs from the moment watching starts
 * (the "new run" notification). Polling, because anvil and most hosted RPCs offer no push that
 * survives a reconnect; one `eth_blockNumber` plus one `eth_getLogs` per interval.
 */
import type { JsonRpcProvider } from 'ethers';
import {
  MemoryCursorStore,
  RegistryIndexer,
  toChainError,
  type RegistryEvent,
} from '../chain/index.ts';
import { CustosError } from '../errors/index.ts';

export type RunOpenedEvent = Extract<RegistryEvent, { name: 'RunOpened' }>;

export interface RegistryWatchOptions {
  readonly provider: JsonRpcProvider;
  readonly registry: string;
  /** Time between polls. Default 1000 ms. */
  readonly intervalMs?: number;
  /** After every poll: null when the node answered, else why it did not (RpcUnavailable, …). */
  readonly onHealth: (problem: CustosError | null) => void;
  readonly onRunOpened: (event: RunOpenedEvent) => void;
}

/**
 * Starts watching; returns the stop function. Never throws: every failure goes to `onHealth`.
 */
export function watchRegistry(options: RegistryWatchOptions): () => void {
  const store = new MemoryCursorStore();
  const indexer = new RegistryIndexer({
    provider: options.provider,
    registry: options.registry,
    startBlock: 0,
    confirmations: 1,
    store,
  });
  let started = false;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const tick = async (): Promise<void> => {
    try {
      if (!started) {
        // Only runs opened from now on are news; older ones are in the audit.
        const head = await options.provider.getBlockNumber();
        await store.save({ finalBlock: head, finalBlockHash: null });
        started = true;
      }
      await indexer.poll((batch) => {
        for (const e of batch.final) if (e.name === 'RunOpened' && !stopped) options.onRunOpened(e);
      });
      if (!stopped) options.onHealth(null);
    } catch (error) {
      const tagged =
        error instanceof CustosError ? error : toChainError(error, { step: 'health check' });
      if (!stopped) options.onHealth(tagged);
    }
    if (!stopped) {
      timer = setTimeout(() => void tick(), options.intervalMs ?? 1000);
      timer.unref();
    }
  };
  void tick();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
