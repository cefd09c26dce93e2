import { getBytes, hexlify, sha256, verifyTypedData, type JsonRpcProvider } from 'ethers';
import { z } from 'zod';
import { concernsDataset, linkRuns } from '../audit/index.ts';
import { custosDomain, decodeRegistryLog, typedData, type RegistryEvent } from '../chain/index.ts';
import { CustosError } from '../errors/index.ts';
import { KeyReleaseRecordSchema, verifyChain } from '../journal/index.ts';
import { UsageProofSchema, bundleArgs, type BundleEvent, type UsageProof } from './bundle.ts';
import {
  NUMBER_INDEX,
  RECEIPTS_ROOT_INDEX,
  decodeReceiptLogs,
  headerHash,
  headerQuantity,
  verifyReceiptProof,
  type ReceiptLog,
} from './eth.ts';

/** The checks, in the order they run. */
export const CHECKS = [
  'format',
  'chain',
  'header',
  'block-anchor',
  'receipt-proof',
  'log',
  'order',
  'completeness',
  'enclave-signature',
  'linked-run',
  'evidence',
  'journal-chain',
  'journal-match',
] as const;
export type CheckName = (typeof CHECKS)[number];

/** Where a failure is: the event (block, tx index, log index in its receipt, name) when there is one. */
export interface FailedEvent {
  readonly block: number;
  readonly txIndex: number;
  readonly logIndex: number;
  readonly name: string;
}

export interface VerifyFailure {
  readonly check: CheckName;
  /** What failed, in words: "block 12", "receipt 12/0", "run 0x…", "journal entry 3". */
  readonly subject: string;
  readonly event: FailedEvent | null;
  readonly reason: string;
}

export interface VerifyReport {
  readonly ok: boolean;
  /** Registry events in the bundle (each one checked). */
  readonly events: number;
  /** How each check went: how many items it looked at and how many failed. */
  readonly checks: Record<CheckName, { checked: number; failed: number }>;
  readonly failures: readonly VerifyFailure[];
  /** What the block hashes were anchored to. */
  readonly anchor: 'rpc' | 'trusted-blocks' | 'none';
  /**
   * What the bundle claims to cover (null when it did not parse). Completeness is checked within
   * this block range only: compare it with the period you asked for.
   */
  readonly scope: {
    readonly chainId: number;
    readonly registry: string;
    readonly datasetId: string;
    readonly period: { readonly from: string | null; readonly to: string | null };
    readonly blockRange: { readonly from: number; readonly to: number };
  } | null;
}

/** Block hashes a user trusts, e.g. read from their own node or a block explorer. */
export const TrustedBlocksSchema = z.strictObject({
  chainId: z.number().int().positive(),
  blocks: z.record(z.string().regex(/^\d+$/), z.string().regex(/^0x[0-9a-fA-F]{64}$/)),
});
export type TrustedBlocks = z.infer<typeof TrustedBlocksSchema>;

export interface VerifyOptions {
  /** A node to ask for the block hashes (and the chain id, and the complete list of events). */
  readonly provider?: JsonRpcProvider;
  readonly trustedBlocks?: TrustedBlocks;
}

const key = (block: number, txIndex: number): string => `${block}/${txIndex}`;
const low = (v: unknown): string => String(v).toLowerCase();

/**
 * Verifies a usage-proof bundle from its own bytes: recomputes every block hash from its header,
 * every receipt from its Merkle-Patricia proof against the header's receiptsRoot, decodes every
 * log and compares it with the bundle's event, checks the enclave signatures against the enclave
 * keys of the runs, the evidence hashes, the journal's hash chain and its agreement with the chain.
 * Block hashes are anchored to `provider` (online) or to `trustedBlocks` (offline); with neither,
 * the `block-anchor` check fails. Never throws for a bad bundle: every problem is a failure.
 * @throws RpcUnavailable when the node cannot be reached at all.
 */
