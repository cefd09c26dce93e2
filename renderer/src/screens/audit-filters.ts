/**
 * The Audit screen's filters, the URL they live in, and the runs-per-day figures — pure functions
 * over the timeline, so that 100,000 rows filter in a few milliseconds: every value that costs
 * something (times, local days, the grantee of a closed run) is computed once per timeline
 * (`indexAudit`), and a filter is then one pass over typed arrays.
 */
import type { AuditEntry } from '../../../app/api/index.ts';

/** What the steward narrowed the audit to. Empty strings and false mean "all". */
export interface AuditFilters {
  readonly kind: string;
  readonly dataset: string;
  readonly grantee: string;
  /** Local dates, `YYYY-MM-DD`, both days included. */
  readonly from: string;
  readonly until: string;
  readonly anomalies: boolean;
}

export const NO_FILTERS: AuditFilters = {
  kind: '',
  dataset: '',
  grantee: '',
  from: '',
  until: '',
  anomalies: false,
};

/** The query parameter that opens the Audit screen (`?view=audit&…`). */
const VIEW = 'audit';
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Whether this window was opened on the Audit screen (a shared or reloaded link). */
export function openedOnAudit(search: string = location.search): boolean {
  return new URLSearchParams(search).get('view') === VIEW;
}

/** The filters a URL's query carries; unknown or malformed values are ignored. */
export function filtersFromQuery(search: string): AuditFilters {
  const q = new URLSearchParams(search);
  const text = (name: string): string => (q.get(name) ?? '').slice(0, 200);
  const date = (name: string): string => (DATE.test(q.get(name) ?? '') ? (q.get(name) ?? '') : '');
  return {
    kind: text('kind'),
    dataset: text('dataset'),
    grantee: text('grantee'),
    from: date('from'),
    until: date('until'),
    anomalies: q.get('anomalies') === '1',
  };
}

/** The query for a filtered Audit view (only what differs from "all"). */
export function queryOfFilters(f: AuditFilters): string {
  const q = new URLSearchParams({ view: VIEW });
  for (const name of ['kind', 'dataset', 'grantee', 'from', 'until'] as const)
    if (f[name] !== '') q.set(name, f[name]);
  if (f.anomalies) q.set('anomalies', '1');
  return `?${q.toString()}`;
}

const DAY_MS = 86_400_000;
/** "No day": entries without a time. */
export const NO_DAY = -2_147_483_648;

/** Days since 1 Jan 1970 in local time (timezone offsets looked up once per hour of time). */
function localDayOf(cache: Map<number, number>): (ms: number) => number {
  return (ms) => {
    const hour = Math.floor(ms / 3_600_000);
    let offset = cache.get(hour);
    if (offset === undefined) {
      offset = new Date(ms).getTimezoneOffset() * 60_000;
      cache.set(hour, offset);
    }
    return Math.floor((ms - offset) / DAY_MS);
  };
}

/** The local day of a `YYYY-MM-DD` date, or null. */
export function dayOfDate(date: string): number | null {
  if (!DATE.test(date)) return null;
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const local = new Date(y, m - 1, d);
  return Math.round((local.getTime() - local.getTimezoneOffset() * 60_000) / DAY_MS);
}

/** Local midnight of a day number. */
export function dateOfDay(day: number): Date {
  return new Date(1970, 0, 1 + day);
}

