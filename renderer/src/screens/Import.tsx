import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import type { ImportJob, ImportPreview, ImportStage } from '../../../app/api/index.ts';
import { ApiCallError } from '../api/client.ts';
import { useApi } from '../api/context.tsx';
import { ErrorNote } from '../components/ErrorNote.tsx';
import { Stage } from '../components/Stage.tsx';
import { formatBytes, formatCount, formatDuration, formatRate } from '../components/format.ts';

const FORMAT_TEXT: Record<ImportPreview['format'], string> = {
  csv: 'CSV table',
  'fhir-ndjson': 'FHIR resources (NDJSON)',
  file: 'File, imported as is',
};

const STAGES: { id: ImportStage; label: string }[] = [
  { id: 'checking', label: 'Checking the source' },
  { id: 'encrypting', label: 'Encrypting' },
  { id: 'indexing', label: 'Saving to the vault' },
];
/** What follows an import, started by the steward from the dataset's page (signed on the device). */
const LATER = [
  { label: 'Publishing to IPFS', arrives: 'next, with “Publish and register” on the dataset' },
  { label: 'Registering on the network', arrives: 'signed on your Ledger' },
];

function nameFrom(sourceName: string): string {
  const base = sourceName
    .replace(/\.[^.]+$/, '')
    .replace(/[_-]+/g, ' ')
    .trim();
  return base.charAt(0).toUpperCase() + base.slice(1);
}

function Progress({ job, onCancel }: { job: ImportJob; onCancel: () => void }) {
  const current = STAGES.findIndex((s) => s.id === job.stage);
  const fraction = job.bytesTotal > 0 ? job.bytesDone / job.bytesTotal : 0;
  return (
    <div data-testid="import-progress" data-state={job.state} data-stage={job.stage}>
      <ol className="stages">
        {STAGES.map((s, i) => {
          const stopped = job.state === 'cancelled' || job.state === 'failed';
          const state =
            job.state === 'done' || i < current
              ? 'done'
              : i === current
                ? stopped
                  ? 'stopped'
                  : 'active'
                : 'todo';
          return <Stage key={s.id} label={s.label} state={state} />;
        })}
        {LATER.map((s) => (
          <li key={s.label} className="stage stage-later">
            <span className="stage-mark" aria-hidden="true">
              ·
            </span>
            {s.label} <span className="muted">— {s.arrives}</span>
          </li>
        ))}
      </ol>
      {job.state === 'running' ? (
        <>
          <progress
            className="bar"
            max={1}
            value={fraction}
            aria-label={`${STAGES[current]?.label ?? 'Import'} progress`}
          />
          <p className="progress-text" aria-live="polite">
            {formatBytes(job.bytesDone)}
            {job.bytesTotal > 0 ? ` of ${formatBytes(job.bytesTotal)}` : ''}
            {job.bytesPerSecond > 0 ? ` · ${formatRate(job.bytesPerSecond)}` : ''}
            {job.etaSeconds !== null ? ` · about ${formatDuration(job.etaSeconds)} left` : ''}
          </p>
          <button type="button" className="button" onClick={onCancel} data-testid="cancel-import">
            Cancel import
          </button>
        </>
      ) : null}
    </div>
  );
}

