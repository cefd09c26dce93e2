import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useId, useRef, useState, type DragEvent } from 'react';
import type {
  AppStatus,
  Dataset,
  ProofCheck,
  ProofExport,
  ProofProgress,
  ProofVerification,
} from '../../../app/api/index.ts';
import { useApi } from '../api/context.tsx';
import { ErrorNote } from '../components/ErrorNote.tsx';
import { Stage } from '../components/Stage.tsx';
import { formatBytes, formatCount } from '../components/format.ts';
import './compliance.css';

/** The largest file the core takes (contract MAX_BUNDLE_CHARS); checked here first to say so. */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

const STAGES: { id: ProofProgress['stage']; label: string }[] = [
  { id: 'reading', label: 'Reading the chain and the key-release journal, building the proofs' },
  { id: 'report', label: 'Writing the PDF report' },
  { id: 'saving', label: 'Saving both files in the vault' },
];

const ALTERED =
  'Treat this file as altered: ask the sender for the original export, or export it again yourself.';

/** Each verifier check (app/proofs CHECKS) in the words of a compliance officer facing an auditor. */
const CHECK_TEXT: Record<string, { label: string; means: string; todo: string }> = {
  format: {
    label: 'The file is a complete usage-proof bundle',
    means:
      'Its structure is not a valid bundle: it was cut short, edited by hand, or made by another tool.',
    todo: 'Ask the sender for the original file exported by Custos.',
  },
  chain: {
    label: 'The bundle is for the network it was checked against',
    means: 'The bundle was made on another network than the one Custos is connected to.',
    todo: 'Connect Custos to the bundle’s network (Settings) and check again.',
  },
  header: {
    label: 'Every block header matches its block hash',
    means: 'A block header in the file was changed after the export.',
    todo: ALTERED,
  },
  'block-anchor': {
    label: 'The blocks are the ones recorded on the chain',
    means:
      'The chain does not have these blocks: the file was altered, or it comes from another network (a development network starts afresh each time).',
    todo: 'Check it while connected to the network it was exported from, or ask for a new export.',
  },
  'receipt-proof': {
    label: 'Every transaction receipt is proven by its block',
    means: 'A transaction receipt or its proof was changed after the export.',
    todo: ALTERED,
  },
  log: {
    label: 'Every event is the one the chain recorded',
    means: 'An event in the file (who, what, when) differs from what the chain recorded.',
    todo: ALTERED,
  },
  order: {
    label: 'Events are in chain order and inside the period',
    means: 'Events were reordered, repeated, or placed outside the period the bundle covers.',
    todo: ALTERED,
  },
  completeness: {
    label: 'No event of the dataset is missing',
    means:
      'Something was left out: a run, a grant or a revocation the other events imply (or that the chain has) is not in the file.',
    todo: 'Do not rely on this file: ask for a complete export of the same period.',
  },
  'enclave-signature': {
    label: 'Every run’s result is signed by its enclave',
    means:
      'A run’s result or signature does not match what the enclave signed and the chain recorded.',
    todo: ALTERED,
  },
  'linked-run': {
    label: 'Runs shared with other datasets are proven',
    means:
      'A run said to be part of the same enclave run as another dataset’s is not proven by the file.',
    todo: ALTERED,
  },
  evidence: {
    label: 'Attestation evidence matches the runs that recorded it',
    means: 'Attestation evidence was replaced, or is not the evidence any run recorded.',
    todo: ALTERED,
  },
  'journal-chain': {
    label: 'The key-release journal excerpt is unbroken',
    means: 'The journal excerpt was edited: an entry was changed, removed or reordered.',
    todo: ALTERED,
  },
  'journal-match': {
    label: 'Every key release matches a run on the chain',
    means:
      'The journal and the chain disagree: a key was released for a run the chain never recorded, or a run has no release. This can be a real anomaly, not only an altered file.',
    todo: 'Compare with the Audit screen, and ask the key-release operator to explain.',
  },
};

const STATUS_TEXT: Record<ProofCheck['status'], { mark: string; word: string }> = {
  passed: { mark: '✓', word: 'Passed' },
  failed: { mark: '✕', word: 'Failed' },
  'not-checked': { mark: '–', word: 'Not checked' },
  'nothing-to-check': { mark: '·', word: 'Nothing to check' },
};

