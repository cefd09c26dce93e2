import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import type { AppStatus, Dataset, PublishProgress } from '../../../app/api/index.ts';
import { useApi } from '../api/context.tsx';
import { CopyValue } from '../components/CopyValue.tsx';
import { DeviceWaiting } from '../components/Device.tsx';
import { ErrorNote } from '../components/ErrorNote.tsx';
import { formatBytes, formatCount, formatLocal, formatRelative } from '../components/format.ts';
import { Tabs } from '../components/Tabs.tsx';
import { StorageTab } from './dataset-storage.tsx';
import { GrantsTab } from './Grants.tsx';

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

const STAGES: { id: PublishProgress['stage']; label: string }[] = [
  { id: 'publishing', label: 'Publishing to IPFS' },
  { id: 'registering', label: 'Registering on the network' },
  { id: 'naming-operator', label: 'Naming the key-release service' },
];

/** "Publish and register": stages, each signature confirmed on the device (the device prompt). */
function Publish({ d, status }: { d: Dataset; status: AppStatus }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [progress, setProgress] = useState<PublishProgress | null>(null);
  const [running, setRunning] = useState(false);
  const [failed, setFailed] = useState(false);
  const [error, setError] = useState<unknown>(null);
  useEffect(
    () =>
      api.on('publishProgress', (p: PublishProgress) => {
        if (p.datasetId !== d.id) return;
        // A failure keeps the stage it happened in, to mark it.
        setProgress((prev) =>
          p.stage === 'failed' ? { ...p, stage: prev?.stage ?? 'publishing' } : p,
        );
        setFailed(p.stage === 'failed');
      }),
    [api, d.id],
  );
  if (d.chain.registered) return null;
  const connected = status.network.state === 'connected';
  const start = () => {
    setError(null);
    setRunning(true);
    api
      .publishDataset({ id: d.id })
      .then((next) => {
        queryClient.setQueryData(['dataset', d.id], next);
        void queryClient.invalidateQueries({ queryKey: ['datasets'] });
      })
      .catch((e: unknown) => {
        setError(e);
        // a publish stopped after IPFS keeps its CID: the chips must say so
        void queryClient.invalidateQueries({ queryKey: ['dataset', d.id] });
        void queryClient.invalidateQueries({ queryKey: ['datasets'] });
      })
      .finally(() => setRunning(false));
  };
  const at = progress ? STAGES.findIndex((x) => x.id === progress.stage) : -1;
  return (
    <div className="publish" data-testid="publish">
      <p>
        Publishing puts the <strong>encrypted</strong> copy on IPFS and registers it on the{' '}
        {status.network.label.toLowerCase()}, signed on your{' '}
        {status.device.signer === 'dev-key' ? 'development key' : 'Ledger'}. Nobody can read it
        until you grant access.
      </p>
      {!connected ? (
        <p className="muted" data-testid="publish-wait">
          {status.network.state === 'connecting'
            ? 'The network is starting; publishing will be possible in a moment.'
            : status.network.state === 'unreachable'
              ? 'The network does not answer, so publishing is not possible now. Settings → Network says why and can restart the development network.'
              : 'The network is not running: publishing is not possible now.'}
        </p>
      ) : null}
      <button
        type="button"
        className="button"
        data-testid="publish-button"
        disabled={!connected || running}
        onClick={start}
      >
        {running ? 'Publishing…' : 'Publish and register'}
      </button>
      {progress && (running || failed) ? (
        <ol className="stages" aria-label="Publishing stages" data-testid="publish-stages">
          {STAGES.map((x, i) => (
            <li key={x.id} className={i === at ? 'stage-current' : undefined}>
              {failed && i === at
                ? '✕'
                : i < at || progress.stage === 'done'
                  ? '✓'
                  : i === at
                    ? '➜'
                    : '○'}{' '}
              {x.label}
            </li>
          ))}
        </ol>
      ) : null}
      <DeviceWaiting device={status.device} waiting={running} />
      <ErrorNote
        error={error}
        title={
          progress?.stage === 'publishing'
            ? 'Not published — nothing was registered on the network'
            : 'Publishing did not finish'
        }
      />
    </div>
  );
}

export function DatasetDetail({
  id,
  status,
  onBack,
  startGrant = false,
}: {
  id: string;
  status: AppStatus;
  onBack: () => void;
  /** Open on the Grants tab with the grant wizard (after "Grant access" on the import screen). */
  startGrant?: boolean;
}) {
  const api = useApi();
  const [tab, setTab] = useState<TabId>(startGrant ? 'grants' : 'details');
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
              <li className="chip" data-testid="ipfs-chip">
                {d.storage.ipfsCid ? '✓ IPFS: published and pinned' : '○ IPFS: not published yet'}
              </li>
              <li className="chip" data-testid="chain-chip">
                {d.chain.registered
                  ? '✓ Network: registered'
                  : d.chain.session
                    ? '○ Network: registered on an earlier development network (it starts empty each time)'
                    : '○ Network: not registered'}
              </li>
            </ul>
            {d.chain.registered && d.chain.onChainId ? (
              <p className="muted" data-testid="chain-ids">
                Registered as <CopyValue value={d.chain.onChainId} label="registry id" short={10} />
                {d.chain.txHash ? (
                  <>
                    {' '}
                    in transaction{' '}
                    <CopyValue value={d.chain.txHash} label="transaction" short={10} />
                  </>
                ) : null}
              </p>
            ) : null}
            <Publish d={d} status={status} />
          </header>
          <Tabs<TabId>
            label="Dataset"
            selected={tab}
            onSelect={setTab}
            tabs={[
              {
                id: 'grants',
                label: 'Grants',
                content: <GrantsTab d={d} status={status} startWizard={startGrant} />,
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
                content: <StorageTab d={d} />,
              },
              { id: 'details', label: 'Details', content: <Details d={d} /> },
            ]}
          />
        </>
      ) : null}
    </section>
  );
}
