import type { JsonRpcProvider } from 'ethers';
import {
  MemoryCursorStore,
  RegistryIndexer,
  checkChain,
  toChainError,
  type RegistryEvent,
} from '../chain/index.ts';
import { CustosError } from '../errors/index.ts';
import { linkRuns } from './links.ts';

/** Where to read a registry's history: a node, the registry, and the block it was deployed in. */
export interface ChainSource {
  readonly provider: JsonRpcProvider;
  readonly chainId: number;
  readonly registry: string;
  /** The registry's deployment block (the indexer starts there). Default 0. */
  readonly startBlock?: number;
  /** Blocks (the inclusion block counts as one) before an event is final. Default 1. */
  readonly confirmations?: number;
}

/** One registry event of a dataset with its block's time (unix seconds). */
export interface DatasetEvent {
  readonly event: RegistryEvent;
  readonly blockTime: number;
}

/** A dataset's final on-chain history, in chain order. */
export interface DatasetHistory {
  readonly datasetId: string;
  readonly events: readonly DatasetEvent[];
  /**
   * The RunOpened and RunClosed events of runs of other datasets linked to this dataset's runs
   * (same enclave run: see `linkRuns`), in chain order. Absent means none were looked for.
   */
  readonly linked?: readonly DatasetEvent[];
  /** The last final block read and its time: "now" for the chain. */
  readonly finalBlock: number;
  readonly finalTime: number;
}

const lower = (s: unknown): string => String(s).toLowerCase();

/**
 * Whether a registry event concerns `datasetId`. RunClosed names only the run, so it belongs to the
 * dataset when the run was opened for it (`runs` is the set of those run ids, filled in chain order).
 */
export function concernsDataset(
  event: RegistryEvent,
  datasetId: string,
  runs: Set<string>,
): boolean {
  const args = event.args as Record<string, unknown>;
  if (event.name === 'RunClosed') return runs.has(lower(args['runId']));
  if (lower(args['datasetId']) !== datasetId.toLowerCase()) return false;
  if (event.name === 'RunOpened') runs.add(lower(args['runId']));
  return true;
}

/**
 * Reads the final history of one dataset with the registry indexer (events reach us only once
 * their block has the configured confirmations), with each event's block time.
 * @throws RpcUnavailable, WrongChain, DatasetNotRegistered when the registry never registered it.
 */
export async function readDatasetHistory(
  source: ChainSource,
  datasetId: string,
): Promise<DatasetHistory> {
  await checkChain(source.provider, source.chainId);
  const indexer = new RegistryIndexer({
    provider: source.provider,
    registry: source.registry,
    startBlock: source.startBlock ?? 0,
    confirmations: source.confirmations ?? 1,
    store: new MemoryCursorStore(),
    maxRange: 50_000,
  });
  const batch = await indexer.poll();
  const runs = new Set<string>();
  const mine = batch.final.filter((e) => concernsDataset(e, datasetId, runs));
  if (!mine.some((e) => e.name === 'DatasetRegistered'))
    throw new CustosError(
      'DatasetNotRegistered',
      `dataset ${datasetId} is not registered in registry ${source.registry} on chain ${source.chainId}`,
      { details: { datasetId, registry: source.registry, chainId: source.chainId } },
    );
  // Linked runs: RunOpened.enclaveKey and RunClosed.resultHash are not indexed, so they are found
  // by scanning every run of the registry — the indexer has just read them all anyway.
  const linkedIds = new Set<string>();
  for (const list of linkRuns(batch.final, datasetId).values())
    for (const l of list) linkedIds.add(l.runId);
  const linked = batch.final.filter(
    (e) =>
      (e.name === 'RunOpened' || e.name === 'RunClosed') &&
      linkedIds.has(lower((e.args as Record<string, unknown>)['runId'])),
  );
  const times = await blockTimes(source.provider, [
    ...new Set([...mine, ...linked].map((e) => e.blockNumber).concat(batch.finalBlock)),
  ]);
  return {
    datasetId: datasetId.toLowerCase(),
    events: mine.map((event) => ({ event, blockTime: times.get(event.blockNumber) ?? 0 })),
    linked: linked.map((event) => ({ event, blockTime: times.get(event.blockNumber) ?? 0 })),
    finalBlock: batch.finalBlock,
    finalTime: times.get(batch.finalBlock) ?? 0,
  };
}

/** Block number → timestamp, fetched in parallel batches. @throws RpcUnavailable */
export async function blockTimes(
  provider: JsonRpcProvider,
  numbers: readonly number[],
): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  const step = 200;
  for (let i = 0; i < numbers.length; i += step) {
    const slice = numbers.slice(i, i + step);
    const blocks = await Promise.all(
      slice.map((n) =>
        provider.getBlock(n).catch((e: unknown) => {
          throw toChainError(e, { step: 'eth_getBlockByNumber' });
        }),
      ),
    );
    blocks.forEach((b, j) => {
      if (b) out.set(slice[j]!, b.timestamp);
    });
  }
  return out;
}
