import { useQuery } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { AppStatus, AuditAnomaly, AuditEntry } from '../../../app/api/index.ts';
import { useApi } from '../api/context.tsx';
import { CopyValue } from '../components/CopyValue.tsx';
import { ErrorNote } from '../components/ErrorNote.tsx';
import { formatCount, formatLocal, formatRelative } from '../components/format.ts';
import { RunsChart } from '../components/RunsChart.tsx';
import {
  byKind,
  filtersFromQuery,
  indexAudit,
  NO_FILTERS,
  periodBackwards,
  queryOfFilters,
  runsPerDay,
  selectEntries,
  type AuditFilters,
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
 * model): with 200,000 lines, building a row object per line on every filter cost more than the
 * filter itself; only the ~30 visible lines are ever rendered.
 */
interface Column {
  readonly id: string;
  readonly header: string;
  readonly cell: (e: AuditEntry) => ReactNode;
}
const ROW_HEIGHT = 44;

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
 * virtualized table (TanStack Virtual), with filters and a side panel of evidence.
 */
export function Audit({ status }: { status: AppStatus }) {
  const api = useApi();
  const connected = status.network.state === 'connected';
  const audit = useQuery({
    queryKey: ['audit'],
    queryFn: () => api.getAudit({}),
    enabled: connected,
    // Coming back to the screen shows what was read (up to a minute old); Refresh reads again.
    staleTime: 60_000,
  });
  const [filters, setFilters] = useState<AuditFilters>(() => filtersFromQuery(location.search));
  const set = (change: Partial<AuditFilters>) => setFilters((f) => ({ ...f, ...change }));
  const [selected, setSelected] = useState<string | null>(null);
  const all = audit.data?.entries;

  // The filters live in the address (?view=audit&dataset=…): a filtered view can be reloaded or shared.
  useEffect(() => {
    history.replaceState(history.state, '', `${location.pathname}${queryOfFilters(filters)}`);
  }, [filters]);
  useEffect(() => () => history.replaceState(history.state, '', location.pathname), []);

  // Computed once per timeline; a filter is then one pass over typed arrays.
  const index = useMemo(() => indexAudit(all ?? []), [all]);
  const { kind, dataset, grantee, from, until, anomalies: anomaliesOnly } = filters;
  const backwards = periodBackwards(filters);
  const chosenSet = useMemo(
    () =>
      backwards
        ? new Int32Array(0)
        : selectEntries(index, {
            ...NO_FILTERS,
            dataset,
            grantee,
            from,
            until,
            anomalies: anomaliesOnly,
          }),
    [index, dataset, grantee, from, until, anomaliesOnly, backwards],
  );
  const chart = useMemo(
    () => runsPerDay(index, chosenSet, { ...NO_FILTERS, from, until }),
    [index, chosenSet, from, until],
  );
  const shown = useMemo(() => byKind(index, chosenSet, kind), [index, chosenSet, kind]);
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
            onClick={() => setSelected(e.id)}
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
      {
        id: 'grantee',
        header: 'Grantee',
        // A closed run names only its run: its grantee is the one whose grant opened it.
        cell: (e) => e.granteeName ?? (e.runId ? index.granteeOfRun.get(e.runId) : null) ?? '—',
      },
      { id: 'app', header: 'App', cell: (e) => e.appName ?? '—' },
      { id: 'tee', header: 'TEE', cell: (e) => <TeeBadge e={e} /> },
      {
        id: 'result',
        header: 'Result hash',
        cell: (e) => <span className="mono">{short(e.resultHash)}</span>,
      },
      { id: 'tx', header: 'Tx', cell: (e) => <span className="mono">{short(e.txHash)}</span> },
    ],
    [index],
  );
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: shown.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
  });
  const chosen = useMemo(
    () => (selected === null ? null : (all?.find((e) => e.id === selected) ?? null)),
    [all, selected],
  );

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
      <ErrorNote error={audit.error} title="The audit could not be read" />
      {audit.data ? (
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
                {index.datasets.map((d) => (
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
                {index.grantees.map((g) => (
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
                {index.kinds.map((k) => (
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
              Anomalies only ({audit.data.anomalies.length})
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
              onClick={() => void audit.refetch()}
            >
              Refresh
            </button>
            <span className="muted" data-testid="audit-count" aria-live="polite">
              {formatCount(shown.length)} of {formatCount(audit.data.entries.length)} events
            </span>
            {backwards ? (
              <p className="note note-error filters-note" role="alert" data-testid="period-error">
                The period ends before it starts: choose an “Until” date on or after “From”.
              </p>
            ) : null}
          </div>
          {audit.data.entries.length > 0 ? (
            <RunsChart chart={chart} onPick={(from, until) => set({ from, until })} />
          ) : null}
          {audit.data.entries.length === 0 ? (
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
                aria-rowcount={shown.length + 1}
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
                    {virtualizer.getVirtualItems().map((v) => {
                      const e = index.entries[shown[v.index] ?? -1];
                      if (!e) return null;
                      return (
                        <div
                          role="row"
                          key={e.id}
                          aria-rowindex={v.index + 2}
                          className={`vtable-row${e.id === selected ? ' vtable-row-selected' : ''}`}
                          data-testid="audit-row"
                          data-kind={e.kind}
                          style={{
                            position: 'absolute',
                            top: 0,
                            left: 0,
                            right: 0,
                            height: ROW_HEIGHT,
                            transform: `translateY(${v.start}px)`,
                          }}
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
              {chosen ? <Evidence e={chosen} onClose={() => setSelected(null)} /> : null}
            </div>
          )}
          {audit.data.anomalies.length > 0 ? (
            <AnomalyList anomalies={audit.data.anomalies} />
          ) : null}
        </>
      ) : null}
    </section>
  );
}
