/**
 * The Audit screen's query, answered in the service: the timeline is indexed once (what filtering
 * costs — days, the grantee of a closed run, kinds — computed per line into typed arrays), kept
 * while the chain head and the journal stay the same (`AuditTimelineCache`), and each query is one
 * pass over the arrays that returns a page, the count, the runs-per-day chart and the menus. The
 * whole timeline never crosses the process boundary (100,000 runs: 189 MB as JSON).
 */
import { createHash } from 'node:crypto';
import type { AuditAnomaly, AuditEntry, AuditPage, AuditQuery } from '../api/contract.ts';
import { CustosError } from '../errors/index.ts';

/** The timeline as the service built it (newest first), before indexing. */
export interface AuditTimelineLines {
  readonly entries: readonly AuditEntry[];
  readonly anomalies: readonly AuditAnomaly[];
  readonly journalRead: boolean;
}

/** A timeline with what filtering needs computed once. */
export interface AuditIndex extends AuditTimelineLines {
  /** Which timeline this is (`queryAudit` answers it; later pages ask for it). */
  readonly version: string;
  /** The grantee's local name; a closed run gets its grant's through the run it closes. */
  readonly grantee: readonly (string | null)[];
  /** Milliseconds since 1970 of each line (NaN without a time). */
  readonly ms: Float64Array;
  readonly isRun: Uint8Array;
  readonly isRefusal: Uint8Array;
  readonly hasAnomaly: Uint8Array;
  readonly kinds: readonly string[];
  readonly datasets: readonly { readonly id: string; readonly name: string }[];
  readonly grantees: readonly string[];
  /** Day of each line per time zone, computed on the first query in that zone. */
  readonly daysByZone: Map<string, Int32Array>;
  /** The last selection (every filter but the kind), for the next page of the same filters. */
  lastSelection: { readonly key: string; readonly positions: Int32Array } | null;
}

