import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import type { Dataset } from '../../../app/api/index.ts';
import { useApi } from '../api/context.tsx';
import { CopyValue } from '../components/CopyValue.tsx';
import { ErrorNote } from '../components/ErrorNote.tsx';
import { formatBytes, formatCount, formatLocal, formatRelative } from '../components/format.ts';
import { Tabs } from '../components/Tabs.tsx';

type TabId = 'grants' | 'runs' | 'storage' | 'details';

function Later({ title, text }: { title: string; text: string }) {
  return (
    <div className="empty empty-inline">
      <p className="empty-badge">{title}</p>
      <p>{text}</p>
    </div>
  );
}

function Details({ d }: { d: Dataset }) {
  return (
    <dl className="details">
      <div>
        <dt>Original file</dt>
        <dd className="mono">{d.sourceName}</dd>
      </div>
      <div>
        <dt>Size</dt>
        <dd>{formatBytes(d.sizeBytes)}</dd>
      </div>
      <div>
        <dt>Records</dt>
        <dd>{d.recordCount === null ? 'not a table' : formatCount(d.recordCount)}</dd>
      </div>
      <div>
        <dt>Added</dt>
        <dd>
          {formatLocal(d.createdAt)} ({formatRelative(d.createdAt)})
        </dd>
      </div>
      <div>
        <dt>Dataset id</dt>
        <dd>
          <CopyValue value={d.id} label="dataset id" />
        </dd>
      </div>
      <div>
        <dt>SHA-256 of the original</dt>
        <dd>
          <CopyValue value={d.sha256} label="SHA-256 fingerprint" short={16} />
        </dd>
      </div>
      {d.columns.length > 0 ? (
        <div className="details-wide">
          <dt>Columns ({formatCount(d.columns.length)})</dt>
          <dd>
            <ul className="column-list">
              {d.columns.map((c, i) => (
                <li key={i} className="mono">
                  {c}
                </li>
              ))}
            </ul>
          </dd>
        </div>
      ) : null}
    </dl>
  );
}

export function DatasetDetail({ id, onBack }: { id: string; onBack: () => void }) {
  const api = useApi();
  const [tab, setTab] = useState<TabId>('details');
  const dataset = useQuery({ queryKey: ['dataset', id], queryFn: () => api.getDataset({ id }) });
  const d = dataset.data;
  return (
    <section className="screen" aria-labelledby="screen-title" data-testid="dataset-detail">
      <button type="button" className="button button-link back-link" onClick={onBack}>
        ← All datasets
      </button>
      <ErrorNote error={dataset.error} />
      {d ? (
        <>
          <header className="detail-head">
            <h1 id="screen-title">{d.name}</h1>
            {d.description ? <p className="lead">{d.description}</p> : null}
            <ul className="chips" aria-label="Dataset status">
              <li className="chip">✓ Encrypted on this computer</li>
              <li className="chip">○ IPFS: not published yet</li>
              <li className="chip">○ Network: not registered</li>
            </ul>
          </header>
          <Tabs<TabId>
            label="Dataset"
            selected={tab}
            onSelect={setTab}
            tabs={[
              {
                id: 'grants',
                label: 'Grants',
                content: (
                  <Later
                    title="Coming with the chain layer"
                    text="Grants let a research lab’s enclave application use this dataset for a period and a number of runs. You will create, review and revoke them here, confirming each on your Ledger."
                  />
                ),
              },
              {
                id: 'runs',
                label: 'Runs',
                content: (
                  <Later
                    title="Coming with the audit layer"
                    text="Every enclave run on this dataset will be listed here with its evidence. No run can happen before a grant exists."
                  />
                ),
              },
              {
                id: 'storage',
                label: 'Storage',
                content: (
                  <ul className="storage-list">
                    <li>
                      <span className="status-ok">✓ This computer</span> — encrypted in your vault
                      folder; only your vault holds its key.
                    </li>
                    <li>
                      <span className="status-pending">○ IPFS</span> — not published yet. Publishing
                      arrives with the IPFS layer.
                    </li>
                  </ul>
                ),
              },
              { id: 'details', label: 'Details', content: <Details d={d} /> },
            ]}
          />
        </>
      ) : null}
    </section>
  );
}
