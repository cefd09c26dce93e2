import { CustosError } from '../errors/index.ts';
import { DEVNET_CHAIN_ID, type RegistryEvent } from '../chain/index.ts';
import type { KeyReleaseRecord } from '../journal/index.ts';
import type { DatasetEvent, DatasetHistory } from './history.ts';
import type { AuditedJournal, JournalBreak, KeyReleaseEntry } from './journal.ts';
import { keyReleasesOf } from './journal.ts';
import { linkRuns, linkSentence, type LinkedRun } from './links.ts';

export type TimelineKind =
  | 'dataset-registered'
  | 'ownership-transferred'
  | 'operator-set'
  | 'frozen'
  | 'unfrozen'
  | 'grant-created'
  | 'grant-revoked'
  | 'all-grants-revoked'
  | 'run-opened'
  | 'run-closed'
  | 'key-released'
  | 'key-refused';

export type TeeType = KeyReleaseRecord['teeType'];

/** Links from an entry to what proves it. */
export interface EntryEvidence {
  readonly txHash: string | null;
  readonly blockHash: string | null;
  readonly logIndex: number | null;
  readonly journalSeq: number | null;
  readonly journalHash: string | null;
  /** SHA-256 of the attestation evidence (on-chain in RunOpened, in the journal record). */
  readonly evidenceHash: string | null;
  readonly resultHash: string | null;
}

/** One thing that happened to a dataset, on the chain or in the key-release journal. */
export interface TimelineEntry {
  /** `chain:<block>:<logIndex>` or `journal:<seq>`. */
  readonly id: string;
  readonly kind: TimelineKind;
  readonly source: 'chain' | 'journal';
  /** The account (or, for the journal, the client) that acted. */
  readonly who: string | null;
  /** One sentence. */
  readonly what: string;
  readonly blockNumber: number | null;
  /** ISO time of the block (chain time). */
  readonly blockTime: string | null;
  /** ISO time the key-release service wrote its journal entry (wall time). */
  readonly wallTime: string | null;
  readonly grantId: string | null;
  readonly runId: string | null;
  readonly measurement: string | null;
  /** From the attestation verdict the key-release service journaled; null when not known. */
  readonly teeType: TeeType;
  readonly simulated: boolean;
  readonly evidence: EntryEvidence;
  /** Kinds of the anomalies that name this entry. */
  readonly anomalies: AnomalyKind[];
  /**
   * For a run opened or closed: the runs of other datasets in the same enclave run (same enclave
   * key and/or same result hash); empty otherwise.
   */
  readonly linkedRuns: readonly LinkedRun[];
}

export type AnomalyKind =
  | 'run-not-closed'
  | 'closed-after-revocation'
  | 'release-without-run'
  | 'run-without-release'
  | 'simulated-outside-devnet'
  | 'journal-broken';

export interface Anomaly {
  readonly kind: AnomalyKind;
  readonly message: string;
  /** Timeline entries it concerns (may be empty, e.g. for a journal line that does not parse). */
  readonly entryIds: readonly string[];
  readonly runId: string | null;
}

export interface AuditTimeline {
  readonly datasetId: string;
  readonly chainId: number;
  readonly registry: string;
  readonly devnet: boolean;
  readonly finalBlock: number;
  readonly finalTime: string;
  /** Whether a journal was read (without one, journal-vs-chain checks are not made). */
  readonly journalRead: boolean;
  readonly entries: readonly TimelineEntry[];
  readonly anomalies: readonly Anomaly[];
}

export interface TimelineOptions {
  readonly chainId: number;
  readonly registry: string;
  /** The key-release journal, when one is available. */
  readonly journal?: AuditedJournal;
  /** Whether simulated evidence is acceptable (default: chain id 31337, the devnet's). */
  readonly devnet?: boolean;
  /** A run open longer than this (chain seconds) is flagged. Default 24 h. */
  readonly expectedRunSeconds?: number;
}

const DEFAULT_EXPECTED_RUN_SECONDS = 24 * 3600;

const iso = (unixSeconds: number): string => new Date(unixSeconds * 1000).toISOString();
const low = (v: unknown): string => String(v).toLowerCase();
const short = (hex: string): string => `${hex.slice(0, 10)}…`;

type Mutable = { -readonly [K in keyof TimelineEntry]: TimelineEntry[K] };

