/**
 * The Audit screen's filters and the URL they live in. The filtering itself is the service's
 * (`queryAudit`, app/service/audit-query.ts): the screen sends these filters and gets a page.
 */
import type { MethodInput, MethodOutput } from '../../../app/api/index.ts';

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
  const dataset = q.get('dataset') ?? '';
  return {
    kind: /^[a-z-]{1,40}$/.test(q.get('kind') ?? '') ? (q.get('kind') ?? '') : '',
    dataset: /^[0-9a-f]{32}$/.test(dataset) ? dataset : '',
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

/** The runs-per-day chart as the service counts it (days since 1 Jan 1970, local). */
export type RunsPerDay = MethodOutput<'queryAudit'>['chart'];
export type RunBin = RunsPerDay['bins'][number];

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

/** Whether the period is backwards (until before from; `YYYY-MM-DD` sorts as text). */
export function periodBackwards(f: AuditFilters): boolean {
  return f.from !== '' && f.until !== '' && f.until < f.from;
}

/** What the service is asked for these filters in this time zone (without the page). */
export type AuditQuery = Omit<MethodInput<'queryAudit'>, 'offset' | 'limit'>;

/** The service's query for the filters; a backwards period asks without it (the screen shows none). */
export function auditQuery(f: AuditFilters, timeZone: string): AuditQuery {
  const backwards = periodBackwards(f);
  return {
    dataset: f.dataset,
    grantee: f.grantee,
    kind: f.kind,
    from: backwards ? '' : f.from,
    until: backwards ? '' : f.until,
    anomaliesOnly: f.anomalies,
    timeZone,
  };
}