/** Indexes a timeline (newest first) for `queryAudit`; `version` names it. */
export function indexTimeline(lines: AuditTimelineLines, version: string): AuditIndex {
  const { entries } = lines;
  const n = entries.length;
  const ms = new Float64Array(n);
  const isRun = new Uint8Array(n);
  const isRefusal = new Uint8Array(n);
  const hasAnomaly = new Uint8Array(n);
  const granteeOfRun = new Map<string, string>();
  for (const e of entries)
    if (e.kind === 'run-opened' && e.runId && e.granteeName)
      granteeOfRun.set(e.runId, e.granteeName);
  const grantee = new Array<string | null>(n);
  const kinds = new Set<string>();
  const datasets = new Map<string, string>();
  const grantees = new Set<string>();
  for (let i = 0; i < n; i += 1) {
    const e = entries[i]!;
    ms[i] = e.time === null ? Number.NaN : Date.parse(e.time);
    isRun[i] = e.kind === 'run-opened' ? 1 : 0;
    isRefusal[i] = e.kind === 'key-refused' ? 1 : 0;
    hasAnomaly[i] = e.anomalies.length > 0 ? 1 : 0;
    const g = e.granteeName ?? (e.runId ? (granteeOfRun.get(e.runId) ?? null) : null);
    grantee[i] = g;
    if (g !== null) grantees.add(g);
    kinds.add(e.kind);
    datasets.set(e.datasetId, e.datasetName);
  }
  return {
    ...lines,
    version,
    grantee,
    ms,
    isRun,
    isRefusal,
    hasAnomaly,
    kinds: [...kinds].sort(),
    datasets: [...datasets]
      .map(([id, name]) => ({ id, name }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    grantees: [...grantees].sort((a, b) => a.localeCompare(b)),
    daysByZone: new Map(),
    lastSelection: null,
  };
}

const DAY_MS = 86_400_000;
/** "No day": lines without a time. */
const NO_DAY = -2_147_483_648;
const QUARTER_HOUR_MS = 900_000;

function usage(field: string, message: string): CustosError {
  return new CustosError('UsageError', `${field}: ${message}`, { details: { field } });
}

/** The day number (days since 1 Jan 1970) of a `YYYY-MM-DD` calendar date, or null if it is none. */
function dayOfDate(date: string, field: string): number | null {
  if (date === '') return null;
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const ms = Date.UTC(y, m - 1, d);
  const back = new Date(ms);
  if (back.getUTCMonth() !== m - 1 || back.getUTCDate() !== d)
    throw usage(field, `${date} is not a date`);
  return ms / DAY_MS;
}

/**
 * The local day of each line in `timeZone` (its UTC offset looked up once per quarter hour of
 * time, which follows every zone's daylight-saving changes).
 */
function daysIn(index: AuditIndex, timeZone: string): Int32Array {
  const known = index.daysByZone.get(timeZone);
  if (known) return known;
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
  } catch (cause) {
    throw new CustosError('UsageError', `timeZone: ${timeZone.slice(0, 64)} is not a time zone`, {
      cause,
      details: { field: 'timeZone' },
    });
  }
  const offsets = new Map<number, number>();
  const offsetAt = (ms: number): number => {
    const quarter = Math.floor(ms / QUARTER_HOUR_MS);
    let offset = offsets.get(quarter);
    if (offset === undefined) {
      const start = quarter * QUARTER_HOUR_MS;
      const p = Object.fromEntries(format.formatToParts(start).map((x) => [x.type, x.value]));
      const wall = Date.UTC(+p['year']!, +p['month']! - 1, +p['day']!, +p['hour']!, +p['minute']!);
      offset = wall - start;
      offsets.set(quarter, offset);
    }
    return offset;
  };
  const { ms } = index;
  const days = new Int32Array(ms.length);
  for (let i = 0; i < ms.length; i += 1) {
    const t = ms[i]!;
    days[i] = Number.isNaN(t) ? NO_DAY : Math.floor((t + offsetAt(t)) / DAY_MS);
  }
  index.daysByZone.set(timeZone, days);
  return days;
}

/** Positions of the lines that pass every filter except the kind (the chart ignores the kind). */
function select(
  index: AuditIndex,
  q: AuditQuery,
  day: Int32Array,
  from: number | null,
  until: number | null,
): Int32Array {
  const key = JSON.stringify([q.dataset, q.grantee, q.from, q.until, q.anomaliesOnly, q.timeZone]);
  if (index.lastSelection?.key === key) return index.lastSelection.positions;
  const { entries, grantee, hasAnomaly } = index;
  const timed = from !== null || until !== null;
  const low = from ?? NO_DAY;
  const high = until ?? Number.MAX_SAFE_INTEGER;
  const out = new Int32Array(entries.length);
  let count = 0;
  for (let i = 0; i < entries.length; i += 1) {
    if (q.dataset !== '' && entries[i]!.datasetId !== q.dataset) continue;
    if (q.grantee !== '' && grantee[i] !== q.grantee) continue;
    if (q.anomaliesOnly && hasAnomaly[i] === 0) continue;
    if (timed) {
      const d = day[i]!;
      if (d === NO_DAY || d < low || d > high) continue;
    }
    out[count] = i;
    count += 1;
  }
  const positions = out.subarray(0, count);
  index.lastSelection = { key, positions };
  return positions;
}

const MAX_BARS = 92;

/** Enclave runs opened and key refusals per day (or week, or 30 days) over the selection. */
function runsPerDay(
  index: AuditIndex,
  selected: Int32Array,
  day: Int32Array,
  from: number | null,
  until: number | null,
): AuditPage['chart'] {
  const { isRun, isRefusal } = index;
  const events = selected.filter((i) => isRun[i] === 1 || isRefusal[i] === 1);
  if (events.length === 0) return { days: 1, bins: [], runs: 0, refusals: 0 };
  let first = Number.MAX_SAFE_INTEGER;
  let last = NO_DAY;
  let runs = 0;
  let refusals = 0;
  for (const i of events) {
    const d = day[i]!;
    if (d === NO_DAY) continue;
    runs += isRun[i]!;
    refusals += isRefusal[i]!;
    if (d < first) first = d;
    if (d > last) last = d;
  }
  if (runs + refusals === 0) return { days: 1, bins: [], runs, refusals };
  first = Math.min(first, from ?? first);
  last = Math.max(last, until ?? last);
  const span = last - first + 1;
  const days = span <= MAX_BARS ? 1 : span <= MAX_BARS * 7 ? 7 : 30;
  const count = Math.ceil(span / days);
  const runBins = new Uint32Array(count);
  const refusalBins = new Uint32Array(count);
  for (const i of events) {
    const d = day[i]!;
    if (d === NO_DAY) continue;
    const b = Math.floor((d - first) / days);
    runBins[b] = runBins[b]! + isRun[i]!;
    refusalBins[b] = refusalBins[b]! + isRefusal[i]!;
  }
  const bins = Array.from({ length: count }, (_, b) => ({
    start: first + b * days,
    runs: runBins[b]!,
    refusals: refusalBins[b]!,
  }));
  return { days, bins, runs, refusals };
}

/**
 * One page of the indexed timeline narrowed by `q`, with the count, the chart (every filter but
 * the kind), the filter menus and the anomalies. A closed run carries the grantee of the run it
 * closes. An offset past the end gives an empty page.
 * @throws UsageError (details.field names it) for a date that does not exist, a period that ends
 * before it starts, or an unknown time zone.
 */
export function queryAudit(index: AuditIndex, q: AuditQuery, now = new Date()): AuditPage {
  const from = dayOfDate(q.from, 'from');
  const until = dayOfDate(q.until, 'until');
  if (from !== null && until !== null && until < from)
    throw usage('until', `the period ends (${q.until}) before it starts (${q.from})`);
  const days = daysIn(index, q.timeZone);
  const selected = select(index, q, days, from, until);
  const { entries } = index;
  const shown = q.kind === '' ? selected : selected.filter((i) => entries[i]!.kind === q.kind);
  const page = Array.from(shown.subarray(q.offset, q.offset + q.limit), (i) => {
    const e = entries[i]!;
    const grantee = index.grantee[i] ?? null;
    return e.granteeName === grantee ? e : { ...e, granteeName: grantee };
  });
  return {
    entries: page,
    offset: q.offset,
    total: shown.length,
    all: entries.length,
    chart: runsPerDay(index, selected, days, from, until),
    datasets: [...index.datasets],
    grantees: [...index.grantees],
    kinds: [...index.kinds],
    anomalies: [...index.anomalies],
    journalRead: index.journalRead,
    checkedAt: now.toISOString(),
    version: index.version,
  };
}

/**
 * The indexed timeline, kept while its key holds (the service's key: the chain head, the journal's
 * size and time, the names shown): a new block or journal entry gives a new key and the next
 * query rebuilds. Queries that arrive while it builds wait for the same build. Later pages of an
 * answer ask for its version (`pinned`), so scrolling neither waits for a rebuild nor mixes lines
 * of two timelines.
 */
export class AuditTimelineCache {
  #key: string | null = null;
  #version: string | null = null;
  #index: Promise<AuditIndex> | null = null;

  /** The timeline of that version, if it is the one kept. */
  pinned(version: string): Promise<AuditIndex> | undefined {
    return this.#index !== null && this.#version === version ? this.#index : undefined;
  }

  /**
   * The index for `key`, built with `build` unless the last one had the same key.
   * @throws what `build` throws (a failed build is not kept).
   */
  get(key: string, build: () => Promise<AuditTimelineLines>): Promise<AuditIndex> {
    if (this.#index && this.#key === key) return this.#index;
    const version = createHash('sha256').update(key).digest('hex').slice(0, 16);
    const index = build().then((lines) => indexTimeline(lines, version));
    this.#key = key;
    this.#version = version;
    this.#index = index;
    index.catch(() => {
      if (this.#index === index) this.clear();
    });
    return index;
  }

  /** Forgets the timeline (the vault locked, the network changed). */
  clear(): void {
    this.#key = null;
    this.#version = null;
    this.#index = null;
  }
}