const ANOMALY_TEXT: Record<string, string> = {
  'run-not-closed': 'A run stayed open longer than expected',
  'closed-after-revocation': 'A run closed after its grant was revoked',
  'release-without-run': 'A key was released for a run the chain does not show',
  'run-without-release': 'A run opened without a key release in the journal',
  'simulated-outside-devnet': 'Simulated evidence outside the development network',
  'journal-broken': 'The key-release journal is broken',
};

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

function periodText(from: string | null, until: string | null): string {
  if (!from && !until) return 'all time';
  if (from && until)
    return `${dateFormat.format(new Date(from))} – ${dateFormat.format(new Date(until))}`;
  return from
    ? `from ${dateFormat.format(new Date(from))}`
    : `until ${dateFormat.format(new Date(until ?? ''))}`;
}

function base64ToBytes(base64: string): Uint8Array<ArrayBuffer> {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function CopyPath({ path }: { path: string }) {
  const [copied, setCopied] = useState<'idle' | 'copied' | 'failed'>('idle');
  return (
    <span className="proof-path">
      <code data-testid="export-folder">{path}</code>
      <button
        type="button"
        className="button button-small"
        data-testid="copy-path"
        onClick={() => {
          navigator.clipboard.writeText(path).then(
            () => setCopied('copied'),
            () => setCopied('failed'),
          );
        }}
      >
        {copied === 'copied' ? 'Copied' : 'Copy path'}
      </button>
      <span className="visually-hidden" aria-live="polite">
        {copied === 'copied' ? 'Path copied' : copied === 'failed' ? 'Copy failed' : ''}
      </span>
    </span>
  );
}

function Stages({ stage, failed }: { stage: ProofProgress['stage'] | null; failed: boolean }) {
  const current = stage === 'done' ? STAGES.length : STAGES.findIndex((s) => s.id === stage);
  return (
    <ol className="stages proof-stages" data-testid="export-stages">
      {STAGES.map((s, i) => {
        const state =
          i < current ? 'done' : i === current ? (failed ? 'stopped' : 'active') : 'todo';
        return <Stage key={s.id} label={s.label} state={state} />;
      })}
    </ol>
  );
}

function ExportResult({
  result,
  canDownload,
  onVerify,
}: {
  result: ProofExport;
  canDownload: boolean;
  onVerify: () => void;
}) {
  const api = useApi();
  const download = useMutation({
    mutationFn: async (file: 'json' | 'pdf') => {
      const got = await api.readProofFile({ folderName: result.folderName, file });
      const url = URL.createObjectURL(
        new Blob([base64ToBytes(got.base64)], { type: got.mediaType }),
      );
      const a = document.createElement('a');
      a.href = url;
      a.download = got.name;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    },
  });
  const s = result.summary;
  const facts: [string, number, string][] = [
    ['Runs', s.runs, 'runs'],
    ['Grants', s.grants, 'grants'],
    ['Revocations', s.revocations, 'revocations'],
    ['Refused key requests', s.refusals, 'refusals'],
    ['Anomalies', s.anomalies, 'anomalies'],
  ];
  if (s.linkedRuns > 0) facts.push(['Runs shared with other datasets', s.linkedRuns, 'linked']);
  return (
    <div data-testid="export-result">
      <div className="note note-ok" role="status">
        <span className="note-icon" aria-hidden="true">
          ✓
        </span>
        <div>
          <strong className="note-title">
            Usage proof of “{result.datasetName}” for{' '}
            {periodText(result.period.from, result.period.until)} saved
          </strong>
          <p className="note-text">
            {formatCount(s.events)} events from blocks {result.blockRange.from}–
            {result.blockRange.to}, each with its proof from the chain. Give both files to your
            auditor: the PDF is for reading, and it carries the JSON bundle that anyone can check.
          </p>
        </div>
      </div>
      {result.simulated ? (
        <p className="proof-simulated" data-testid="export-simulated">
          <span className="badge badge-simulated">⚠ SIMULATED</span> This proof includes runs of a
          simulated enclave with a development key; the PDF says so on every page where it matters.
        </p>
      ) : null}
      <dl className="facts" data-testid="export-summary">
        {facts.map(([label, n, id]) => (
          <div key={id} data-testid={`summary-${id}`}>
            <dt>{label}</dt>
            <dd>{formatCount(n)}</dd>
          </div>
        ))}
      </dl>
      <h3 className="proof-subhead">Where the files are</h3>
      <CopyPath path={result.folder} />
      <ul className="proof-files">
        <li>
          <code>usage-proof.pdf</code> — the report ({formatBytes(result.pdfBytes)})
          {canDownload ? (
            <>
              {' '}
              <button
                type="button"
                className="button button-small"
                data-testid="download-pdf"
                onClick={() => download.mutate('pdf')}
              >
                Download the PDF
              </button>
            </>
          ) : null}
        </li>
        <li>
          <code>usage-proof.json</code> — the bundle ({formatBytes(result.jsonBytes)})
          {canDownload ? (
            <>
              {' '}
              <button
                type="button"
                className="button button-small"
                data-testid="download-json"
                onClick={() => download.mutate('json')}
              >
                Download the bundle
              </button>
            </>
          ) : null}
        </li>
      </ul>
      <ErrorNote error={download.error} title="The file could not be downloaded" />
      {result.anomalies.length > 0 ? (
        <>
          <h3 className="proof-subhead">Anomalies the report lists</h3>
          <ul className="proof-anomalies" data-testid="export-anomalies">
            {result.anomalies.map((a, i) => (
              <li key={i}>
                <span className="badge badge-anomaly">⚠ {ANOMALY_TEXT[a.kind] ?? a.kind}</span>{' '}
                {a.message}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      <div className="actions">
        <button type="button" className="button" data-testid="verify-now" onClick={onVerify}>
          Verify this proof now
        </button>
      </div>
    </div>
  );
}

function ExportProof({
  status,
  onVerifyExported,
}: {
  status: AppStatus;
  onVerifyExported: (result: ProofExport) => void;
}) {
  const api = useApi();
  const fromId = useId();
  const untilId = useId();
  const datasetFieldId = useId();
  const datasets = useQuery({
    queryKey: ['datasets'],
    queryFn: () => api.listDatasets({}),
  });
  const all: Dataset[] = datasets.data?.datasets ?? [];
  const registered = all.filter((d) => d.chain.registered);
  const [chosen, setChosen] = useState('');
  const datasetId = chosen || registered[0]?.id || '';
  const [from, setFrom] = useState('');
  const [until, setUntil] = useState('');
  const [stage, setStage] = useState<ProofProgress['stage'] | null>(null);
  const periodError =
    from && until && until < from
      ? 'The period ends before it starts: pick a later “Until” date.'
      : null;

  useEffect(
    () =>
      api.on('proofProgress', (p) => {
        // On failure the stage reached stays shown, marked stopped.
        if (p.datasetId === datasetId && p.stage !== 'failed') setStage(p.stage);
      }),
    [api, datasetId],
  );

  const run = useMutation({
    mutationFn: () =>
      api.exportProof({
        datasetId,
        // Whole local days: from the start of "From" to the end of "Until".
        from: from ? new Date(`${from}T00:00:00`).toISOString() : null,
        until: until ? new Date(`${until}T23:59:59.999`).toISOString() : null,
      }),
    onMutate: () => setStage('reading'),
  });

  if (datasets.isPending) return <p className="loading">Loading datasets…</p>;
  return (
    <section className="panel" aria-labelledby="export-title" data-testid="export-proof">
      <h2 id="export-title">Export a usage proof</h2>
      <p className="muted">
        For one dataset and a period: every registry event with its proof from the chain, the
        enclave-signed results, the key-release journal — as a JSON bundle anyone can check, and a
        PDF report that carries it.
      </p>
      <ErrorNote error={datasets.error} title="The datasets could not be read" />
      {registered.length === 0 ? (
        <div className="empty-inline" data-testid="export-empty">
          <p>
            <strong>No dataset is registered on the network yet.</strong> A usage proof shows what
            the network recorded about a dataset, so there is nothing to prove until one is
            registered: open a dataset under Datasets and choose “Publish and register”.
          </p>
          {status.network.state !== 'connected' ? (
            <p className="muted">
              The network is {status.network.state.replace('-', ' ')}: registered datasets appear
              here once it is connected.
            </p>
          ) : null}
        </div>
      ) : (
        <form
          className="proof-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (!periodError && datasetId) run.mutate();
          }}
        >
          <div className="field">
            <label className="field-label" htmlFor={datasetFieldId}>
              Dataset
            </label>
            <select
              id={datasetFieldId}
              data-testid="proof-dataset"
              value={datasetId}
              onChange={(e) => {
                setChosen(e.target.value);
                run.reset();
                setStage(null);
              }}
            >
              {all.map((d) => (
                <option key={d.id} value={d.id} disabled={!d.chain.registered}>
                  {d.name}
                  {d.chain.registered ? '' : ' (not registered on the network)'}
                </option>
              ))}
            </select>
          </div>
          <fieldset className="proof-period">
            <legend className="field-label">Period</legend>
            <span className="field-help" id={`${fromId}-help`}>
              Leave both empty for all time. Dates are whole days in your time zone (
              {Intl.DateTimeFormat().resolvedOptions().timeZone}).
            </span>
            <div className="field-row">
              <div className="field">
                <label className="field-label" htmlFor={fromId}>
                  From
                </label>
                <input
                  id={fromId}
                  type="date"
                  data-testid="proof-from"
                  value={from}
                  aria-describedby={`${fromId}-help`}
                  onChange={(e) => setFrom(e.target.value)}
                />
              </div>
              <div className="field">
                <label className="field-label" htmlFor={untilId}>
                  Until
                </label>
                <input
                  id={untilId}
                  type="date"
                  data-testid="proof-until"
                  value={until}
                  aria-invalid={periodError ? true : undefined}
                  aria-describedby={periodError ? `${untilId}-error` : `${fromId}-help`}
                  onChange={(e) => setUntil(e.target.value)}
                />
              </div>
            </div>
            {periodError ? (
              <p className="field-error" id={`${untilId}-error`} data-testid="period-error">
                {periodError}
              </p>
            ) : null}
          </fieldset>
          <div className="actions">
            <button
              type="submit"
              className="button button-primary"
              data-testid="export-button"
              disabled={run.isPending || periodError !== null || !datasetId}
            >
              {run.isPending ? 'Exporting…' : 'Export proof'}
            </button>
          </div>
        </form>
      )}
      {run.isPending || run.isError ? <Stages stage={stage} failed={run.isError} /> : null}
      <ErrorNote error={run.error} title="The usage proof was not exported" />
      {run.data ? (
        <ExportResult
          result={run.data}
          canDownload={!status.canChooseFiles}
          onVerify={() => onVerifyExported(run.data)}
        />
      ) : null}
    </section>
  );
}

function CheckList({ v }: { v: ProofVerification }) {
  const offline = v.anchor === 'none' && v.checks[0]?.status === 'passed';
  return (
    <ul className="proof-checks" data-testid="proof-checks">
      {v.checks.map((c) => {
        const words = CHECK_TEXT[c.check] ?? { label: c.check, means: '', todo: ALTERED };
        const failures = v.failures.filter((f) => f.check === c.check);
        const st = STATUS_TEXT[c.status];
        return (
          <li
            key={c.check}
            className={`proof-check proof-check-${c.status}`}
            data-testid={`check-${c.check}`}
            data-status={c.status}
          >
            <span className="proof-check-mark" aria-hidden="true">
              {st.mark}
            </span>
            <div>
              <span className="proof-check-label">{words.label}</span>{' '}
              <span className="proof-check-status">
                — {st.word}
                {c.status === 'passed' || c.status === 'failed'
                  ? ` (${formatCount(c.checked)} ${c.checked === 1 ? 'item' : 'items'}${c.failed > 0 ? `, ${formatCount(c.failed)} failed` : ''})`
                  : ''}
              </span>
              {offline && c.status === 'not-checked' && c.check === 'chain' ? (
                <p className="proof-check-more">
                  Custos did not ask a node of the bundle’s network which network it is.
                </p>
              ) : null}
              {offline && c.status === 'not-checked' && c.check === 'block-anchor' ? (
                <p className="proof-check-more">
                  Without the network, the file proves it is consistent with itself, not that its
                  blocks are on the chain. Connect to the network and check it again.
                </p>
              ) : null}
              {c.status === 'failed' ? (
                <div className="proof-check-more" data-testid="check-failure">
                  <p>
                    <strong>What it means:</strong> {words.means}
                  </p>
                  <p>
                    <strong>What to do:</strong> {words.todo}
                  </p>
                  <details>
                    <summary>
                      {failures.length === 1 ? 'What failed' : `What failed (${failures.length})`}
                    </summary>
                    <ul className="proof-failures">
                      {failures.slice(0, 20).map((f, i) => (
                        <li key={i}>
                          <code>{f.subject}</code>: {f.reason}
                        </li>
                      ))}
                    </ul>
                  </details>
                </div>
              ) : null}
            </div>
          </li>
        );
      })}
    </ul>
  );
}

function VerifyResult({ v, fileName }: { v: ProofVerification; fileName: string }) {
  const failedChecks = v.checks.filter((c) => c.status === 'failed');
  const unparsed = v.checks.find((c) => c.check === 'format')?.status === 'failed';
  const headline = unparsed
    ? 'This usage proof does not hold: the file is not a complete usage-proof bundle, so none of its proofs could be checked.'
    : v.verdict === 'verified'
      ? 'This usage proof holds: every check passed, against the network.'
      : v.verdict === 'unanchored'
        ? 'Every check that can be made offline passed, but the blocks were not compared with the chain.'
        : `This usage proof does not hold: ${failedChecks.length === 1 ? 'one check' : `${failedChecks.length} checks`} failed — ${failedChecks.map((c) => (CHECK_TEXT[c.check]?.label ?? c.check).toLowerCase()).join('; ')}.`;
  const scope = v.scope;
  return (
    <div data-testid="verify-result" data-verdict={v.verdict}>
      <div
        className={`note ${v.verdict === 'failed' ? 'note-error' : v.verdict === 'verified' ? 'note-ok' : ''}`}
        role={v.verdict === 'failed' ? 'alert' : 'status'}
      >
        <span className="note-icon" aria-hidden="true">
          {v.verdict === 'failed' ? '✕' : v.verdict === 'verified' ? '✓' : '–'}
        </span>
        <div>
          <strong className="note-title" data-testid="verify-headline">
            {headline}
          </strong>
          <p className="note-text">
            “{fileName}”{v.fromPdf ? ' (the bundle attached to the PDF report)' : ''}:{' '}
            {formatCount(v.events)} events. {v.anchorNote}
          </p>
        </div>
      </div>
      {scope ? (
        <dl className="facts proof-scope" data-testid="verify-scope">
          <div>
            <dt>Dataset</dt>
            <dd>{scope.datasetName ?? `${scope.datasetId.slice(0, 12)}… (not in this vault)`}</dd>
          </div>
          <div>
            <dt>Period</dt>
            <dd>{periodText(scope.period.from, scope.period.until)}</dd>
          </div>
          <div>
            <dt>Blocks</dt>
            <dd>
              {scope.blockRange.from}–{scope.blockRange.to}
            </dd>
          </div>
          <div>
            <dt>Network</dt>
            <dd>chain {scope.chainId}</dd>
          </div>
        </dl>
      ) : null}
      {v.failuresTotal > v.failures.length ? (
        <p className="muted">
          {formatCount(v.failuresTotal)} failures in all; the first {v.failures.length} are listed.
        </p>
      ) : null}
      <CheckList v={v} />
    </div>
  );
}

type Submitted = { fileName: string; json?: string; pdfBase64?: string };

function VerifyProof({ pending }: { pending: { folderName: string; n: number } | null }) {
  const api = useApi();
  const inputId = useId();
  const input = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);
  const [fileName, setFileName] = useState('');
  const [tooLarge, setTooLarge] = useState<string | null>(null);
  const verify = useMutation({
    mutationFn: (s: Submitted) => api.verifyProof(s),
  });

  const check = async (file: File) => {
    verify.reset();
    setFileName(file.name);
    if (file.size > MAX_FILE_BYTES) {
      setTooLarge(
        `“${file.name}” is ${formatBytes(file.size)}; Custos checks bundles up to ${formatBytes(MAX_FILE_BYTES)}. Ask for an export of a shorter period, or check it with the command line (custos proof verify).`,
      );
      return;
    }
    setTooLarge(null);
    const head = new Uint8Array(await file.slice(0, 5).arrayBuffer());
    const isPdf = String.fromCharCode(...head) === '%PDF-';
    verify.mutate(
      isPdf
        ? {
            fileName: file.name,
            pdfBase64: bytesToBase64(new Uint8Array(await file.arrayBuffer())),
          }
        : { fileName: file.name, json: await file.text() },
    );
  };

  // "Verify this proof now" after an export: the exported bundle, read back from the vault.
  const pendingFolder = pending?.folderName;
  const pendingN = pending?.n;
  const { mutate } = verify;
  useEffect(() => {
    if (!pendingFolder || pendingN === undefined) return;
    setTooLarge(null);
    setFileName('usage-proof.json');
    void api.readProofFile({ folderName: pendingFolder, file: 'json' }).then((got) => {
      mutate({
        fileName: 'usage-proof.json',
        json: new TextDecoder().decode(base64ToBytes(got.base64)),
      });
    });
  }, [api, pendingFolder, pendingN, mutate]);

  const onDrop = (e: DragEvent<HTMLDivElement>) => {
    e.preventDefault();
    setDragging(false);
    const file = e.dataTransfer.files[0];
    if (file) void check(file);
  };

  return (
    <section className="panel" aria-labelledby="verify-title" data-testid="verify-proof">
      <h2 id="verify-title">Check a usage proof</h2>
      <p className="muted">
        Custos recomputes every proof in the file: block hashes, receipts, events, enclave
        signatures, the journal. When the network is connected, it also compares the blocks with the
        chain and asks it for every event of the period.
      </p>
      <div
        className={`proof-drop${dragging ? ' proof-drop-active' : ''}`}
        data-testid="drop-zone"
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <p className="proof-drop-text">Drop a usage-proof.json or a PDF report here, or</p>
        <label className="field-label" htmlFor={inputId}>
          Choose a file to check
        </label>
        <input
          ref={input}
          id={inputId}
          type="file"
          accept=".json,.pdf,application/json,application/pdf"
          data-testid="verify-file"
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file) void check(file);
            e.target.value = '';
          }}
        />
      </div>
      {verify.isPending ? (
        <p className="loading" role="status" data-testid="verify-running">
          Checking “{fileName}”…
        </p>
      ) : null}
      {tooLarge ? (
        <div className="note note-error" role="alert" data-testid="verify-too-large">
          <span className="note-icon" aria-hidden="true">
            !
          </span>
          <p className="note-text">{tooLarge}</p>
        </div>
      ) : null}
      <ErrorNote error={verify.error} title={`“${fileName}” could not be checked`} />
      {verify.data ? <VerifyResult v={verify.data} fileName={fileName} /> : null}
    </section>
  );
}

/** The compliance officer's screen: export a usage proof for an auditor, check one. */
export function Compliance({ status }: { status: AppStatus }) {
  const [pending, setPending] = useState<{ folderName: string; n: number } | null>(null);
  return (
    <section className="screen" aria-labelledby="screen-title" data-testid="compliance">
      <div className="screen-head">
        <h1 id="screen-title">Compliance</h1>
      </div>
      <p className="lead">
        Show an auditor how a dataset was used — who ran what, under which grant, with which
        enclave, and what was refused — with proof that does not rely on trusting Custos or the
        hospital.
      </p>
      <ExportProof
        status={status}
        onVerifyExported={(r) => {
          setPending((p) => ({ folderName: r.folderName, n: (p?.n ?? 0) + 1 }));
          document.getElementById('verify-title')?.scrollIntoView({ block: 'start' });
        }}
      />
      <VerifyProof pending={pending} />
    </section>
  );
}