function chainEntry(d: DatasetEvent, owner: string | null): Mutable {
  const e: RegistryEvent = d.event;
  const a = e.args as Record<string, unknown>;
  const base: Mutable = {
    id: `chain:${e.blockNumber}:${e.logIndex}`,
    kind: 'dataset-registered',
    source: 'chain',
    who: owner,
    what: '',
    blockNumber: e.blockNumber,
    blockTime: iso(d.blockTime),
    wallTime: null,
    grantId: null,
    runId: null,
    measurement: null,
    teeType: null,
    simulated: false,
    evidence: {
      txHash: e.transactionHash,
      blockHash: e.blockHash,
      logIndex: e.logIndex,
      journalSeq: null,
      journalHash: null,
      evidenceHash: null,
      resultHash: null,
    },
    anomalies: [],
    linkedRuns: [],
  };
  switch (e.name) {
    case 'DatasetRegistered':
      return {
        ...base,
        who: low(a['owner']),
        what: `dataset registered (CID ${String(a['cid'])})`,
      };
    case 'DatasetOwnershipTransferred':
      return {
        ...base,
        kind: 'ownership-transferred',
        who: low(a['previousOwner']),
        what: `ownership transferred to ${low(a['newOwner'])}`,
      };
    case 'OperatorSet':
      return {
        ...base,
        kind: 'operator-set',
        what: `key-release operator set to ${low(a['operator'])}`,
      };
    case 'Frozen':
      return { ...base, kind: 'frozen', what: 'dataset frozen: no run can open' };
    case 'Unfrozen':
      return { ...base, kind: 'unfrozen', what: 'dataset unfrozen' };
    case 'AllGrantsRevoked':
      return {
        ...base,
        kind: 'all-grants-revoked',
        what: `every grant revoked (epoch ${String(a['newEpoch'])})`,
      };
    case 'GrantCreated': {
      const ms = a['measurements'] as string[];
      return {
        ...base,
        kind: 'grant-created',
        grantId: low(a['grantId']),
        measurement: ms.length === 1 ? low(ms[0]) : null,
        what: `grant to ${low(a['grantee'])} from ${iso(Number(a['notBefore']))} until ${iso(Number(a['notAfter']))}, ${String(a['maxRuns'])} run(s), ${ms.length} enclave app(s)`,
      };
    }
    case 'GrantRevoked':
      return {
        ...base,
        kind: 'grant-revoked',
        grantId: low(a['grantId']),
        what: `grant ${short(low(a['grantId']))} revoked`,
      };
    case 'RunOpened':
      return {
        ...base,
        kind: 'run-opened',
        who: low(a['operator']),
        grantId: low(a['grantId']),
        runId: low(a['runId']),
        measurement: low(a['measurement']),
        evidence: { ...base.evidence, evidenceHash: low(a['evidenceHash']) },
        what: `run ${String(a['runIndex'])} of grant ${short(low(a['grantId']))} opened for enclave key ${low(a['enclaveKey'])}`,
      };
    case 'RunClosed':
      return {
        ...base,
        kind: 'run-closed',
        who: null,
        runId: low(a['runId']),
        evidence: { ...base.evidence, resultHash: low(a['resultHash']) },
        what: `run ${short(low(a['runId']))} closed with result ${short(low(a['resultHash']))}`,
      };
    case 'EIP712DomainChanged':
      // never about a dataset: concernsDataset() filters it out
      throw new CustosError('Internal', 'EIP712DomainChanged is not a dataset event');
  }
}

function journalEntry(k: KeyReleaseEntry, blockTimes: Map<number, number>): Mutable {
  const r = k.record;
  const released = r.decision === 'released';
  const blockTime = r.blockNumber === null ? undefined : blockTimes.get(r.blockNumber);
  return {
    id: `journal:${k.seq}`,
    kind: released ? 'key-released' : 'key-refused',
    source: 'journal',
    who: r.client,
    what: released
      ? `dataset key released to enclave key ${r.enclaveKey ?? '?'}`
      : `key release refused: ${r.reason ?? 'unknown reason'}${r.message ? ` (${r.message})` : ''}`,
    blockNumber: r.blockNumber,
    blockTime: blockTime === undefined ? null : iso(blockTime),
    wallTime: k.time,
    grantId: r.grantId?.toLowerCase() ?? null,
    runId: r.runId?.toLowerCase() ?? null,
    measurement: r.measurement?.toLowerCase() ?? null,
    teeType: r.teeType,
    simulated: r.teeType === 'simulated',
    evidence: {
      txHash: r.txHash,
      blockHash: null,
      logIndex: null,
      journalSeq: k.seq,
      journalHash: k.hash,
      evidenceHash: r.evidenceHash,
      resultHash: null,
    },
    anomalies: [],
    linkedRuns: [],
  };
}