export async function verifyUsageProof(
  input: unknown,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const failures: VerifyFailure[] = [];
  const checks = Object.fromEntries(CHECKS.map((c) => [c, { checked: 0, failed: 0 }])) as Record<
    CheckName,
    { checked: number; failed: number }
  >;
  const anchor: VerifyReport['anchor'] = options.provider
    ? 'rpc'
    : options.trustedBlocks
      ? 'trusted-blocks'
      : 'none';
  const fail = (
    check: CheckName,
    subject: string,
    reason: string,
    event: FailedEvent | null = null,
  ): void => {
    checks[check].failed += 1;
    failures.push({ check, subject, event, reason });
  };
  const tick = (check: CheckName): void => {
    checks[check].checked += 1;
  };
  let scope: VerifyReport['scope'] = null;
  const done = (events: number): VerifyReport => ({
    ok: failures.length === 0,
    events,
    checks,
    failures,
    anchor,
    scope,
  });

  tick('format');
  const parsed = UsageProofSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    fail(
      'format',
      'bundle',
      `not a usage-proof bundle v1: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim(),
    );
    return done(0);
  }
  const bundle: UsageProof = parsed.data;
  scope = {
    chainId: bundle.chainId,
    registry: bundle.registry,
    datasetId: bundle.datasetId,
    period: bundle.period,
    blockRange: bundle.blockRange,
  };
  const eventOf = (e: BundleEvent): FailedEvent => ({
    block: e.block,
    txIndex: e.txIndex,
    logIndex: e.logIndex,
    name: e.name,
  });

  // chain
  if (options.provider) {
    tick('chain');
    const reported = Number(BigInt(await rpcSend<string>(options.provider, 'eth_chainId', [])));
    if (reported !== bundle.chainId)
      fail(
        'chain',
        'bundle',
        `the bundle is for chain ${bundle.chainId}, the node is on chain ${reported}`,
      );
  }
  if (options.trustedBlocks) {
    tick('chain');
    if (options.trustedBlocks.chainId !== bundle.chainId)
      fail(
        'chain',
        'bundle',
        `the bundle is for chain ${bundle.chainId}, the trusted blocks are of chain ${options.trustedBlocks.chainId}`,
      );
  }

  // headers and anchors
  const receiptsRoot = new Map<number, string>();
  for (const b of bundle.blocks) {
    tick('header');
    const subject = `block ${b.number}`;
    let computed: string;
    try {
      computed = headerHash(b.header);
    } catch {
      fail('header', subject, 'the header fields are not RLP-encodable');
      continue;
    }
    if (computed !== b.hash) {
      fail(
        'header',
        subject,
        `keccak256(rlp(header)) is ${computed}, not the block hash ${b.hash}`,
      );
      continue;
    }
    if (headerQuantity(b.header, NUMBER_INDEX) !== b.number) {
      fail('header', subject, `the header's number is ${headerQuantity(b.header, NUMBER_INDEX)}`);
      continue;
    }
    // The receipts are checked against a header whose hash is right even when the anchor fails,
    // so that an unanchored or disputed block is one failure, not one per event.
    receiptsRoot.set(b.number, b.header[RECEIPTS_ROOT_INDEX]!);
    if (anchor === 'none') continue; // one failure for the whole bundle, below
    tick('block-anchor');
    const trusted = await trustedHash(b.number, options);
    if (trusted === undefined)
      fail('block-anchor', subject, 'the trusted source does not know this block');
    else if (trusted !== b.hash)
      fail(
        'block-anchor',
        subject,
        `the ${anchor === 'rpc' ? 'node' : 'trusted-blocks file'} has ${trusted} for block ${b.number}, the bundle has ${b.hash}`,
      );
  }

  if (anchor === 'none') {
    tick('block-anchor');
    fail(
      'block-anchor',
      'bundle',
      'no --rpc or --trusted-blocks: the block hashes are not anchored to anything you trust, so nothing in the bundle is proven',
    );
  }

  // receipt proofs
  const logsOf = new Map<string, ReceiptLog[]>();
  for (const r of bundle.receipts) {
    tick('receipt-proof');
    const subject = `receipt ${key(r.block, r.txIndex)}`;
    const root = receiptsRoot.get(r.block);
    if (root === undefined) {
      fail('receipt-proof', subject, `block ${r.block} is not in the bundle or did not verify`);
      continue;
    }
    try {
      const proven = await verifyReceiptProof(root, r.txIndex, r.proof);
      if (hexlify(proven) !== r.receipt) {
        fail('receipt-proof', subject, 'the receipt differs from the one the proof leads to');
        continue;
      }
      logsOf.set(key(r.block, r.txIndex), decodeReceiptLogs(getBytes(r.receipt)));
    } catch (error) {
      fail('receipt-proof', subject, error instanceof CustosError ? error.message : String(error));
    }
  }

  // logs: each event is a log of a proven receipt, emitted by the registry, decoding to the same
  const decoded = new Map<BundleEvent, RegistryEvent>();
  /** Events of linked runs of other datasets: proven like the others, checked by `linked-run`. */
  const linkedDecoded = new Map<BundleEvent, RegistryEvent>();
  const runsOfDataset = new Set<string>();
  for (const e of bundle.events) {
    tick('log');
    const subject = `event ${e.name} in ${key(e.block, e.txIndex)}#${e.logIndex}`;
    const logs = logsOf.get(key(e.block, e.txIndex));
    if (!logs) {
      fail('log', subject, 'its receipt is not in the bundle or did not verify', eventOf(e));
      continue;
    }
    const log = logs[e.logIndex];
    if (!log) {
      fail('log', subject, `the receipt has no log ${e.logIndex}`, eventOf(e));
      continue;
    }
    if (log.address.toLowerCase() !== bundle.registry) {
      fail('log', subject, `the log was emitted by ${log.address}, not the registry`, eventOf(e));
      continue;
    }
    const event = decodeRegistryLog({
      topics: log.topics,
      data: log.data,
      blockNumber: e.block,
      blockHash: '',
      transactionHash: '',
      index: e.logIndex,
    });
    if (!event) {
      fail('log', subject, 'the log is not a registry event', eventOf(e));
      continue;
    }
    const args = bundleArgs(event.args);
    if (event.name !== e.name || JSON.stringify(args) !== JSON.stringify(e.args)) {
      const field = Object.keys(args).find(
        (k) => JSON.stringify(args[k]) !== JSON.stringify(e.args[k]),
      );
      fail(
        'log',
        subject,
        event.name !== e.name
          ? `the log is ${event.name}`
          : `field ${field ?? '?'} differs from the log (${JSON.stringify(args[field ?? ''])})`,
        eventOf(e),
      );
      continue;
    }
    if (e.linked === true) {
      if (event.name !== 'RunOpened' && event.name !== 'RunClosed') {
        fail('log', subject, 'a linked event must be a RunOpened or RunClosed', eventOf(e));
        continue;
      }
      linkedDecoded.set(e, event);
      continue;
    }
    // a RunClosed whose opening is missing is the completeness check's to report
    if (event.name !== 'RunClosed' && !concernsDataset(event, bundle.datasetId, runsOfDataset)) {
      fail('log', subject, `the event is not about dataset ${bundle.datasetId}`, eventOf(e));
      continue;
    }
    decoded.set(e, event);
  }

  // order: chain order, no duplicates, in-period events inside the block range
  let previous: BundleEvent | undefined;
  for (const e of bundle.events) {
    tick('order');
    const subject = `event ${e.name} in ${key(e.block, e.txIndex)}#${e.logIndex}`;
    if (previous && compare(previous, e) >= 0)
      fail(
        'order',
        subject,
        `it comes after ${previous.name} in ${key(previous.block, previous.txIndex)}#${previous.logIndex} in the bundle, but not on the chain`,
        eventOf(e),
      );
    if (!e.context && (e.block < bundle.blockRange.from || e.block > bundle.blockRange.to))
      fail(
        'order',
        subject,
        `block ${e.block} is outside the bundle's range ${bundle.blockRange.from}–${bundle.blockRange.to}`,
        eventOf(e),
      );
    previous = e;
  }

  // completeness: offline, what one event implies about another; online, the node's full list
  const openedRuns = new Map<string, RegistryEvent>();
  const openedAt = new Map<string, BundleEvent>();
  for (const [e, ev] of decoded) if (ev.name === 'RunOpened') openedAt.set(low(ev.args.runId), e);
  const receiptAt = new Map(bundle.receipts.map((r) => [key(r.block, r.txIndex), r]));
  for (const ev of decoded.values())
    if (ev.name === 'RunOpened') openedRuns.set(low(ev.args.runId), ev);
  for (const [e, ev] of decoded) {
    if (ev.name !== 'RunClosed') continue;
    tick('completeness');
    if (!openedRuns.has(low(ev.args.runId)))
      fail(
        'completeness',
        `run ${low(ev.args.runId)}`,
        'the run closes but its opening is not in the bundle',
        eventOf(e),
      );
  }
  sequenceGaps(bundle, decoded, tick, fail);
  if (options.provider)
    await onlineCompleteness(bundle, decoded, logsOf, options.provider, tick, fail);

  // enclave signatures: recovered from the RunResult digest, compared with the run's enclave key
  const closedRuns = new Map<string, RegistryEvent>();
  for (const ev of decoded.values())
    if (ev.name === 'RunClosed') closedRuns.set(low(ev.args.runId), ev);
  const domain = custosDomain(bundle.chainId, bundle.registry);
  for (const run of bundle.runs) {
    tick('enclave-signature');
    const subject = `run ${run.runId}`;
    const opened = openedRuns.get(run.runId);
    const closed = closedRuns.get(run.runId);
    if (!opened || opened.name !== 'RunOpened') {
      fail('enclave-signature', subject, 'the run’s RunOpened event is not proven in the bundle');
      continue;
    }
    if (run.enclaveSignature === null || run.resultHash === null) {
      if (closed)
        fail(
          'enclave-signature',
          subject,
          `the bundle says the run is open, but it closed in block ${closed.blockNumber}`,
        );
    } else if (!closed || closed.name !== 'RunClosed') {
      fail('enclave-signature', subject, 'the run’s RunClosed event is not proven in the bundle');
      continue;
    }
    if (low(opened.args.grantId) !== run.grantId) {
      fail(
        'enclave-signature',
        subject,
        `the run was opened under grant ${low(opened.args.grantId)}, not ${run.grantId}`,
      );
      continue;
    }
    if (low(opened.args.enclaveKey) !== run.enclaveKey) {
      fail(
        'enclave-signature',
        subject,
        `the run's enclave key on-chain is ${low(opened.args.enclaveKey)}, not ${run.enclaveKey}`,
      );
      continue;
    }
    if (run.enclaveSignature === null || run.resultHash === null || closed?.name !== 'RunClosed')
      continue;
    const signer = recoverRunResult(domain, run.runId, run.resultHash, run.enclaveSignature);
    if (signer === null) {
      fail('enclave-signature', subject, 'the signature is malformed');
      continue;
    }
    if (signer.toLowerCase() !== run.enclaveKey)
      fail(
        'enclave-signature',
        subject,
        `the result hash was signed by ${signer}, not the run's enclave key ${run.enclaveKey}`,
      );
    else if (
      low(closed.args.enclaveSignature) !== run.enclaveSignature ||
      low(closed.args.resultHash) !== run.resultHash
    )
      fail(
        'enclave-signature',
        subject,
        'the signature or result hash differs from the RunClosed event',
      );
  }

  const listed = new Set(bundle.runs.map((r) => r.runId));
  for (const [e, ev] of decoded)
    if (ev.name === 'RunOpened' && !listed.has(low(ev.args.runId))) {
      tick('enclave-signature');
      fail(
        'enclave-signature',
        `run ${low(ev.args.runId)}`,
        'the run is not in the bundle’s runs',
        eventOf(e),
      );
    }

  checkLinkedRuns(bundle, decoded, linkedDecoded, domain, tick, fail);

  // evidence: the bytes hash to their hash; the hash is the one a run recorded
  const recorded = new Set(
    [...openedRuns.values()].map((ev) =>
      ev.name === 'RunOpened' ? low(ev.args.evidenceHash) : '',
    ),
  );
  for (const ev of bundle.evidence) {
    tick('evidence');
    const subject = `evidence ${ev.hash}`;
    if (ev.data !== null && sha256(Buffer.from(ev.data, 'base64')) !== ev.hash)
      fail('evidence', subject, 'the evidence bytes do not hash to this hash');
    else if (
      !recorded.has(ev.hash) &&
      !bundle.journal?.entries.some(
        (j) => low((j.record as Record<string, unknown> | null)?.['evidenceHash']) === ev.hash,
      )
    )
      fail('evidence', subject, 'no run or journal record in the bundle names this evidence');
  }

  // journal
  if (bundle.journal) {
    tick('journal-chain');
    try {
      verifyChain(bundle.journal.entries, bundle.journal.prev);
    } catch (error) {
      const seq = error instanceof CustosError ? error.details['seq'] : undefined;
      fail(
        'journal-chain',
        typeof seq === 'number' ? `journal entry ${seq}` : 'journal',
        error instanceof Error ? error.message : String(error),
      );
    }
    const releasedRuns = new Set<string>();
    for (const j of bundle.journal.entries) {
      const r = KeyReleaseRecordSchema.safeParse(j.record);
      if (!r.success || r.data.decision !== 'released' || !r.data.runId) continue;
      if (r.data.chainId !== bundle.chainId || r.data.registry.toLowerCase() !== bundle.registry)
        continue;
      const runId = r.data.runId.toLowerCase();
      const datasetOk = (r.data.datasetId ?? '').toLowerCase() === bundle.datasetId;
      if (!datasetOk) continue;
      tick('journal-match');
      releasedRuns.add(runId);
      const opened = openedRuns.get(runId);
      if (!opened)
        fail(
          'journal-match',
          `journal entry ${j.seq}`,
          `a key was released for run ${runId}, which is not opened in the bundle`,
        );
      else if (
        r.data.txHash &&
        receiptAt.get(key(openedAt.get(runId)?.block ?? -1, openedAt.get(runId)?.txIndex ?? -1))
          ?.txHash !== r.data.txHash.toLowerCase()
      )
        fail(
          'journal-match',
          `journal entry ${j.seq}`,
          `the release names transaction ${r.data.txHash}, not the one that opened run ${runId}`,
        );
    }
    for (const [e, ev] of decoded) {
      if (ev.name !== 'RunOpened' || e.block < bundle.blockRange.from) continue; // not by the context flag: it is not proven
      tick('journal-match');
      if (!releasedRuns.has(low(ev.args.runId)))
        fail(
          'journal-match',
          `run ${low(ev.args.runId)}`,
          'the run was opened on-chain but the journal excerpt has no release for it',
          eventOf(e),
        );
    }
  }
  return done(bundle.events.length);
}