/** The `YYYY-MM-DD` (local) of a day number, as a date field holds it. */
export function isoDateOfDay(day: number): string {
  const d = dateOfDay(day);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** The timeline with what filtering needs computed once. */
export interface AuditIndex {
  readonly entries: readonly AuditEntry[];
  /** Local day of each entry (NO_DAY without a time). */
  readonly day: Int32Array;
  /** The grantee's local name; a closed run gets its grant's through the run it closes. */
  readonly grantee: readonly (string | null)[];
  /** Run id → the grantee whose grant opened it. */
  readonly granteeOfRun: ReadonlyMap<string, string>;
  readonly isRun: Uint8Array;
  readonly isRefusal: Uint8Array;
  readonly hasAnomaly: Uint8Array;
  readonly kinds: readonly string[];
  readonly datasets: readonly { readonly id: string; readonly name: string }[];
  readonly grantees: readonly string[];
}

export function indexAudit(entries: readonly AuditEntry[]): AuditIndex {
  const n = entries.length;
  const day = new Int32Array(n);
  const isRun = new Uint8Array(n);
  const isRefusal = new Uint8Array(n);
  const hasAnomaly = new Uint8Array(n);
  const localDay = localDayOf(new Map());
  const granteeOfRun = new Map<string, string>();
  for (const e of entries)
    if (e.kind === 'run-opened' && e.runId && e.granteeName)
      granteeOfRun.set(e.runId, e.granteeName);
  const grantee: (string | null)[] = new Array<string | null>(n);
  const kinds = new Set<string>();
  const datasets = new Map<string, string>();
  const grantees = new Set<string>();
  for (let i = 0; i < n; i += 1) {
    const e = entries[i]!;
    const ms = e.time === null ? Number.NaN : Date.parse(e.time);
    day[i] = Number.isNaN(ms) ? NO_DAY : localDay(ms);
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
    entries,
    day,
    grantee,
    granteeOfRun,
    isRun,
    isRefusal,
    hasAnomaly,
    kinds: [...kinds].sort(),
    datasets: [...datasets]
      .map(([id, name]) => ({ id, name }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    grantees: [...grantees].sort((a, b) => a.localeCompare(b)),
  };
}

/** Whether the period is backwards (until before from). */
export function periodBackwards(f: AuditFilters): boolean {
  const from = dayOfDate(f.from);
  const until = dayOfDate(f.until);
  return from !== null && until !== null && until < from;
}

/**
 * The positions of the entries that pass every filter except the event kind (the chart counts
 * runs and refusals whatever kind the table shows); `byKind` then narrows them for the table.
 */
export function selectEntries(index: AuditIndex, f: AuditFilters): Int32Array {
  const { entries, day, grantee, hasAnomaly } = index;
  const from = dayOfDate(f.from) ?? NO_DAY;
  const until = dayOfDate(f.until) ?? Number.MAX_SAFE_INTEGER;
  const timed = f.from !== '' || f.until !== '';
  const out = new Int32Array(entries.length);
  let count = 0;
  for (let i = 0; i < entries.length; i += 1) {
    if (f.dataset !== '' && entries[i]!.datasetId !== f.dataset) continue;
    if (f.grantee !== '' && grantee[i] !== f.grantee) continue;
    if (f.anomalies && hasAnomaly[i] === 0) continue;
    if (timed) {
      const d = day[i]!;
      if (d === NO_DAY || d < from || d > until) continue;
    }
    out[count] = i;
    count += 1;
  }
  return out.subarray(0, count);
}

export function byKind(index: AuditIndex, selected: Int32Array, kind: string): Int32Array {
  if (kind === '') return selected;
  const { entries } = index;
  return selected.filter((i) => entries[i]!.kind === kind);
}

/** One bar of the chart: runs opened and keys refused from `start` for `days` days. */
export interface RunBin {
  readonly start: number;
  readonly runs: number;
  readonly refusals: number;
}

export interface RunsPerDay {
  /** 1 (per day), 7 (per week) or 30 days per bar, so that a long period stays readable. */
  readonly days: number;
  readonly bins: readonly RunBin[];
  readonly runs: number;
  readonly refusals: number;
}

const MAX_BARS = 92;

/** Enclave runs opened and key refusals per day (or week, or 30 days) over the selection. */
export function runsPerDay(index: AuditIndex, selected: Int32Array, f: AuditFilters): RunsPerDay {
  const { day, isRun, isRefusal } = index;
  let first = Number.MAX_SAFE_INTEGER;
  let last = NO_DAY;
  let runs = 0;
  let refusals = 0;
  for (const i of selected) {
    if (isRun[i] === 0 && isRefusal[i] === 0) continue;
    const d = day[i]!;
    if (d === NO_DAY) continue;
    runs += isRun[i]!;
    refusals += isRefusal[i]!;
    if (d < first) first = d;
    if (d > last) last = d;
  }
  if (runs + refusals === 0) return { days: 1, bins: [], runs, refusals };
  first = Math.min(first, dayOfDate(f.from) ?? first);
  last = Math.max(last, dayOfDate(f.until) ?? last);
  const span = last - first + 1;
  const days = span <= MAX_BARS ? 1 : span <= MAX_BARS * 7 ? 7 : 30;
  const count = Math.ceil(span / days);
  const runBins = new Uint32Array(count);
  const refusalBins = new Uint32Array(count);
  for (const i of selected) {
    if (isRun[i] === 0 && isRefusal[i] === 0) continue;
    const d = day[i]!;
    if (d === NO_DAY) continue;
    const b = Math.floor((d - first) / days);
    runBins[b] = (runBins[b] ?? 0) + isRun[i]!;
    refusalBins[b] = (refusalBins[b] ?? 0) + isRefusal[i]!;
  }
  const bins = Array.from({ length: count }, (_, b) => ({
    start: first + b * days,
    runs: runBins[b]!,
    refusals: refusalBins[b]!,
  }));
  return { days, bins, runs, refusals };
}