/**
 * One dataset's timeline: its chain history merged with its key-release journal records, each
 * entry saying who, what, when (block time and wall time), which grant, measurement and TEE type,
 * and where the evidence is; and the anomalies found, flagged on the entries they concern.
 *
 * Order: chain order; journal records keep journal order, each after the chain events of the
 * block it names (a release names its run's block) — a refusal names none and goes after the last
 * block whose time is a whole second before its wall time.
 */
export function buildTimeline(history: DatasetHistory, options: TimelineOptions): AuditTimeline {
  const devnet = options.devnet ?? options.chainId === DEVNET_CHAIN_ID;
  const expected = options.expectedRunSeconds ?? DEFAULT_EXPECTED_RUN_SECONDS;
  const journal = options.journal;
  const releases = journal
    ? keyReleasesOf(journal.entries, {
        datasetId: history.datasetId,
        chainId: options.chainId,
        registry: options.registry,
      })
    : [];

  const blockTimes = new Map(history.events.map((d) => [d.event.blockNumber, d.blockTime]));
  const releaseByRun = new Map<string, KeyReleaseEntry>();
  for (const k of releases)
    if (k.record.decision === 'released' && k.record.runId)
      releaseByRun.set(k.record.runId.toLowerCase(), k);

  // chain entries, with owner tracking for "who"
  let owner: string | null = null;
  const chain: Mutable[] = [];
  for (const d of history.events) {
    const a = d.event.args as Record<string, unknown>;
    if (d.event.name === 'DatasetRegistered') owner = low(a['owner']);
    const entry = chainEntry(d, owner);
    if (d.event.name === 'DatasetOwnershipTransferred') owner = low(a['newOwner']);
    chain.push(entry);
  }
  // TEE type and wall time of runs come from the journaled release
  const teeOfRun = new Map<string, TeeType>();
  for (const e of chain) {
    if (e.kind !== 'run-opened' || !e.runId) continue;
    const k = releaseByRun.get(e.runId);
    if (!k) continue;
    e.teeType = k.record.teeType;
    e.simulated = k.record.teeType === 'simulated';
    e.wallTime = k.time;
    teeOfRun.set(e.runId, k.record.teeType);
  }
  for (const e of chain) {
    if (e.kind === 'run-closed' && e.runId && teeOfRun.has(e.runId)) {
      e.teeType = teeOfRun.get(e.runId) ?? null;
      e.simulated = e.teeType === 'simulated';
    }
  }

  // runs of other datasets in the same enclave run
  const links = linkRuns(
    [...history.events, ...(history.linked ?? [])].map((d) => d.event),
    history.datasetId,
  );
  for (const e of chain) {
    const linked = e.runId ? links.get(e.runId) : undefined;
    if (!linked || (e.kind !== 'run-opened' && e.kind !== 'run-closed')) continue;
    e.linkedRuns = linked;
    e.what = `${e.what}; linked: ${linked.map(linkSentence).join('; ')}`;
  }

  const fromJournal = releases.map((k) => journalEntry(k, blockTimes));
  const entries = merge(chain, fromJournal, history.events);
  const anomalies = findAnomalies({
    history,
    chain,
    releases,
    fromJournal,
    journalRead: journal !== undefined,
    journalBreak: journal?.broken ?? null,
    devnet,
    expected,
  });
  const byId = new Map(entries.map((e) => [e.id, e]));
  for (const a of anomalies)
    for (const id of a.entryIds) {
      const e = byId.get(id);
      if (e && !e.anomalies.includes(a.kind)) e.anomalies.push(a.kind);
    }

  return {
    datasetId: history.datasetId,
    chainId: options.chainId,
    registry: options.registry,
    devnet,
    finalBlock: history.finalBlock,
    finalTime: iso(history.finalTime),
    journalRead: journal !== undefined,
    entries,
    anomalies,
  };
}

function merge(
  chain: Mutable[],
  fromJournal: Mutable[],
  events: readonly DatasetEvent[],
): Mutable[] {
  // Journal entries keep their own order; one without a block goes after the last block whose
  // time is a whole second before its wall time (block times are seconds and may run ahead).
  let previous = -1;
  const anchored = fromJournal.map((e) => {
    let block = e.blockNumber ?? -1;
    if (e.blockNumber === null) {
      const wallSecond = Math.floor(Date.parse(e.wallTime ?? '') / 1000);
      // block times never decrease along the chain: binary search for the last one before
      let lo = 0;
      let hi = events.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (events[mid]!.blockTime < wallSecond) lo = mid + 1;
        else hi = mid;
      }
      if (lo > 0) block = events[lo - 1]!.event.blockNumber;
    }
    previous = Math.max(previous, block);
    return { e, k: [previous, 1, e.evidence.journalSeq ?? 0] };
  });
  const keyed = [...chain.map((e, i) => ({ e, k: [e.blockNumber ?? 0, 0, i] })), ...anchored];
  keyed.sort((x, y) => x.k[0]! - y.k[0]! || x.k[1]! - y.k[1]! || x.k[2]! - y.k[2]!);
  return keyed.map((x) => x.e);
}