/** The signer of a RunResult signature, lowercase; null when the signature is malformed. */
function recoverRunResult(
  domain: ReturnType<typeof custosDomain>,
  runId: string,
  resultHash: string,
  signature: string,
): string | null {
  try {
    const request = typedData('RunResult', domain, { runId, resultHash });
    return verifyTypedData(request.domain, request.types, request.message, signature).toLowerCase();
  } catch {
    return null;
  }
}

/**
 * Linked runs: each entry of `linkedRuns` is a run of another dataset whose RunOpened (and
 * RunClosed, when it says closed) is proven in the bundle with the same fields, linked to a proven
 * run of the dataset for the reasons it gives (recomputed with `linkRuns` from the proven events:
 * same enclave key, same result hash), its result signed by its enclave key; every linked event
 * belongs to such an entry, is context, and is not about the dataset; every link the proven events
 * imply is listed.
 */
function checkLinkedRuns(
  bundle: UsageProof,
  decoded: Map<BundleEvent, RegistryEvent>,
  linkedDecoded: Map<BundleEvent, RegistryEvent>,
  domain: ReturnType<typeof custosDomain>,
  tick: (c: CheckName) => void,
  fail: (c: CheckName, subject: string, reason: string, e?: FailedEvent | null) => void,
): void {
  const at = (e: BundleEvent): FailedEvent => ({
    block: e.block,
    txIndex: e.txIndex,
    logIndex: e.logIndex,
    name: e.name,
  });
  const opened = new Map<string, RegistryEvent>();
  const closed = new Map<string, RegistryEvent>();
  const ownRuns = new Set<string>();
  for (const ev of decoded.values()) if (ev.name === 'RunOpened') ownRuns.add(low(ev.args.runId));
  const named = new Set((bundle.linkedRuns ?? []).map((l) => l.runId));
  for (const [e, ev] of linkedDecoded) {
    tick('linked-run');
    const runId = low((ev.args as Record<string, unknown>)['runId']);
    const subject = `linked run ${runId}`;
    if (ev.name === 'RunOpened') opened.set(runId, ev);
    else closed.set(runId, ev);
    if (!e.context) fail('linked-run', subject, 'a linked event must be marked context', at(e));
    else if (
      (ev.name === 'RunOpened' && low(ev.args.datasetId) === bundle.datasetId) ||
      ownRuns.has(runId)
    )
      fail('linked-run', subject, `the run is of dataset ${bundle.datasetId}, not linked`, at(e));
    else if (!named.has(runId))
      fail('linked-run', subject, 'no entry of linkedRuns names this run', at(e));
  }

  const links = linkRuns([...decoded.values(), ...linkedDecoded.values()], bundle.datasetId);
  const listed = new Set<string>();
  for (const l of bundle.linkedRuns ?? []) {
    tick('linked-run');
    const subject = `linked run ${l.runId} of run ${l.linkedTo}`;
    listed.add(`${l.linkedTo}/${l.runId}`);
    const o = opened.get(l.runId);
    const c = closed.get(l.runId);
    if (o?.name !== 'RunOpened') {
      fail('linked-run', subject, 'its RunOpened is not proven in the bundle');
      continue;
    }
    const field = (['datasetId', 'grantId', 'enclaveKey'] as const).find(
      (k) => low(o.args[k]) !== l[k],
    );
    if (field) {
      fail('linked-run', subject, `${field} is ${low(o.args[field])} on-chain, not ${l[field]}`);
      continue;
    }
    if (!ownRuns.has(l.linkedTo)) {
      fail('linked-run', subject, `run ${l.linkedTo} of the dataset is not opened in the bundle`);
      continue;
    }
    if (l.resultHash === null || l.enclaveSignature === null) {
      if (c)
        fail('linked-run', subject, `the entry says open, but it closed in block ${c.blockNumber}`);
      else if (l.resultHash !== l.enclaveSignature)
        fail('linked-run', subject, 'a result hash without a signature, or the reverse');
    } else if (c?.name !== 'RunClosed') {
      fail('linked-run', subject, 'its RunClosed is not proven in the bundle');
      continue;
    } else if (
      low(c.args.resultHash) !== l.resultHash ||
      low(c.args.enclaveSignature) !== l.enclaveSignature
    ) {
      fail('linked-run', subject, 'the result hash or signature differs from its RunClosed');
      continue;
    } else {
      const signer = recoverRunResult(domain, l.runId, l.resultHash, l.enclaveSignature);
      if (signer !== l.enclaveKey) {
        fail(
          'linked-run',
          subject,
          `the result was signed by ${signer ?? '(malformed signature)'}, not its enclave key ${l.enclaveKey}`,
        );
        continue;
      }
    }
    const found = links.get(l.linkedTo)?.find((x) => x.runId === l.runId);
    if (!found)
      fail(
        'linked-run',
        subject,
        'the runs are not linked: their enclave keys differ and their results are not the same',
      );
    else if ([...found.by].sort().join() !== [...l.by].sort().join())
      fail(
        'linked-run',
        subject,
        `the runs are linked by ${found.by.join(' and ')}, the entry says ${l.by.join(' and ')}`,
      );
  }
  for (const [ownRun, list] of links)
    for (const x of list) {
      if (!opened.has(x.runId)) continue; // only links the proven events show
      tick('linked-run');
      if (!listed.has(`${ownRun}/${x.runId}`))
        fail(
          'linked-run',
          `linked run ${x.runId} of run ${ownRun}`,
          'the proven events link these runs, but linkedRuns does not list the link',
        );
    }
}

