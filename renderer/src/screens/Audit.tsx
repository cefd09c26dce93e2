import { keepPreviousData, useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { AppStatus, AuditAnomaly, AuditEntry, CustosApi } from '../../../app/api/index.ts';
import { useApi } from '../api/context.tsx';
import { CopyValue } from '../components/CopyValue.tsx';
import { ErrorNote } from '../components/ErrorNote.tsx';
import { formatCount, formatLocal, formatRelative } from '../components/format.ts';
import { RunsChart } from '../components/RunsChart.tsx';
import {
  auditQuery,
  filtersFromQuery,
  NO_FILTERS,
  periodBackwards,
  queryOfFilters,
  type AuditFilters,
  type AuditQuery,
  type RunsPerDay,
} from './audit-filters.ts';
import './audit.css';

/** Timeline kinds (app/audit) in the steward's words. */
export const KIND_TEXT: Record<string, string> = {
  'dataset-registered': 'Dataset registered',
  'ownership-transferred': 'Ownership transferred',
  'operator-set': 'Key-release service named',
  frozen: 'Dataset frozen',
  unfrozen: 'Dataset unfrozen',
  'grant-created': 'Access granted',
  'grant-revoked': 'Grant revoked',
  'all-grants-revoked': 'All grants revoked',
  'run-opened': 'Enclave run opened',
  'run-closed': 'Enclave run closed',
  'key-released': 'Key released to an enclave',
  'key-refused': 'Key refused',
};

const kindText = (k: string): string => KIND_TEXT[k] ?? k;

/** The TEE badge: the type in words; SIMULATED says so in text, not only in colour. */
export function TeeBadge({ e }: { e: Pick<AuditEntry, 'teeType' | 'simulated'> }) {
  if (e.simulated)
    return (
      <span className="badge badge-simulated" data-testid="tee-simulated">
        ⚠ SIMULATED
      </span>
    );
  if (e.teeType === null) return <span className="muted">—</span>;
  return <span className="badge">{e.teeType.toUpperCase()}</span>;
}

const short = (v: string | null, n = 10): string => (v ? `${v.slice(0, n)}…` : '—');

/**
 * A column of the audit table. The table is drawn from these directly (no table library row
 * model); only the ~30 visible lines are rendered, from the pages the service sent.
 */
interface Column {
  readonly id: string;
  readonly header: string;
  readonly cell: (e: AuditEntry) => ReactNode;
}
const ROW_HEIGHT = 44;
/** Lines per request: a screen holds ~15, so one page covers the first screens of scrolling. */
const PAGE = 200;
const NO_CHART: RunsPerDay = { days: 1, bins: [], runs: 0, refusals: 0 };

/**
 * One page of the filtered audit, with the query it answers (to fetch the pages after it). Pages
 * after the first name the first's timeline `version`, so they come from the same timeline.
 */
async function fetchPage(api: CustosApi, query: AuditQuery, page: number, version?: string) {
  const answer = await api.queryAudit({
    ...query,
    offset: page * PAGE,
    limit: PAGE,
    ...(version === undefined ? {} : { version }),
  });
  return { ...answer, query };
}

function Evidence({ e, onClose }: { e: AuditEntry; onClose: () => void }) {
  const rows: [string, string | number | null][] = [
    ['Transaction', e.txHash],
    ['Block', e.blockNumber],
    ['Block hash', e.evidence.blockHash],
    ['Log index', e.evidence.logIndex],
    ['Journal entry', e.evidence.journalSeq],
    ['Journal entry hash', e.evidence.journalHash],
    ['Attestation evidence hash', e.evidence.evidenceHash],
    ['Result hash', e.resultHash],
    ['Grant', e.grantId],
    ['Run', e.runId],
    ['Measurement', e.measurement],
    ['Account', e.who],
  ];
  return (
    <aside className="side-panel" aria-labelledby="evidence-title" data-testid="evidence">
      <div className="side-head">
        <h2 id="evidence-title">{kindText(e.kind)}</h2>
        <button type="button" className="button button-quiet" onClick={onClose}>
          Close
        </button>
      </div>
      <p>{e.what}</p>
      <p className="muted">
        {e.time ? `${formatLocal(e.time)} (${formatRelative(e.time)})` : 'time unknown'} —{' '}
        {e.source === 'chain' ? 'recorded on the network' : 'from the key-release journal'}
      </p>
      <p>
        Dataset: <strong>{e.datasetName}</strong>
        {e.granteeName ? (
          <>
            {' '}
            · Grantee: <strong>{e.granteeName}</strong>
          </>
        ) : null}
        {e.appName ? (
          <>
            {' '}
            · App: <strong>{e.appName}</strong>
          </>
        ) : null}{' '}
        · TEE: <TeeBadge e={e} />
      </p>
      {e.simulated ? (
        <p className="note" role="note">
          This evidence comes from the development network’s simulated enclave: it proves the flow,
          not real hardware isolation.
        </p>
      ) : null}
      {e.anomalies.length > 0 ? (
        <p className="note note-error" data-testid="evidence-anomalies">
          ⚠ Anomaly: {e.anomalies.join(', ')}
        </p>
      ) : null}
      <dl className="evidence-list">
        {rows
          .filter(([, v]) => v !== null)
          .map(([k, v]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd>
                {typeof v === 'string' && v.startsWith('0x') ? (
                  <CopyValue value={v} label={k} short={12} />
                ) : (
                  String(v)
                )}
              </dd>
            </div>
          ))}
      </dl>
    </aside>
  );
}

const ANOMALIES_SHOWN = 5;

/** The anomalies: the first few, and the rest one click away (a long list would bury the table). */
function AnomalyList({ anomalies }: { anomalies: readonly AuditAnomaly[] }) {
  const item = (a: AuditAnomaly, i: number) => (
    <li key={i}>
      ⚠ {a.datasetName}: {a.message}
    </li>
  );
  return (
    <div data-testid="anomalies">
      <ul className="anomalies" aria-label="Anomalies">
        {anomalies.slice(0, ANOMALIES_SHOWN).map(item)}
      </ul>
      {anomalies.length > ANOMALIES_SHOWN ? (
        <details>
          <summary>
            Show the other {formatCount(anomalies.length - ANOMALIES_SHOWN)} anomalies
          </summary>
          <ul className="anomalies" aria-label="Other anomalies">
            {anomalies.slice(ANOMALIES_SHOWN).map((a, i) => item(a, i + ANOMALIES_SHOWN))}
          </ul>
        </details>
      ) : null}
    </div>
  );
}

/**
 * Audit: every event on the steward's datasets (chain + key-release journal), newest first, in a
 * virtualized table (TanStack Virtual) whose lines the service sends a page at a time as the table
 * scrolls; filters (in the URL) are applied by the service, with a side panel of evidence.
 */
export function Audit({ status }: { status: AppStatus }) {
  const api = useApi();
  const queries = useQueryClient();
  const connected = status.network.state === 'connected';
  const [filters, setFilters] = useState<AuditFilters>(() => filtersFromQuery(location.search));
  const set = (change: Partial<AuditFilters>) => setFilters((f) => ({ ...f, ...change }));
  const [selected, setSelected] = useState<AuditEntry | null>(null);
  const timeZone = useMemo(() => Intl.DateTimeFormat().resolvedOptions().timeZone, []);
  const query = useMemo(() => auditQuery(filters, timeZone), [filters, timeZone]);
  const head = useQuery({
    queryKey: ['audit', query, 0],
    queryFn: () => fetchPage(api, query, 0),
    enabled: connected,
    // Coming back to the screen shows what was read (up to a minute old); Refresh asks again.
    staleTime: 60_000,
    // While new filters are applied, the last answer stays on screen (marked busy).
    placeholderData: keepPreviousData,
  });

  // The filters live in the address (?view=audit&dataset=…): a filtered view can be reloaded or shared.
  useEffect(() => {
    history.replaceState(history.state, '', `${location.pathname}${queryOfFilters(filters)}`);
  }, [filters]);
  useEffect(() => () => history.replaceState(history.state, '', location.pathname), []);

  const { kind, dataset, grantee, from, until, anomalies: anomaliesOnly } = filters;
  const backwards = periodBackwards(filters);
  const view = head.data;
  const total = backwards ? 0 : (view?.total ?? 0);
  const chart = backwards ? NO_CHART : (view?.chart ?? NO_CHART);
  const filtering = head.isPlaceholderData && head.isFetching;
  const filtered =
    kind !== '' || dataset !== '' || grantee !== '' || from !== '' || until !== '' || anomaliesOnly;
  const columns = useMemo<Column[]>(
    () => [
      {
        id: 'time',
        header: 'Time',
        cell: (e) => (
          <button
            type="button"
            className="button-link row-open"
            onClick={() => setSelected(e)}
            title={e.time ? formatLocal(e.time) : undefined}
            data-testid="audit-open"
          >
            {e.time ? formatRelative(e.time) : '—'}
          </button>
        ),
      },
      {
        id: 'event',
        header: 'Event',
        cell: (e) => (
          <>
            {e.anomalies.length > 0 ? <span className="badge badge-anomaly">⚠ Anomaly</span> : null}{' '}
            {kindText(e.kind)}
          </>
        ),
      },
      { id: 'dataset', header: 'Dataset', cell: (e) => e.datasetName },
      // A closed run names only its run: the service gives it the grantee whose grant opened it.
      { id: 'grantee', header: 'Grantee', cell: (e) => e.granteeName ?? '—' },
      { id: 'app', header: 'App', cell: (e) => e.appName ?? '—' },
      { id: 'tee', header: 'TEE', cell: (e) => <TeeBadge e={e} /> },
      {
        id: 'result',
        header: 'Result hash',
        cell: (e) => <span className="mono">{short(e.resultHash)}</span>,
      },
      { id: 'tx', header: 'Tx', cell: (e) => <span className="mono">{short(e.txHash)}</span> },
    ],
    [],
  );
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: total,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
  });
  // New filters show their first lines from the top.
  useEffect(() => {
    if (!head.isPlaceholderData) virtualizer.scrollToOffset(0);
  }, [view?.query, head.isPlaceholderData, virtualizer]);

  // The pages under the visible lines, past the first (which came with the counts and the chart).
  const visible = virtualizer.getVirtualItems();
  const wanted = [...new Set(visible.map((v) => Math.floor(v.index / PAGE)))].filter((p) => p > 0);
  const pages = useQueries({
    queries: wanted.map((p) => ({
      queryKey: ['audit', view?.query, view?.version, p],
      queryFn: async () => {
        if (!view) throw new Error('no first page');
        const answer = await fetchPage(api, view.query, p, view.version);
        // The service no longer has that timeline (new events): counts and chart are read again.
        if (answer.version !== view.version)
          void queries.invalidateQueries({ queryKey: ['audit', view.query, 0] });
        return answer;
      },
      enabled: view !== undefined,
      staleTime: 60_000,
    })),
  });
  const entryAt = (i: number): AuditEntry | undefined => {
    const p = Math.floor(i / PAGE);
    const answer = p === 0 ? view : pages[wanted.indexOf(p)]?.data;
    return answer?.entries[i - p * PAGE];
  };
  const pageError = pages.find((p) => p.error)?.error ?? null;
  const loadingMore = pages.some((p) => p.isFetching);

  return (
    <section className="screen" aria-labelledby="screen-title" data-testid="audit">
      <h1 id="screen-title">Audit</h1>
      <p className="lead">
        Everything that happened to your datasets: grants, revocations, enclave runs and key
        releases, read from the network and the key-release journal.
      </p>
      {!connected ? (
        <p className="muted">The network is not running: the audit is read from it.</p>
      ) : null}
      <ErrorNote error={head.error} title="The audit could not be read" />
      {connected && !view && head.isFetching ? (
        <p className="muted" role="status" data-testid="audit-loading">
          Reading the audit from the network and the key-release journal…
        </p>
      ) : null}
      {view ? (
        <>
          <div className="filters" role="group" aria-label="Filters">
            <label>
              Dataset{' '}
              <select
                value={dataset}
                onChange={(e) => set({ dataset: e.target.value })}
                data-testid="filter-dataset"
              >
                <option value="">All datasets</option>
                {view.datasets.map((d) => (
                  <option key={d.id} value={d.id}>
                    {d.name}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Grantee{' '}
              <select
                value={grantee}
                onChange={(e) => set({ grantee: e.target.value })}
                data-testid="filter-grantee"
              >
                <option value="">All grantees</option>
                {view.grantees.map((g) => (
                  <option key={g} value={g}>
                    {g}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Event{' '}
              <select
                value={kind}
                onChange={(e) => set({ kind: e.target.value })}
                data-testid="filter-kind"
              >
                <option value="">All events</option>
                {view.kinds.map((k) => (
                  <option key={k} value={k}>
                    {kindText(k)}
                  </option>
                ))}
              </select>
            </label>
            <label>
              From{' '}
              <input
                type="date"
                value={from}
                max={until || undefined}
                onChange={(e) => set({ from: e.target.value })}
                data-testid="filter-from"
              />
            </label>
            <label>
              Until{' '}
              <input
                type="date"
                value={until}
                min={from || undefined}
                onChange={(e) => set({ until: e.target.value })}
                data-testid="filter-until"
              />
            </label>
            <label>
              <input
                type="checkbox"
                checked={anomaliesOnly}
                onChange={(e) => set({ anomalies: e.target.checked })}
                data-testid="filter-anomalies"
              />{' '}
              Anomalies only ({view.anomalies.length})
            </label>
            {filtered ? (
              <button
                type="button"
                className="button button-quiet"
                onClick={() => setFilters(NO_FILTERS)}
                data-testid="filter-clear"
              >
                Clear filters
              </button>
            ) : null}
            <button
              type="button"
              className="button button-quiet"
              onClick={() => void queries.invalidateQueries({ queryKey: ['audit'] })}
            >
              Refresh
            </button>
            <span className="muted" data-testid="audit-count" aria-live="polite">
              {formatCount(total)} of {formatCount(view.all)} events
            </span>
            <span className="muted" role="status" data-testid="audit-busy">
              {filtering ? 'Applying the filters…' : loadingMore ? 'Loading more events…' : ''}
            </span>
            {backwards ? (
              <p className="note note-error filters-note" role="alert" data-testid="period-error">
                The period ends before it starts: choose an “Until” date on or after “From”.
              </p>
            ) : null}
          </div>
          <ErrorNote error={pageError} title="More events could not be read" />
          {view.all > 0 ? (
            <RunsChart chart={chart} onPick={(from, until) => set({ from, until })} />
          ) : null}
          {view.all === 0 ? (
            <p className="empty empty-inline" data-testid="audit-empty">
              Nothing yet. Publish a dataset and grant access: every grant, run and key release will
              appear here.
            </p>
          ) : (
            <div className="audit-layout">
              <div
                className="vtable"
                role="table"
                aria-label="Audit events"
                aria-rowcount={total + 1}
                aria-busy={filtering || loadingMore}
                data-testid="audit-table"
              >
                <div role="rowgroup" className="vtable-head">
                  <div role="row" className="vtable-row" aria-rowindex={1}>
                    {columns.map((c) => (
                      <div role="columnheader" key={c.id} className={`vcell vcell-${c.id}`}>
                        {c.header}
                      </div>
                    ))}
                  </div>
                </div>
                <div ref={scroller} className="vtable-body" role="rowgroup">
                  <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
                    {visible.map((v) => {
                      const e = entryAt(v.index);
                      const place = {
                        position: 'absolute',
                        top: 0,
                        left: 0,
                        right: 0,
                        height: ROW_HEIGHT,
                        transform: `translateY(${v.start}px)`,
                      } as const;
                      if (!e)
                        return (
                          <div
                            role="row"
                            key={`loading-${v.index}`}
                            aria-rowindex={v.index + 2}
                            className="vtable-row vtable-row-loading"
                            data-testid="audit-row-loading"
                            style={place}
                          >
                            <div role="cell" className="vcell">
                              Loading event {formatCount(v.index + 1)}…
                            </div>
                          </div>
                        );
                      return (
                        <div
                          role="row"
                          key={e.id}
                          aria-rowindex={v.index + 2}
                          className={`vtable-row${e.id === selected?.id ? ' vtable-row-selected' : ''}`}
                          data-testid="audit-row"
                          data-kind={e.kind}
                          style={place}
                        >
                          {columns.map((c) => (
                            <div role="cell" key={c.id} className={`vcell vcell-${c.id}`}>
                              {c.cell(e)}
                            </div>
                          ))}
                        </div>
                      );
                    })}
                  </div>
                </div>
              </div>
              {selected ? <Evidence e={selected} onClose={() => setSelected(null)} /> : null}
            </div>
          )}
          {view.anomalies.length > 0 ? <AnomalyList anomalies={view.anomalies} /> : null}
        </>
      ) : null}
    </section>
  );
}
