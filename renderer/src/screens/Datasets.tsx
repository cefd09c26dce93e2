import { useQuery } from '@tanstack/react-query';
import { useApi } from '../api/context.tsx';
import { ErrorNote } from '../components/ErrorNote.tsx';
import { formatBytes, formatCount, formatLocal, formatRelative } from '../components/format.ts';
import { StoredCell } from './dataset-storage.tsx';

export function Datasets({
  onImport,
  onOpen,
}: {
  onImport: () => void;
  onOpen: (id: string) => void;
}) {
  const api = useApi();
  const list = useQuery({ queryKey: ['datasets'], queryFn: () => api.listDatasets({}) });
  return (
    <section className="screen" aria-labelledby="screen-title">
      <div className="screen-head">
        <h1 id="screen-title">Datasets</h1>
        {list.data && list.data.datasets.length > 0 ? (
          <button
            type="button"
            className="button button-primary"
            onClick={onImport}
            data-testid="import"
          >
            Import a dataset
          </button>
        ) : null}
      </div>
      {list.isPending ? <p className="loading">Reading your vault…</p> : null}
      <ErrorNote error={list.error} />
      {list.data && list.data.datasets.length === 0 ? (
        <div className="empty" data-testid="datasets-empty">
          <h2>Your vault has no datasets yet</h2>
          <p className="empty-lead">
            Start by importing a dataset — a CSV export from your hospital’s system, or any file.
          </p>
          <ol className="steps">
            <li>
              <strong>Import.</strong> Custos encrypts the file on this computer with a key of its
              own. Your original file is not changed or moved.
            </li>
            <li>
              <strong>Publish and register</strong> (coming with the IPFS and chain layers). The
              encrypted copy is stored on IPFS and registered on the network.
            </li>
            <li>
              <strong>Grant access</strong> to a research lab’s enclave application, for a period
              and a number of runs — confirmed on your Ledger.
            </li>
          </ol>
          <button
            type="button"
            className="button button-primary"
            onClick={onImport}
            data-testid="import"
          >
            Import your first dataset
          </button>
        </div>
      ) : null}
      {list.data && list.data.datasets.length > 0 ? (
        <table className="table" data-testid="datasets-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col" className="num">
                Records
              </th>
              <th scope="col" className="num">
                Size
              </th>
              <th scope="col">Stored</th>
              <th scope="col">Network</th>
              <th scope="col">Added</th>
            </tr>
          </thead>
          <tbody>
            {list.data.datasets.map((d) => (
              <tr key={d.id} data-testid="dataset-row">
                <td>
                  <button
                    type="button"
                    className="cell-title link-button"
                    onClick={() => onOpen(d.id)}
                    data-testid="open-dataset"
                  >
                    {d.name}
                  </button>
                  {d.description ? <span className="cell-sub">{d.description}</span> : null}
                  <span className="cell-sub mono" title={`Dataset id ${d.id}`}>
                    {d.sourceName} · {d.id.slice(0, 8)}…
                  </span>
                </td>
                <td className="num">{d.recordCount === null ? '—' : formatCount(d.recordCount)}</td>
                <td className="num">{formatBytes(d.sizeBytes)}</td>
                <StoredCell d={d} />
                <td>
                  {d.chain.registered ? (
                    <span className="status-ok">✓ Registered</span>
                  ) : (
                    <span className="status-pending">○ Not registered</span>
                  )}
                </td>
                <td title={formatLocal(d.createdAt)}>{formatRelative(d.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