function compare(a: BundleEvent, b: BundleEvent): number {
  return a.block - b.block || a.txIndex - b.txIndex || a.logIndex - b.logIndex;
}

async function rpcSend<T>(
  provider: JsonRpcProvider,
  method: string,
  params: unknown[],
): Promise<T> {
  try {
    return (await provider.send(method, params)) as T;
  } catch (error) {
    const { toChainError } = await import('../chain/index.ts');
    throw toChainError(error, { step: method });
  }
}

async function trustedHash(number: number, options: VerifyOptions): Promise<string | undefined> {
  if (options.provider) {
    const block = await rpcSend<{ hash?: string } | null>(
      options.provider,
      'eth_getBlockByNumber',
      [`0x${number.toString(16)}`, false],
    );
    return block?.hash?.toLowerCase();
  }
  return options.trustedBlocks?.blocks[String(number)]?.toLowerCase();
}

/**
 * Offline completeness from numbering: grants of a dataset are numbered 1, 2, 3 … (the low 8 bytes
 * of the grant id) and runs of a grant 0, 1, 2 … (`runIndex`). Within the bundle's block range the
 * numbers must follow each other, starting at 1 (grants) when the registration is in the range and
 * at 0 (runs) when the grant's creation is — so a removed grant or run opening is found.
 */
