import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hexlify, sha256, type JsonRpcProvider } from 'ethers';
import {
  buildTimeline,
  keyReleasesOf,
  linkRuns,
  readDatasetHistory,
  readJournalForAudit,
  type ChainSource,
  type DatasetEvent,
} from '../audit/index.ts';
import { toChainError } from '../chain/index.ts';
import { CustosError } from '../errors/index.ts';
import { GENESIS } from '../journal/index.ts';
import {
  BUNDLE_FORMAT,
  BUNDLE_VERSION,
  bundleArgs,
  type BundleBlock,
  type BundleEvent,
  type BundleLinkedRun,
  type BundleReceipt,
  type UsageProof,
} from './bundle.ts';
import { encodeReceipt, headerFieldsOf, proveReceipts } from './eth.ts';

export interface ExportOptions {
  /** The period (block times); open-ended when absent. */
  readonly from?: Date;
  readonly to?: Date;
  /** The key-release journal to excerpt. */
  readonly journalPath?: string;
  /** A folder of attestation evidence files named by their SHA-256 (hex, with or without 0x). */
  readonly evidenceDir?: string;
  readonly expectedRunSeconds?: number;
  readonly devnet?: boolean;
  /** The export time written into the bundle (tests). */
  readonly now?: Date;
}

const low = (v: unknown): string => String(v).toLowerCase();

async function rpc<T>(provider: JsonRpcProvider, method: string, params: unknown[]): Promise<T> {
  try {
    return (await provider.send(method, params)) as T;
  } catch (error) {
    throw toChainError(error, { step: method });
  }
}

/** The first block in [lo, hi] whose time is ≥ t (hi + 1 when none). */
async function firstBlockAtOrAfter(
  provider: JsonRpcProvider,
  lo: number,
  hi: number,
  t: number,
): Promise<number> {
  let a = lo;
  let b = hi + 1;
  while (a < b) {
    const mid = Math.floor((a + b) / 2);
    const block = await provider.getBlock(mid).catch((e: unknown) => {
      throw toChainError(e, { step: 'eth_getBlockByNumber' });
    });
    if ((block?.timestamp ?? 0) >= t) b = mid;
    else a = mid + 1;
  }
  return a;
}

/**
 * Exports the usage proof of one dataset over a period: each relevant registry event with its
 * receipt, the receipt's Merkle-Patricia proof and its block header; the runs with their enclave
 * signatures; the attestation evidence hashes (and bytes, from `evidenceDir`); the journal excerpt.
 * @throws DatasetNotRegistered, NotFound (no event in the period), RpcUnavailable, WrongChain,
 * FileSystemError.
 */