export function Import({
  onDone,
  onOpen,
  onGrant,
}: {
  onDone: () => void;
  onOpen: (id: string) => void;
  /** Opens the dataset with the grant wizard (it asks to publish first when needed). */
  onGrant: (id: string) => void;
}) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [path, setPath] = useState('');
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [job, setJob] = useState<ImportJob | null>(null);

  const preview = useMutation({
    mutationFn: () => api.previewImport({ path: path.trim() }),
    onSuccess: (p: ImportPreview) => setName((n) => n || nameFrom(p.sourceName)),
  });
  const status = useQuery({ queryKey: ['status'], queryFn: () => api.getStatus({}) });
  const canChoose = status.data?.canChooseFiles === true;
  const choose = useMutation({
    mutationFn: () => api.chooseImportFile({}),
    onSuccess: ({ path: picked }) => {
      if (picked === null) return;
      setPath(picked);
      preview.reset();
    },
  });
  const start = useMutation({
    mutationFn: () => api.startImport({ path: path.trim(), name: name.trim(), description }),
    onSuccess: async ({ jobId }) => setJob(await api.getImport({ jobId })),
  });
  const jobId = job?.jobId;

  useEffect(() => {
    if (!jobId) return;
    const apply = (next: ImportJob) => {
      if (next.jobId !== jobId) return;
      setJob(next);
      if (next.state === 'done') void queryClient.invalidateQueries({ queryKey: ['datasets'] });
    };
    const off = api.on('importProgress', apply);
    // An event sent before this subscription would be missed: read the job once more.
    api.getImport({ jobId }).then(apply, () => undefined);
    return off;
  }, [api, jobId, queryClient]);

  const p = preview.data;
  const restart = () => {
    setJob(null);
    start.reset();
  };

  if (job) {
    return (
      <section className="screen" aria-labelledby="screen-title">
        <h1 id="screen-title">
          {job.state === 'done'
            ? `Imported “${name}”`
            : job.state === 'cancelled'
              ? `Import of “${name}” cancelled`
              : job.state === 'failed'
                ? `Import of “${name}” stopped`
                : `Importing “${name}”`}
        </h1>
        <Progress job={job} onCancel={() => void api.cancelImport({ jobId: job.jobId })} />
        {job.state === 'done' ? (
          <div className="note note-ok" role="status" data-testid="import-done">
            <span className="note-icon" aria-hidden="true">
              ✓
            </span>
            <div>
              <strong className="note-title">“{name}” is encrypted in your vault.</strong>
              <p className="note-text">
                Next: grant a research lab’s enclave access to it. It is published to IPFS and
                registered on the network first (one confirmation on your device), then the grant
                wizard opens.
              </p>
              <div className="actions">
                <button
                  type="button"
                  className="button button-primary"
                  data-testid="import-grant"
                  disabled={!job.datasetId}
                  onClick={() => onGrant(job.datasetId ?? '')}
                >
                  Grant access
                </button>
                <button type="button" className="button" onClick={onDone} data-testid="to-datasets">
                  See your datasets
                </button>
                {job.datasetId ? (
                  <button
                    type="button"
                    className="button"
                    onClick={() => onOpen(job.datasetId ?? '')}
                  >
                    Open “{name}”
                  </button>
                ) : null}
              </div>
            </div>
          </div>
        ) : null}
        {job.state === 'cancelled' || job.state === 'failed' ? (
          <div data-testid="import-stopped">
            {job.state === 'failed' && job.error ? (
              <ErrorNote error={new ApiCallError(job.error)} title="The import stopped" />
            ) : (
              <div className="note" role="status">
                <div>
                  <strong className="note-title">Import cancelled.</strong>
                </div>
              </div>
            )}
            <p data-testid="import-outcome">{job.outcome}</p>
            <div className="actions">
              <button type="button" className="button button-primary" onClick={restart}>
                Try again
              </button>
              <button type="button" className="button" onClick={onDone}>
                Back to datasets
              </button>
            </div>
          </div>
        ) : null}
      </section>
    );
  }

  return (
    <section className="screen" aria-labelledby="screen-title">
      <h1 id="screen-title">Import a dataset</h1>
      <p className="lead">
        Custos encrypts the file on this computer and keeps its key in your vault. The original file
        is only read — never changed, moved or uploaded.
      </p>
      <form
        className="panel"
        onSubmit={(e) => {
          e.preventDefault();
          if (path.trim()) preview.mutate();
        }}
      >
        <h2>1. Choose the file or folder</h2>
        <label className="field">
          <span className="field-label">Full path of the file or folder</span>
          <span className="field-help" id="path-help">
            For example /home/steward/exports/cardiology-2024.csv. CSV files and FHIR NDJSON files
            get a preview of their columns or resource types and records; any other file is imported
            as is. A folder becomes one dataset: a FHIR bulk export (its .ndjson files) or CSV files
            that share one header.
          </span>
          <div className="field-row">
            <input
              value={path}
              onChange={(e) => {
                setPath(e.target.value);
                preview.reset();
              }}
              spellCheck={false}
              aria-describedby="path-help"
              data-testid="import-path"
              className="mono grow"
            />
            {canChoose ? (
              <button
                type="button"
                className="button"
                onClick={() => choose.mutate()}
                disabled={choose.isPending}
              >
                Choose file…
              </button>
            ) : null}
            <button
              type="submit"
              className="button"
              disabled={!path.trim() || preview.isPending}
              data-testid="preview"
            >
              {preview.isPending ? 'Reading…' : 'Preview'}
            </button>
          </div>
        </label>
        <ErrorNote error={choose.error} />
        <ErrorNote error={preview.error} title="Custos could not read this file or folder" />
      </form>

      {p ? (
        <>
          <div className="panel" data-testid="import-preview">
            <h2>2. Check what is inside</h2>
            <dl className="facts">
              <div>
                <dt>{p.folder ? 'Folder' : 'File'}</dt>
                <dd className="mono">{p.sourceName}</dd>
              </div>
              {p.folder ? (
                <div>
                  <dt>Files</dt>
                  <dd data-testid="preview-files">
                    {formatCount(p.folder.files)}
                    {p.folder.ignored > 0
                      ? ` (${formatCount(p.folder.ignored)} left out: hidden files, subfolders)`
                      : ''}
                  </dd>
                </div>
              ) : null}
              <div>
                <dt>Kind</dt>
                <dd>{FORMAT_TEXT[p.format]}</dd>
              </div>
              <div>
                <dt>Size</dt>
                <dd>{formatBytes(p.sizeBytes)}</dd>
              </div>
              <div>
                <dt>Records</dt>
                <dd data-testid="preview-records">
                  {p.recordCount === null
                    ? 'not a table'
                    : `${p.truncated ? 'at least ' : ''}${formatCount(p.recordCount)}`}
                </dd>
              </div>
              <div>
                <dt>{p.format === 'fhir-ndjson' ? 'Resource types' : 'Columns'}</dt>
                <dd>
                  {p.format === 'csv'
                    ? formatCount(p.columns.length)
                    : p.format === 'fhir-ndjson'
                      ? formatCount(p.resourceTypes.length)
                      : '—'}
                </dd>
              </div>
            </dl>
            {p.format === 'fhir-ndjson' && p.resourceTypes.length > 0 ? (
              <table className="table table-compact" data-testid="preview-resource-types">
                <caption>
                  FHIR resources by type{p.truncated ? ' in the part read for the preview' : ''}.
                  Their contents are not shown.
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Resource type</th>
                    <th scope="col">Records</th>
                  </tr>
                </thead>
                <tbody>
                  {p.resourceTypes.map((t) => (
                    <tr key={t.name}>
                      <th scope="row">{t.name}</th>
                      <td>{formatCount(t.count)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : null}
            {p.format === 'csv' && p.columns.length > 0 ? (
              <div
                className="table-scroll"
                tabIndex={0}
                aria-label="Columns with redacted sample values"
              >
                <table className="table table-compact">
                  <caption>
                    Sample values are masked to their shape (letters → x, digits → 9): no patient
                    data is shown.
                  </caption>
                  <thead>
                    <tr>
                      {p.columns.map((c, i) => (
                        <th key={i} scope="col">
                          {c}
                        </th>
                      ))}
                    </tr>
                  </thead>
                  <tbody>
                    {p.redactedSamples.map((row, r) => (
                      <tr key={r}>
                        {p.columns.map((_, i) => (
                          <td key={i} className="mono">
                            {row[i] ?? ''}
                          </td>
                        ))}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ) : null}
          </div>
          <form
            className="panel"
            onSubmit={(e) => {
              e.preventDefault();
              if (name.trim()) start.mutate();
            }}
          >
            <h2>3. Describe it</h2>
            <label className="field">
              <span className="field-label">Name</span>
              <span className="field-help">
                What you and your colleagues call it, e.g. “Cardiology cohort 2024”.
              </span>
              <input
                value={name}
                onChange={(e) => setName(e.target.value)}
                maxLength={200}
                data-testid="import-name"
                required
              />
            </label>
            <label className="field">
              <span className="field-label">Description (optional)</span>
              <textarea
                value={description}
                onChange={(e) => setDescription(e.target.value)}
                maxLength={2000}
                rows={3}
                data-testid="import-description"
              />
            </label>
            <ErrorNote error={start.error} title="The import could not start" />
            <div className="actions">
              <button
                type="submit"
                className="button button-primary"
                disabled={!name.trim() || start.isPending}
                data-testid="start-import"
              >
                Encrypt and import
              </button>
              <button type="button" className="button" onClick={onDone}>
                Cancel
              </button>
            </div>
          </form>
        </>
      ) : null}
    </section>
  );
}