function sequenceGaps(
  bundle: UsageProof,
  decoded: Map<BundleEvent, RegistryEvent>,
  tick: (c: CheckName) => void,
  fail: (c: CheckName, subject: string, reason: string, e?: FailedEvent | null) => void,
): void {
  const inRange = [...decoded].filter(
    ([e]) => e.block >= bundle.blockRange.from && e.block <= bundle.blockRange.to,
  );
  const registered = inRange.some(([, ev]) => ev.name === 'DatasetRegistered');
  const created = new Set<string>();
  let expectedGrant: bigint | undefined = registered ? 1n : undefined;
  const expectedRun = new Map<string, bigint>();
  for (const [e, ev] of inRange) {
    const at = { block: e.block, txIndex: e.txIndex, logIndex: e.logIndex, name: e.name };
    if (ev.name === 'GrantCreated') {
      tick('completeness');
      const number = BigInt(ev.args.grantId) & 0xffffffffffffffffn;
      if (expectedGrant !== undefined && number !== expectedGrant)
        fail(
          'completeness',
          `grant ${low(ev.args.grantId)}`,
          `grant number ${number} follows grant ${expectedGrant - 1n}: grant ${expectedGrant} is missing`,
          at,
        );
      expectedGrant = number + 1n;
      created.add(low(ev.args.grantId));
      expectedRun.set(low(ev.args.grantId), 0n);
    }
    if (ev.name === 'RunOpened') {
      tick('completeness');
      const grantId = low(ev.args.grantId);
      const expected = expectedRun.get(grantId);
      if (expected !== undefined && ev.args.runIndex !== expected)
        fail(
          'completeness',
          `run ${low(ev.args.runId)}`,
          `run ${ev.args.runIndex} of grant ${grantId} follows run ${expected - 1n}: run ${expected} is missing`,
          at,
        );
      expectedRun.set(grantId, ev.args.runIndex + 1n);
    }
  }
}