function findAnomalies(input: {
  history: DatasetHistory;
  chain: readonly Mutable[];
  releases: readonly KeyReleaseEntry[];
  fromJournal: readonly Mutable[];
  journalRead: boolean;
  journalBreak: JournalBreak | null;
  devnet: boolean;
  expected: number;
}): Anomaly[] {
  const out: Anomaly[] = [];
  const { history, chain } = input;
  const opened = new Map<string, { entry: Mutable; time: number }>();
  const closed = new Set<string>();
  const grantEpoch = new Map<string, number>();
  const revokedAt = new Map<string, number>(); // grantId → position
  const epochBumps: { epoch: number; pos: number }[] = [];

  history.events.forEach((d, pos) => {
    const a = d.event.args as Record<string, unknown>;
    const entry = chain[pos]!;
    switch (d.event.name) {
      case 'GrantCreated':
        grantEpoch.set(low(a['grantId']), Number(a['epoch']));
        break;
      case 'GrantRevoked':
        revokedAt.set(low(a['grantId']), pos);
        break;
      case 'AllGrantsRevoked':
        epochBumps.push({ epoch: Number(a['newEpoch']), pos });
        break;
      case 'RunOpened':
        opened.set(low(a['runId']), { entry, time: d.blockTime });
        break;
      case 'RunClosed': {
        const runId = low(a['runId']);
        closed.add(runId);
        const open = opened.get(runId);
        const grantId = open?.entry.grantId;
        if (!open || !grantId) break;
        const epoch = grantEpoch.get(grantId);
        const revoked = revokedAt.get(grantId);
        const bump = epochBumps.find((b) => epoch !== undefined && b.epoch > epoch);
        const revokedPos = Math.min(revoked ?? Infinity, bump?.pos ?? Infinity);
        if (revokedPos < pos) {
          const by = chain[revokedPos]!;
          out.push({
            kind: 'closed-after-revocation',
            message: `run ${runId} of grant ${grantId} closed after the grant was revoked (block ${by.blockNumber})`,
            entryIds: [entry.id, by.id],
            runId,
          });
        }
        break;
      }
      default:
        break;
    }
  });

  for (const [runId, { entry, time }] of opened) {
    if (closed.has(runId)) continue;
    const open = history.finalTime - time;
    if (open > input.expected)
      out.push({
        kind: 'run-not-closed',
        message: `run ${runId} opened at ${iso(time)} has not closed after ${Math.round(open / 60)} min (expected within ${Math.round(input.expected / 60)} min)`,
        entryIds: [entry.id],
        runId,
      });
  }

  if (input.journalRead) {
    const releasedRuns = new Set<string>();
    input.releases.forEach((k, i) => {
      const entry = input.fromJournal[i]!;
      const r = k.record;
      if (input.devnet === false && r.teeType === 'simulated')
        out.push({
          kind: 'simulated-outside-devnet',
          message: `journal entry ${k.seq}: simulated attestation evidence on chain ${r.chainId}, which is not a development network`,
          entryIds: [entry.id],
          runId: r.runId?.toLowerCase() ?? null,
        });
      if (r.decision !== 'released') return;
      const runId = r.runId?.toLowerCase() ?? null;
      const open = runId ? opened.get(runId) : undefined;
      if (runId) releasedRuns.add(runId);
      if (
        !open ||
        (r.txHash && open.entry.evidence.txHash?.toLowerCase() !== r.txHash.toLowerCase())
      )
        out.push({
          kind: 'release-without-run',
          message: `journal entry ${k.seq}: a key was released for run ${runId ?? '(none)'}, but the chain has no such run${open ? ' in that transaction' : ''}`,
          entryIds: [entry.id],
          runId,
        });
    });
    for (const [runId, { entry }] of opened)
      if (!releasedRuns.has(runId))
        out.push({
          kind: 'run-without-release',
          message: `run ${runId} was opened on-chain but the key-release journal has no release for it`,
          entryIds: [entry.id],
          runId,
        });
  }

  if (input.journalBreak) {
    const b = input.journalBreak;
    const id = b.seq === null ? null : `journal:${b.seq}`;
    out.push({
      kind: 'journal-broken',
      message: `the key-release journal's hash chain breaks: ${b.message}`,
      entryIds: id && input.fromJournal.some((e) => e.id === id) ? [id] : [],
      runId: null,
    });
  }
  return out;
}
