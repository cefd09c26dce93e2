import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type {
  AppStatus,
  Dataset,
  DeviceStatus,
  Grant,
  GrantState,
} from '../../../app/api/index.ts';
import { useApi } from '../api/context.tsx';
import { ApiCallError } from '../api/client.ts';
import { CopyValue } from '../components/CopyValue.tsx';
import { DeviceState, DeviceWaiting } from '../components/Device.tsx';
import { ErrorNote } from '../components/ErrorNote.tsx';
import { formatLocal, formatRelative } from '../components/format.ts';

/** Grant states in words, with a symbol (never colour alone). */
const STATE_TEXT: Record<GrantState, string> = {
  scheduled: '◷ Starts later',
  active: '● Active',
  'expires-soon': '⚠ Expires within a week',
  expired: '○ Expired',
  revoked: '✕ Revoked',
  exhausted: '○ All runs used',
};

const LIVE: readonly GrantState[] = ['scheduled', 'active', 'expires-soon'];

/** "31 Mar 2027, 10:00 (Europe/Paris) — in 4 months" */
export function When({ iso }: { iso: string }) {
  return (
    <span title={iso}>
      {formatLocal(iso)} — {formatRelative(iso)}
    </span>
  );
}

/** Failures the device itself can fix (unlock it, open the app, plug it in): Retry, not Back. */
const DEVICE_TAGS: readonly string[] = [
  'DeviceLocked',
  'WrongApp',
  'DeviceDisconnected',
  'DeviceNotFound',
  'DeviceBusy',
  'DeviceTimeout',
];

/** ISO time of a `datetime-local` value; '' when the field is empty or not a date. */
function isoOf(local: string): string {
  const t = Date.parse(local);
  return Number.isFinite(t) ? new Date(t).toISOString() : '';
}