/** Asks the node for every registry log in the bundle's block range and compares the dataset's. */
async function onlineCompleteness(
  bundle: UsageProof,
  decoded: Map<BundleEvent, RegistryEvent>,
  logsOf: Map<string, ReceiptLog[]>,
  provider: JsonRpcProvider,
  tick: (c: CheckName) => void,
  fail: (c: CheckName, subject: string, reason: string, e?: FailedEvent | null) => void,
): Promise<void> {
  const runs = new Set<string>();
  for (const ev of decoded.values()) if (ev.name === 'RunOpened') runs.add(low(ev.args.runId));
  const onChain = new Map<string, string>();
  const step = 50_000;
  for (let from = bundle.blockRange.from; from <= bundle.blockRange.to; from += step) {
    const to = Math.min(bundle.blockRange.to, from + step - 1);
    const logs = await rpcSend<
      {
        topics: string[];
        data: string;
        blockNumber: string;
        transactionIndex: string;
        logIndex: string;
        blockHash: string;
        transactionHash: string;
      }[]
    >(provider, 'eth_getLogs', [
      {
        address: bundle.registry,
        fromBlock: `0x${from.toString(16)}`,
        toBlock: `0x${to.toString(16)}`,
      },
    ]);
    for (const l of logs) {
      const ev = decodeRegistryLog({
        topics: l.topics,
        data: l.data,
        blockNumber: Number(l.blockNumber),
        blockHash: l.blockHash,
        transactionHash: l.transactionHash,
        index: Number(l.logIndex),
      });
      if (!ev || !concernsDataset(ev, bundle.datasetId, runs)) continue;
      onChain.set(
        `${Number(l.blockNumber)}/${Number(l.transactionIndex)}/${l.topics.join(',')}/${l.data}`,
        `${ev.name} in block ${Number(l.blockNumber)}`,
      );
    }
  }
  const inBundle = new Set<string>();
  for (const [e] of decoded) {
    if (e.block < bundle.blockRange.from || e.block > bundle.blockRange.to) continue;
    const log = logsOf.get(key(e.block, e.txIndex))?.[e.logIndex];
    if (log) inBundle.add(`${e.block}/${e.txIndex}/${log.topics.join(',')}/${log.data}`);
  }
  for (const [k, what] of onChain) {
    tick('completeness');
    if (!inBundle.has(k))
      fail(
        'completeness',
        what,
        `the node has ${what} for this dataset in the bundle's range, the bundle does not`,
      );
  }
}