export async function exportUsageProof(
  source: ChainSource,
  datasetId: string,
  options: ExportOptions = {},
): Promise<UsageProof> {
  const provider = source.provider;
  const history = await readDatasetHistory(source, datasetId);
  const fromT = options.from ? Math.ceil(options.from.getTime() / 1000) : -Infinity;
  const toT = options.to ? Math.floor(options.to.getTime() / 1000) : Infinity;
  const inPeriod = (d: DatasetEvent): boolean => d.blockTime >= fromT && d.blockTime <= toT;
  const chosen = history.events.filter(inPeriod);
  if (chosen.length === 0)
    throw new CustosError(
      'NotFound',
      `dataset ${datasetId} has no events between ${options.from?.toISOString() ?? 'the start'} and ${options.to?.toISOString() ?? 'now'}`,
      { details: { datasetId } },
    );

  // Context: the opening of runs closed in the period, and the grants named in it.
  const chosenSet = new Set(chosen);
  const openedBy = new Map<string, DatasetEvent>();
  const grantBy = new Map<string, DatasetEvent>();
  for (const d of history.events) {
    const a = d.event.args as Record<string, unknown>;
    if (d.event.name === 'RunOpened') openedBy.set(low(a['runId']), d);
    if (d.event.name === 'GrantCreated') grantBy.set(low(a['grantId']), d);
  }
  const context = new Set<DatasetEvent>();
  for (const d of chosen) {
    const a = d.event.args as Record<string, unknown>;
    const open = d.event.name === 'RunClosed' ? openedBy.get(low(a['runId'])) : d;
    if (open && !chosenSet.has(open)) context.add(open);
    const grantId = (open?.event.args as Record<string, unknown> | undefined)?.['grantId'];
    const grant = grantId === undefined ? undefined : grantBy.get(low(grantId));
    if (grant && !chosenSet.has(grant)) context.add(grant);
  }
  const included = history.events.filter((d) => chosenSet.has(d) || context.has(d));

  // Linked context: the runs of other datasets in the same enclave run as an included run, as the
  // bundle's own events show it (the verifier recomputes the links from them).
  const links = linkRuns(
    [...included, ...(history.linked ?? [])].map((d) => d.event),
    datasetId,
  );
  const linkedPairs: { linkedTo: string; linked: NonNullable<ReturnType<typeof links.get>> }[] = [];
  for (const d of included) {
    if (d.event.name !== 'RunOpened') continue;
    const runId = low(d.event.args.runId);
    const linked = links.get(runId);
    if (linked) linkedPairs.push({ linkedTo: runId, linked });
  }
  const linkedIds = new Set(linkedPairs.flatMap((p) => p.linked.map((l) => l.runId)));
  const linkedEvents = new Set(
    (history.linked ?? []).filter((d) =>
      linkedIds.has(low((d.event.args as Record<string, unknown>)['runId'])),
    ),
  );
  const withLinked = [...included, ...linkedEvents].sort(
    (x, y) => x.event.blockNumber - y.event.blockNumber || x.event.logIndex - y.event.logIndex,
  );

  const start = source.startBlock ?? 0;
  const blockRange = {
    from: Number.isFinite(fromT)
      ? await firstBlockAtOrAfter(provider, start, history.finalBlock, fromT)
      : start,
    to: Number.isFinite(toT)
      ? (await firstBlockAtOrAfter(provider, start, history.finalBlock, toT + 1)) - 1
      : history.finalBlock,
  };

  // Blocks, receipts and proofs.
  const byBlock = new Map<number, DatasetEvent[]>();
  for (const d of withLinked) {
    const list = byBlock.get(d.event.blockNumber) ?? [];
    list.push(d);
    byBlock.set(d.event.blockNumber, list);
  }
  const blocks: BundleBlock[] = [];
  const receipts: BundleReceipt[] = [];
  const events: BundleEvent[] = [];
  for (const [number, list] of byBlock) {
    const tag = `0x${number.toString(16)}`;
    const [block, rawReceipts] = await Promise.all([
      rpc<Record<string, unknown>>(provider, 'eth_getBlockByNumber', [tag, false]),
      rpc<Record<string, unknown>[]>(provider, 'eth_getBlockReceipts', [tag]),
    ]);
    const hash = low(block['hash']);
    if (list.some((d) => d.event.blockHash.toLowerCase() !== hash))
      throw new CustosError('ReorgTooDeep', `block ${number} changed while exporting`, {
        details: { block: number },
      });
    blocks.push({ number, hash, header: headerFieldsOf(block) });
    const encoded = rawReceipts.map(encodeReceipt);
    const txIndexes = new Map(rawReceipts.map((r, i) => [low(r['transactionHash']), i]));
    const txIndexOf = (txHash: string): number => txIndexes.get(txHash.toLowerCase()) ?? -1;
    const wanted = [...new Set(list.map((d) => txIndexOf(d.event.transactionHash)))];
    const { root, proofs } = proveReceipts(encoded, wanted);
    if (root !== low(block['receiptsRoot']))
      throw new CustosError(
        'ProofInvalid',
        `the node's receipts for block ${number} do not match its receiptsRoot`,
        { details: { block: number } },
      );
    for (const i of wanted)
      receipts.push({
        block: number,
        txIndex: i,
        txHash: low(rawReceipts[i]!['transactionHash']),
        receipt: hexlify(encoded[i]!),
        proof: proofs.get(i)!,
      });
    for (const d of list) {
      const txIndex = txIndexOf(d.event.transactionHash);
      const logs = rawReceipts[txIndex]!['logs'] as { logIndex: string }[];
      events.push({
        block: number,
        txIndex,
        logIndex: logs.findIndex((l) => Number(BigInt(l.logIndex)) === d.event.logIndex),
        name: d.event.name,
        args: bundleArgs(d.event.args),
        context: context.has(d) || linkedEvents.has(d),
        ...(linkedEvents.has(d) ? { linked: true } : {}),
      });
    }
  }

  // Journal excerpt: contiguous, from the first to the last record of this dataset in the period.
  const journal = options.journalPath ? await readJournalForAudit(options.journalPath) : undefined;
  let excerpt: UsageProof['journal'] = null;
  const teeOfRun = new Map<string, 'sgx' | 'tdx' | 'simulated' | null>();
  const teeOfEvidence = new Map<string, 'sgx' | 'tdx' | 'simulated' | null>();
  if (journal) {
    const records = keyReleasesOf(journal.entries, {
      datasetId,
      chainId: source.chainId,
      registry: source.registry,
    }).filter((k) =>
      k.record.blockNumber !== null
        ? k.record.blockNumber >= blockRange.from && k.record.blockNumber <= blockRange.to
        : Date.parse(k.time) / 1000 >= fromT && Date.parse(k.time) / 1000 <= toT,
    );
    for (const k of records) {
      if (k.record.runId) teeOfRun.set(k.record.runId.toLowerCase(), k.record.teeType);
      if (k.record.evidenceHash) teeOfEvidence.set(k.record.evidenceHash, k.record.teeType);
    }
    const first = records[0];
    const last = records.at(-1);
    const all = journal.entries;
    const entries =
      first && last
        ? all.slice(
            all.findIndex((e) => e.seq === first.seq),
            all.findIndex((e) => e.seq === last.seq) + 1,
          )
        : [];
    excerpt = {
      prev: entries[0]?.prev ?? all.at(-1)?.hash ?? GENESIS,
      entries: entries.map((e) => ({ ...e })),
    };
  }

  // Runs and evidence.
  const runs: UsageProof['runs'] = [];
  const evidenceHashes = new Set<string>();
  const closedBy = new Map<string, Record<string, unknown>>();
  for (const d of included)
    if (d.event.name === 'RunClosed') closedBy.set(low(d.event.args.runId), d.event.args);
  for (const d of included) {
    const a = d.event.args as Record<string, unknown>;
    if (d.event.name !== 'RunOpened') continue;
    const runId = low(a['runId']);
    const c = closedBy.get(runId);
    runs.push({
      runId,
      grantId: low(a['grantId']),
      enclaveKey: low(a['enclaveKey']),
      resultHash: c ? low(c['resultHash']) : null,
      enclaveSignature: c ? low(c['enclaveSignature']) : null,
      teeType: teeOfRun.get(runId) ?? null,
    });
    evidenceHashes.add(low(a['evidenceHash']));
  }
  for (const h of teeOfEvidence.keys()) evidenceHashes.add(h);
  const linkedClose = new Map<string, Record<string, unknown>>();
  for (const d of linkedEvents)
    if (d.event.name === 'RunClosed') linkedClose.set(low(d.event.args.runId), d.event.args);
  const linkedRuns: BundleLinkedRun[] = linkedPairs.flatMap(({ linkedTo, linked }) =>
    linked.map((l) => ({
      linkedTo,
      runId: l.runId,
      datasetId: l.datasetId,
      grantId: l.grantId,
      enclaveKey: l.enclaveKey,
      resultHash: l.resultHash,
      enclaveSignature:
        l.resultHash === null ? null : low(linkedClose.get(l.runId)?.['enclaveSignature']),
      by: [...l.by],
    })),
  );
  const evidence: UsageProof['evidence'] = [];
  for (const hash of evidenceHashes) {
    let data: string | null = null;
    if (options.evidenceDir) {
      for (const name of [hash.slice(2), hash]) {
        const bytes = await readFile(join(options.evidenceDir, name)).catch(() => undefined);
        if (bytes && sha256(bytes) === hash) data = bytes.toString('base64');
      }
    }
    evidence.push({ hash, teeType: teeOfEvidence.get(hash) ?? null, data });
  }

  const timeline = buildTimeline(history, {
    chainId: source.chainId,
    registry: source.registry,
    ...(journal ? { journal } : {}),
    ...(options.devnet === undefined ? {} : { devnet: options.devnet }),
    ...(options.expectedRunSeconds === undefined
      ? {}
      : { expectedRunSeconds: options.expectedRunSeconds }),
  });
  const periodIds = new Set(
    timeline.entries
      .filter((e) =>
        e.blockNumber !== null
          ? e.blockNumber >= blockRange.from && e.blockNumber <= blockRange.to
          : true,
      )
      .map((e) => e.id),
  );
  const anomalies = timeline.anomalies
    .filter((a) => a.entryIds.length === 0 || a.entryIds.some((id) => periodIds.has(id)))
    .map((a) => ({ kind: a.kind, message: a.message, runId: a.runId }));

  return {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    createdAt: (options.now ?? new Date()).toISOString(),
    chainId: source.chainId,
    registry: source.registry.toLowerCase(),
    datasetId: datasetId.toLowerCase(),
    period: { from: options.from?.toISOString() ?? null, to: options.to?.toISOString() ?? null },
    blockRange,
    blocks,
    receipts,
    events,
    runs,
    ...(linkedRuns.length > 0 ? { linkedRuns } : {}),
    evidence,
    journal: excerpt,
    anomalies,
  };
}