/** Local `datetime-local` value (no timezone) for a Date. */
function localInput(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}T${p(date.getHours())}:${p(date.getMinutes())}`;
}

type Step = 'who' | 'app' | 'when' | 'terms' | 'review' | 'done';
const STEPS: { id: Step; label: string }[] = [
  { id: 'who', label: 'Who' },
  { id: 'app', label: 'Enclave app' },
  { id: 'when', label: 'When' },
  { id: 'terms', label: 'Runs and purpose' },
  { id: 'review', label: 'Review and sign' },
];

/**
 * Grant wizard: who → which enclave app → from/until → runs, purpose, legal basis → review →
 * confirm on the device (the device prompt lists what it shows) → confirmed with the transaction.
 */
export function GrantWizard({
  d,
  status,
  onClose,
}: {
  d: Dataset;
  status: AppStatus;
  onClose: () => void;
}) {
  const api = useApi();
  const queryClient = useQueryClient();
  const apps = useQuery({ queryKey: ['enclave-apps'], queryFn: () => api.listEnclaveApps({}) });
  const contacts = useQuery({ queryKey: ['contacts'], queryFn: () => api.listContacts({}) });
  const [step, setStep] = useState<Step>('who');
  const [address, setAddress] = useState('');
  const [name, setName] = useState('');
  const [app, setApp] = useState('');
  const [from, setFrom] = useState(() => localInput(new Date()));
  const [until, setUntil] = useState(() => localInput(new Date(Date.now() + 90 * 86400_000)));
  const [runs, setRuns] = useState(10);
  const [purpose, setPurpose] = useState('');
  const [legalBasis, setLegalBasis] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [sending, setSending] = useState(false);
  const [done, setDone] = useState<Grant | null>(null);
  const chosen = apps.data?.apps.find((a) => a.name === app);
  // An emptied or half-typed date field is '' here (never a crash), and refused below.
  const fromIso = isoOf(from);
  const untilIso = isoOf(until);
  const order = STEPS.map((s) => s.id);
  const next = (e: FormEvent) => {
    e.preventDefault();
    const i = order.indexOf(step);
    setStep(order[i + 1] ?? 'review');
  };
  const back = () => setStep(order[Math.max(0, order.indexOf(step) - 1)] ?? 'who');
  const sign = () => {
    setError(null);
    setSending(true);
    api
      .createGrant({
        datasetId: d.id,
        grantee: { address: address.trim(), name: name.trim() },
        apps: [app],
        notBefore: fromIso,
        notAfter: untilIso,
        maxRuns: runs,
        purpose,
        legalBasis,
      })
      .then((g) => {
        setDone(g);
        setStep('done');
        void queryClient.invalidateQueries({ queryKey: ['grants', d.id] });
        void queryClient.invalidateQueries({ queryKey: ['contacts'] });
      })
      .catch(setError)
      .finally(() => setSending(false));
  };
  const missingDate = fromIso === '' || untilIso === '';
  const endsBeforeStart = !missingDate && Date.parse(untilIso) <= Date.parse(fromIso);
  const datesWrong = missingDate || endsBeforeStart;
  const deviceTrouble = error instanceof ApiCallError && DEVICE_TAGS.includes(error.tag);

  return (
    <section className="wizard" aria-labelledby="wizard-title" data-testid="grant-wizard">
      <h2 id="wizard-title">Grant access to “{d.name}”</h2>
      {step !== 'done' ? (
        <ol className="stages" aria-label="Steps">
          {STEPS.map((s) => (
            <li
              key={s.id}
              className={s.id === step ? 'stage-current' : undefined}
              aria-current={s.id === step ? 'step' : undefined}
            >
              {s.label}
            </li>
          ))}
        </ol>
      ) : null}
      <ErrorNote error={apps.error ?? contacts.error} />

      {step === 'who' ? (
        <form onSubmit={next} className="form">
          <p>Who receives the results? Their account address, and a name you will recognise.</p>
          {contacts.data && contacts.data.contacts.length > 0 ? (
            <label>
              From your address book
              <select
                data-testid="grantee-known"
                value=""
                onChange={(e) => {
                  const c = contacts.data.contacts.find((x) => x.address === e.target.value);
                  if (c) {
                    setAddress(c.address);
                    setName(c.name);
                  }
                }}
              >
                <option value="">Choose…</option>
                {contacts.data.contacts.map((c) => (
                  <option key={c.address} value={c.address}>
                    {c.name}
                  </option>
                ))}
              </select>
            </label>
          ) : null}
          <label>
            Name (in your address book)
            <input
              data-testid="grantee-name"
              value={name}
              required
              maxLength={200}
              placeholder="Oncology Lab, Univ. of Lyon"
              onChange={(e) => setName(e.target.value)}
            />
          </label>
          <label>
            Account address
            <input
              data-testid="grantee-address"
              className="mono"
              value={address}
              required
              pattern="^0x[0-9a-fA-F]{40}$"
              title="0x followed by 40 hexadecimal characters"
              placeholder="0x…"
              onChange={(e) => setAddress(e.target.value)}
            />
          </label>
          <div className="actions">
            <button type="button" className="button button-quiet" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" className="button" data-testid="wizard-next">
              Next
            </button>
          </div>
        </form>
      ) : null}

      {step === 'app' ? (
        <form onSubmit={next} className="form">
          <fieldset>
            <legend>Which enclave application may run on this dataset?</legend>
            {apps.data?.apps.map((a) => (
              <label key={a.name} className="choice">
                <input
                  type="radio"
                  name="app"
                  value={a.name}
                  required
                  checked={app === a.name}
                  onChange={() => setApp(a.name)}
                  data-testid={`app-${a.name}`}
                />{' '}
                <strong>{a.title}</strong> <span className="muted">({a.name})</span> — measurement{' '}
                <CopyValue value={a.measurement} label={`${a.title} measurement`} short={14} />
              </label>
            ))}
          </fieldset>
          <div className="actions">
            <button type="button" className="button button-quiet" onClick={back}>
              Back
            </button>
            <button type="submit" className="button" data-testid="wizard-next">
              Next
            </button>
          </div>
        </form>
      ) : null}

      {step === 'when' ? (
        <form onSubmit={next} className="form">
          <p>Times are in your time zone ({Intl.DateTimeFormat().resolvedOptions().timeZone}).</p>
          <label>
            From
            <input
              type="datetime-local"
              data-testid="grant-from"
              value={from}
              required
              onChange={(e) => setFrom(e.target.value)}
              aria-invalid={fromIso === '' || endsBeforeStart}
              aria-describedby={datesWrong ? 'dates-error' : undefined}
            />
          </label>
          <label>
            Until
            <input
              type="datetime-local"
              data-testid="grant-until"
              value={until}
              required
              onChange={(e) => setUntil(e.target.value)}
              aria-invalid={untilIso === '' || endsBeforeStart}
              aria-describedby={datesWrong ? 'until-hint dates-error' : 'until-hint'}
            />
          </label>
          <p id="until-hint" className="muted">
            {untilIso ? <When iso={untilIso} /> : null}
          </p>
          {datesWrong ? (
            <p className="note note-error" role="alert" id="dates-error" data-testid="dates-error">
              {missingDate
                ? 'Enter both dates and times: when the grant starts and when it ends.'
                : 'The grant ends before it starts. Pick an end after the start.'}
            </p>
          ) : null}
          <div className="actions">
            <button type="button" className="button button-quiet" onClick={back}>
              Back
            </button>
            <button
              type="submit"
              className="button"
              data-testid="wizard-next"
              disabled={datesWrong}
            >
              Next
            </button>
          </div>
        </form>
      ) : null}

      {step === 'terms' ? (
        <form onSubmit={next} className="form">
          <label>
            Number of runs
            <input
              type="number"
              min={1}
              max={1000000}
              required
              data-testid="grant-runs"
              value={runs}
              onChange={(e) => setRuns(Number(e.target.value))}
            />
          </label>
          <label>
            Purpose
            <input
              data-testid="grant-purpose"
              required
              maxLength={2000}
              value={purpose}
              placeholder="Cardiology outcomes research, protocol CARD-2026-04"
              onChange={(e) => setPurpose(e.target.value)}
            />
          </label>
          <label>
            Legal basis or consent reference
            <input
              data-testid="grant-legal"
              required
              maxLength={2000}
              value={legalBasis}
              placeholder="GDPR art. 9(2)(j), ethics approval EC-2026-117"
              onChange={(e) => setLegalBasis(e.target.value)}
            />
          </label>
          <p className="muted">
            The network records only fingerprints (hashes) of the purpose and legal basis; the words
            stay in your vault and go into the compliance report.
          </p>
          <div className="actions">
            <button type="button" className="button button-quiet" onClick={back}>
              Back
            </button>
            <button type="submit" className="button" data-testid="wizard-next">
              Review
            </button>
          </div>
        </form>
      ) : null}

      {step === 'review' ? (
        <div data-testid="grant-review">
          <dl className="details">
            <div>
              <dt>Dataset</dt>
              <dd>{d.name}</dd>
            </div>
            <div>
              <dt>Grantee</dt>
              <dd>
                {name} <CopyValue value={address} label="grantee address" short={12} />
              </dd>
            </div>
            <div>
              <dt>Enclave app</dt>
              <dd>
                {chosen?.title}{' '}
                {chosen ? (
                  <CopyValue value={chosen.measurement} label="measurement" short={14} />
                ) : null}
              </dd>
            </div>
            <div>
              <dt>From</dt>
              <dd>
                <When iso={fromIso} />
              </dd>
            </div>
            <div>
              <dt>Until</dt>
              <dd>
                <When iso={untilIso} />
              </dd>
            </div>
            <div>
              <dt>Runs</dt>
              <dd>{runs}</dd>
            </div>
            <div className="details-wide">
              <dt>Purpose</dt>
              <dd>{purpose}</dd>
            </div>
            <div className="details-wide">
              <dt>Legal basis</dt>
              <dd>{legalBasis}</dd>
            </div>
          </dl>
          <p>
            Signing asks your device to confirm. It shows the grantee’s address, the measurement,
            the start and end as Unix times ({Math.floor(Date.parse(fromIso) / 1000)} →{' '}
            {Math.floor(Date.parse(untilIso) / 1000)}) and the number of runs: compare them.
          </p>
          {/* While it asks for confirmation the device prompt shows it; here: what to fix. */}
          <DeviceWaiting device={status.device} waiting={sending} />
          {deviceTrouble && !sending ? (
            <div className="panel panel-quiet" data-testid="grant-device">
              <DeviceState device={status.device} />
            </div>
          ) : null}
          <ErrorNote error={error} title="The grant was not made" />
          <div className="actions">
            <button type="button" className="button button-quiet" onClick={back} disabled={sending}>
              Back
            </button>
            <button
              type="button"
              className="button"
              data-testid="grant-sign"
              onClick={sign}
              disabled={sending}
            >
              {sending
                ? 'Waiting for your device…'
                : deviceTrouble
                  ? 'Retry on your device'
                  : 'Sign the grant on your device'}
            </button>
          </div>
        </div>
      ) : null}

      {step === 'done' && done ? (
        <div className="note" role="status" data-testid="grant-done">
          <p>
            <strong>
              {done.grantee.name} may run {done.apps.map((a) => a.title).join(', ')} on “{d.name}”
            </strong>{' '}
            {done.maxRuns} time{done.maxRuns === 1 ? '' : 's'}, until <When iso={done.notAfter} />.
          </p>
          <p>
            Confirmed in transaction{' '}
            <CopyValue value={done.txHash} label="transaction" short={14} />
          </p>
          <button type="button" className="button" onClick={onClose} data-testid="grant-close">
            Back to grants
          </button>
        </div>
      ) : null}
    </section>
  );
}

function RevokeOne({ g, device, onDone }: { g: Grant; device: DeviceStatus; onDone: () => void }) {
  const api = useApi();
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  if (!LIVE.includes(g.state)) return null;
  if (!asking)
    return (
      <button
        type="button"
        className="button button-quiet"
        data-testid="revoke"
        onClick={() => setAsking(true)}
      >
        Revoke…
      </button>
    );
  return (
    <div
      className="confirm"
      role="group"
      aria-label="Confirm revocation"
      data-testid="revoke-confirm"
    >
      <p>
        {g.grantee.name} will not be able to run {g.apps.map((a) => a.title).join(', ')} again (
        {g.maxRuns - g.runsUsed} run{g.maxRuns - g.runsUsed === 1 ? '' : 's'} left). Runs already
        finished stay in the audit.
      </p>
      <button
        type="button"
        className="button button-danger"
        data-testid="revoke-yes"
        disabled={busy}
        onClick={() => {
          setBusy(true);
          setError(null);
          api
            .revokeGrant({ grantId: g.grantId })
            .then(onDone)
            .catch(setError)
            .finally(() => setBusy(false));
        }}
      >
        {busy ? 'Waiting for your device…' : 'Revoke, signed on your device'}
      </button>{' '}
      <button type="button" className="button button-quiet" onClick={() => setAsking(false)}>
        Keep it
      </button>
      <DeviceWaiting device={device} waiting={busy} />
      <ErrorNote error={error} title="Not revoked" />
    </div>
  );
}

function RevokeAll({
  d,
  live,
  device,
  onDone,
}: {
  d: Dataset;
  live: number;
  device: DeviceStatus;
  onDone: () => void;
}) {
  const api = useApi();
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<string | null>(null);
  if (!open)
    return (
      <>
        <button
          type="button"
          className="button button-quiet"
          data-testid="revoke-all"
          disabled={live === 0}
          onClick={() => setOpen(true)}
        >
          Revoke all…
        </button>
        {result ? (
          <p role="status" data-testid="revoke-all-done">
            {result}
          </p>
        ) : null}
      </>
    );
  return (
    <form
      className="confirm"
      data-testid="revoke-all-confirm"
      onSubmit={(e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        api
          .revokeAllGrants({ datasetId: d.id, confirmName: typed })
          .then((r) => {
            setResult(`${r.revoked} grant${r.revoked === 1 ? '' : 's'} revoked.`);
            setOpen(false);
            setTyped('');
            onDone();
          })
          .catch(setError)
          .finally(() => setBusy(false));
      }}
    >
      <p>
        Every grant on “{d.name}” stops: {live} still allow runs. No enclave will receive its key
        again until you grant anew.
      </p>
      <label>
        Type the dataset’s name to confirm
        <input
          data-testid="revoke-all-name"
          value={typed}
          onChange={(e) => setTyped(e.target.value)}
          autoComplete="off"
        />
      </label>
      <div className="actions">
        <button type="button" className="button button-quiet" onClick={() => setOpen(false)}>
          Cancel
        </button>
        <button
          type="submit"
          className="button button-danger"
          data-testid="revoke-all-yes"
          disabled={busy || typed.trim() !== d.name}
        >
          {busy ? 'Waiting for your device…' : 'Revoke all grants'}
        </button>
      </div>
      <DeviceWaiting device={device} waiting={busy} />
      <ErrorNote error={error} title="Nothing was revoked" />
    </form>
  );
}

/** The Grants tab: the list with states, revoke one, revoke all, and the wizard. */
export function GrantsTab({
  d,
  status,
  startWizard = false,
}: {
  d: Dataset;
  status: AppStatus;
  /** Open the wizard at once (it waits for the publication when the dataset is not registered). */
  startWizard?: boolean;
}) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [wizard, setWizard] = useState(startWizard);
  const registered = d.chain.registered;
  const grants = useQuery({
    queryKey: ['grants', d.id],
    queryFn: () => api.listGrants({ datasetId: d.id }),
    enabled: registered && status.network.state === 'connected',
  });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['grants', d.id] });
  if (!registered)
    return (
      <div className="empty empty-inline" data-testid="grants-unregistered">
        <p className="empty-badge">Publish first</p>
        <p>
          A grant lets a research lab’s enclave application use this dataset for a period and a
          number of runs. Publish and register the dataset first (above); then grant access here.
        </p>
        {wizard ? (
          <p data-testid="grant-after-publish">
            The grant wizard opens here as soon as the dataset is registered.
          </p>
        ) : null}
      </div>
    );
  if (wizard)
    return (
      <GrantWizard
        d={d}
        status={status}
        onClose={() => {
          setWizard(false);
          refresh();
        }}
      />
    );
  const list = grants.data?.grants ?? [];
  const live = list.filter((g) => LIVE.includes(g.state)).length;
  return (
    <div data-testid="grants">
      <div className="actions">
        <button
          type="button"
          className="button"
          data-testid="new-grant"
          onClick={() => setWizard(true)}
        >
          Grant access…
        </button>
        <RevokeAll d={d} live={live} device={status.device} onDone={refresh} />
      </div>
      <ErrorNote error={grants.error} />
      {grants.data && list.length === 0 ? (
        <p className="muted" data-testid="grants-empty">
          No grant yet: nobody can use this dataset. “Grant access…” chooses who, which enclave
          application, for how long and how many runs.
        </p>
      ) : null}
      {list.length > 0 ? (
        <table className="table" data-testid="grants-table">
          <thead>
            <tr>
              <th scope="col">Grantee</th>
              <th scope="col">Enclave app</th>
              <th scope="col">Until</th>
              <th scope="col">Runs</th>
              <th scope="col">State</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((g) => (
              <tr key={g.grantId} data-testid="grant-row" data-state={g.state}>
                <td>
                  {g.grantee.name}
                  <br />
                  <CopyValue value={g.grantee.address} label="grantee address" short={10} />
                </td>
                <td>{g.apps.map((a) => a.title).join(', ')}</td>
                <td>
                  <When iso={g.notAfter} />
                </td>
                <td>
                  {g.runsUsed} of {g.maxRuns} used
                </td>
                <td className={`grant-state grant-${g.state}`}>{STATE_TEXT[g.state]}</td>
                <td>
                  <RevokeOne g={g} device={status.device} onDone={refresh} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}
