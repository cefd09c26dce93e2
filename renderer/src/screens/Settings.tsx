import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Fragment,
  useEffect,
  useId,
  useRef,
  useState,
  type FormEvent,
  type InputHTMLAttributes,
} from 'react';
import type { AppStatus, Settings as SettingsView } from '../../../app/api/index.ts';
import { ApiCallError } from '../api/client.ts';
import { useApi } from '../api/context.tsx';
import { CopyValue } from '../components/CopyValue.tsx';
import { SIGNER_NAME } from '../components/Device.tsx';
import { ErrorNote } from '../components/ErrorNote.tsx';
import { formatLocal } from '../components/format.ts';
import './settings.css';

/** Live health is asked again this often while the screen is open. */
const HEALTH_REFRESH_MS = 10_000;

/** Intel's TCB statuses (enclave-bridge/attestation TCB_STATUSES), in the steward's words. */
const TCB_WORDS: [string, string][] = [
  ['UpToDate', 'Up to date'],
  ['SWHardeningNeeded', 'Software hardening needed'],
  ['ConfigurationNeeded', 'Configuration needed'],
  ['ConfigurationAndSWHardeningNeeded', 'Configuration and software hardening needed'],
  ['OutOfDate', 'Out of date'],
  ['OutOfDateConfigurationNeeded', 'Out of date, configuration needed'],
  ['Revoked', 'Revoked (never accepted)'],
];

const PROFILE_WORDS: Record<SettingsView['network']['profile'], string> = {
  devnet: 'Development network (devnet)',
  testnet: 'Test network',
  mainnet: 'Main network',
};

const NET_STATE: Record<SettingsView['network']['state'], string> = {
  'not-configured': '○ Not connected',
  connecting: '◌ Starting…',
  connected: '● Connected',
  unreachable: '✕ Unreachable',
};

const HEALTH: Record<SettingsView['storage']['backends'][number]['health'], string> = {
  ok: '● Reachable',
  unreachable: '✕ Unreachable',
  'not-running': '○ Not running',
};

const KIND: Record<SettingsView['storage']['backends'][number]['kind'], string> = {
  embedded: 'Embedded Helia node',
  kubo: 'kubo node (RPC)',
  'pinning-service': 'Pinning service',
  'ipfs-cluster': 'IPFS Cluster',
};

/** "Keeps 2 copies", "Keeps 2–3 copies": the cluster's replication in the steward's words. */
const copiesInWords = ({ min, max }: { min: number; max: number }): string =>
  `Keeps ${min === max ? min : `${min}–${max}`} ${max === 1 ? 'copy' : 'copies'}`;

function Restart() {
  return (
    <p className="muted settings-restart">
      Changing this needs a restart of Custos with another profile; it cannot be changed from this
      screen.
    </p>
  );
}

function Network({ s, onRestart }: { s: SettingsView; onRestart: () => void }) {
  const api = useApi();
  const restart = useMutation({ mutationFn: () => api.restartNetwork({}), onSuccess: onRestart });
  const n = s.network;
  return (
    <div className="panel" data-testid="settings-network">
      <h2 id="network-title">Network</h2>
      <dl className="details">
        <div>
          <dt>Profile</dt>
          <dd>{PROFILE_WORDS[n.profile]}</dd>
        </div>
        <div>
          <dt>State</dt>
          <dd data-testid="settings-network-state" data-state={n.state}>
            {NET_STATE[n.state]}
          </dd>
        </div>
        <div>
          <dt>RPC address</dt>
          <dd className="mono">{n.rpcUrl ?? '—'}</dd>
        </div>
        <div>
          <dt>Chain id</dt>
          <dd>{n.chainId ?? '—'}</dd>
        </div>
        <div className="details-wide">
          <dt>Registry contract</dt>
          <dd>{n.registry ? <CopyValue value={n.registry} label="registry address" /> : '—'}</dd>
        </div>
      </dl>
      {n.state === 'unreachable' ? (
        <div className="note note-error" role="alert" data-testid="settings-network-problem">
          <span className="note-icon" aria-hidden="true">
            !
          </span>
          <div>
            <p className="note-text">
              {n.profile === 'devnet'
                ? 'The local development chain stopped answering. Restart it: a new, empty chain starts, and datasets must be published again on it.'
                : 'The network’s RPC address does not answer. Check your connection, or ask whoever runs the node; Custos keeps checking and reconnects by itself.'}
            </p>
            {n.problem ? <p className="muted mono settings-detail">{n.problem}</p> : null}
          </div>
        </div>
      ) : null}
      {n.profile === 'devnet' ? (
        <p>
          <button
            type="button"
            className="button"
            data-testid="restart-network"
            disabled={restart.isPending || n.state === 'connecting'}
            onClick={() => restart.mutate()}
          >
            {restart.isPending ? 'Restarting…' : 'Restart the development network'}
          </button>
        </p>
      ) : null}
      <ErrorNote error={restart.error} title="The network did not restart" />
      <Restart />
    </div>
  );
}

type Backend = SettingsView['storage']['backends'][number];
type BackendField = 'kind' | 'name' | 'url' | 'token' | 'min' | 'max' | 'user' | 'password';

/** The service names the refused field (`details.field`); the form shows the sentence beside it. */
const FORM_FIELD: Record<string, BackendField> = {
  kind: 'kind',
  name: 'name',
  apiUrl: 'url',
  endpoint: 'url',
  token: 'token',
  replicationMin: 'min',
  replicationMax: 'max',
  user: 'user',
  password: 'password',
};

/** What a new cluster keeps unless the steward says otherwise: two sites, a third if there is one. */
const DEFAULT_COPIES = { min: '2', max: '3' };

/** The field a UsageError names and its problem as a sentence, or null. */
function refusal(error: unknown): { field: string; problem: string } | null {
  if (!(error instanceof ApiCallError) || error.tag !== 'UsageError') return null;
  const problem = error.details.problem;
  if (typeof problem !== 'string') return null;
  const sentence = `${problem.charAt(0).toUpperCase()}${problem.slice(1)}.`;
  return { field: String(error.details.field), problem: sentence };
}

function fieldProblem(error: unknown): { field: BackendField; problem: string } | null {
  const refused = refusal(error);
  const field = refused ? FORM_FIELD[refused.field] : undefined;
  return refused && field ? { field, problem: refused.problem } : null;
}

/** Asks once before removing a backend, naming what stops (UX principle 6). */
function ConfirmRemove({
  b,
  onCancel,
  onDone,
}: {
  b: Backend;
  onCancel: () => void;
  onDone: () => void;
}) {
  const api = useApi();
  const confirm = useRef<HTMLDivElement>(null);
  const remove = useMutation({
    mutationFn: () => api.removeStorageBackend({ name: b.name }),
    onSuccess: onDone,
  });
  useEffect(() => confirm.current?.focus(), []);
  return (
    <div
      className="confirm"
      role="group"
      aria-label={`Confirm removing ${b.name}`}
      data-testid="backend-remove-confirm"
      tabIndex={-1}
      ref={confirm}
    >
      <p>
        New datasets will no longer be copied to {b.name}
        {b.kind === 'pinning-service'
          ? ', and its access token is deleted'
          : b.kind === 'ipfs-cluster'
            ? ', and its password (if it has one) is deleted'
            : ''}
        . What it already holds stays there: Custos does not delete it.
      </p>
      <button
        type="button"
        className="button button-danger"
        data-testid="backend-remove-yes"
        disabled={remove.isPending}
        onClick={() => remove.mutate()}
      >
        Remove {b.name}
      </button>{' '}
      <button type="button" className="button button-quiet" onClick={onCancel}>
        Keep it
      </button>
      <ErrorNote error={remove.error} title="Not removed" />
    </div>
  );
}

const KIND_CHOICES = [
  [
    'kubo',
    'backend-kind-kubo',
    'A kubo node — your hospital’s own IPFS node, reached by its RPC API',
  ],
  [
    'pinning-service',
    'backend-kind-pinning',
    'A pinning service — an IPFS Pinning Service API, with the access token it gave you',
  ],
  [
    'ipfs-cluster',
    'backend-kind-cluster',
    'An IPFS Cluster — your hospital network’s cluster, reached by its REST API, keeping as many copies as you choose',
  ],
] as const;

function AddBackend({
  tokensKeptIn,
  onDone,
}: {
  tokensKeptIn: 'keychain' | 'vault';
  onDone: () => void;
}) {
  const api = useApi();
  const id = useId();
  const [kind, setKind] = useState<(typeof KIND_CHOICES)[number][0]>('kubo');
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const [token, setToken] = useState('');
  const [copies, setCopies] = useState(DEFAULT_COPIES);
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const add = useMutation({
    mutationFn: () =>
      api.addStorageBackend(
        kind === 'kubo'
          ? { kind, name, apiUrl: url }
          : kind === 'pinning-service'
            ? { kind, name, endpoint: url, token }
            : {
                kind,
                name,
                apiUrl: url,
                // An emptied number field reads as 0, which the service refuses beside the field.
                replicationMin: Number(copies.min),
                replicationMax: Number(copies.max),
                user,
                password,
              },
      ),
    onSuccess: () => {
      setName('');
      setUrl('');
      setToken('');
      setCopies(DEFAULT_COPIES);
      setUser('');
      setPassword('');
      onDone();
    },
  });
  const refused = fieldProblem(add.error);
  const secretKept = (what: 'token' | 'password') =>
    tokensKeptIn === 'keychain'
      ? 'Kept in this computer’s keychain, never in the settings file.'
      : `This window has no system keychain: the ${what} is kept encrypted with your vault key in the vault folder, never in clear.`;
  const problem = (field: BackendField) => (refused?.field === field ? refused.problem : null);
  /** Props that tie a control to its error (or its hint) for assistive technology. */
  const described = (field: BackendField, hint?: string) => ({
    'aria-invalid': problem(field) ? true : undefined,
    'aria-describedby': problem(field)
      ? [`${id}-${field}-error`, hint].filter(Boolean).join(' ')
      : hint,
  });
  const error = (field: BackendField) =>
    problem(field) ? (
      <p className="field-error" id={`${id}-${field}-error`} data-testid={`backend-${field}-error`}>
        {problem(field)}
      </p>
    ) : null;
  const field = (
    f: Exclude<BackendField, 'kind'>,
    label: string,
    help: string,
    input: InputHTMLAttributes<HTMLInputElement>,
  ) => (
    <div className="field">
      <label className="field-label" htmlFor={`${id}-${f}`}>
        {label}
      </label>
      <input
        id={`${id}-${f}`}
        data-testid={`backend-${f}`}
        autoComplete="off"
        {...input}
        {...described(f, `${id}-${f}-help`)}
      />
      <span className="field-help" id={`${id}-${f}-help`}>
        {help}
      </span>
      {error(f)}
    </div>
  );
  return (
    <form
      className="form settings-add"
      noValidate
      aria-labelledby={`${id}-title`}
      data-testid="backend-add-form"
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        add.mutate();
      }}
    >
      <h3 id={`${id}-title`}>Add a backend</h3>
      <fieldset {...described('kind')}>
        <legend>Kind</legend>
        {KIND_CHOICES.map(([value, testId, words]) => (
          <label className="choice" key={value}>
            <input
              type="radio"
              name={`${id}-kind`}
              value={value}
              data-testid={testId}
              checked={kind === value}
              onChange={() => setKind(value)}
            />{' '}
            {words}
          </label>
        ))}
      </fieldset>
      {error('kind')}
      {field('name', 'Name', 'How Custos names it everywhere, e.g. “Hospital IPFS node”.', {
        maxLength: 80,
        value: name,
        onChange: (e) => setName(e.target.value),
      })}
      {field(
        'url',
        {
          kubo: 'RPC API address',
          'pinning-service': 'API endpoint',
          'ipfs-cluster': 'REST API address',
        }[kind],
        {
          kubo: 'The node’s RPC API (usually port 5001), e.g. http://ipfs.hospital.example:5001 — not its gateway.',
          'pinning-service':
            'The service’s Pinning Service API address, as its documentation gives it, e.g. https://api.pinning.example/psa.',
          'ipfs-cluster':
            'A cluster peer’s REST API (usually port 9094), e.g. http://cluster.hospital.example:9094 — not its IPFS proxy.',
        }[kind],
        {
          type: 'url',
          maxLength: 2000,
          spellCheck: false,
          value: url,
          onChange: (e) => setUrl(e.target.value),
        },
      )}
      {kind === 'pinning-service'
        ? field('token', 'Access token', secretKept('token'), {
            type: 'password',
            maxLength: 4096,
            value: token,
            onChange: (e) => setToken(e.target.value),
          })
        : null}
      {kind === 'ipfs-cluster' ? (
        <>
          <fieldset className="settings-copies">
            <legend>Copies of each dataset</legend>
            {field(
              'min',
              'At least',
              'Custos registers a dataset only once this many cluster peers have pinned it.',
              {
                type: 'number',
                min: 1,
                max: 50,
                step: 1,
                value: copies.min,
                onChange: (e) => setCopies({ ...copies, min: e.target.value }),
              },
            )}
            {field(
              'max',
              'At most',
              'The cluster may place it on up to this many peers (50 at most).',
              {
                type: 'number',
                min: 1,
                max: 50,
                step: 1,
                value: copies.max,
                onChange: (e) => setCopies({ ...copies, max: e.target.value }),
              },
            )}
          </fieldset>
          <fieldset className="settings-copies">
            <legend>Sign-in (optional)</legend>
            {field(
              'user',
              'User name',
              'Only if the cluster’s REST API asks for a user name and password; leave both empty otherwise.',
              {
                maxLength: 100,
                spellCheck: false,
                value: user,
                onChange: (e) => setUser(e.target.value),
              },
            )}
            {field('password', 'Password', secretKept('password'), {
              type: 'password',
              maxLength: 4096,
              value: password,
              onChange: (e) => setPassword(e.target.value),
            })}
          </fieldset>
        </>
      ) : null}
      <div className="actions">
        <button type="submit" className="button" data-testid="backend-add" disabled={add.isPending}>
          {add.isPending ? 'Adding…' : 'Add backend'}
        </button>
      </div>
      {add.isSuccess ? (
        <p role="status" data-testid="backend-added">
          Added. Its health shows above; the next publish copies the dataset to it.
        </p>
      ) : null}
      {refused ? null : <ErrorNote error={add.error} title="Not added" />}
    </form>
  );
}

function Storage({
  s,
  checking,
  onChange,
}: {
  s: SettingsView;
  checking: boolean;
  onChange: () => void;
}) {
  const [removing, setRemoving] = useState<string | null>(null);
  const [removed, setRemoved] = useState<string | null>(null);
  // The removed row takes the focus with it: give it to the panel's heading, which says what happened.
  const heading = useRef<HTMLHeadingElement>(null);
  return (
    <div className="panel" data-testid="settings-storage">
      <h2 ref={heading} tabIndex={-1}>
        IPFS storage
      </h2>
      {removed ? (
        <p role="status" data-testid="backend-removed">
          Removed {removed}: new datasets are no longer copied to it.
        </p>
      ) : null}
      <p>
        Each published dataset is pinned by the embedded node, then copied to every other backend
        below; it is registered on the network only once all of them hold it.
      </p>
      <table className="table">
        <caption className="visually-hidden">IPFS backends and their health</caption>
        <thead>
          <tr>
            <th scope="col">Backend</th>
            <th scope="col">Kind</th>
            <th scope="col">Health</th>
            <th scope="col">Address</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {s.storage.backends.map((b) => (
            <Fragment key={b.name}>
              <tr data-testid="storage-backend" data-health={b.health}>
                <td>{b.name}</td>
                <td>
                  {KIND[b.kind]}
                  {b.copies ? (
                    <span className="settings-detail" data-testid="backend-copies">
                      {copiesInWords(b.copies)}
                    </span>
                  ) : null}
                </td>
                <td>
                  {HEALTH[b.health]}
                  {b.detail ? <span className="settings-detail muted">{b.detail}</span> : null}
                </td>
                <td className="mono settings-address">{b.address ?? '—'}</td>
                <td>
                  {b.kind === 'embedded' ? (
                    <span className="muted">Part of the app</span>
                  ) : (
                    <button
                      type="button"
                      className="button button-quiet"
                      data-testid="backend-remove"
                      aria-label={`Remove ${b.name}…`}
                      aria-expanded={removing === b.name}
                      onClick={() => setRemoving(b.name)}
                    >
                      Remove…
                    </button>
                  )}
                </td>
              </tr>
              {removing === b.name ? (
                <tr>
                  <td colSpan={5}>
                    <ConfirmRemove
                      b={b}
                      onCancel={() => setRemoving(null)}
                      onDone={() => {
                        setRemoving(null);
                        setRemoved(b.name);
                        heading.current?.focus();
                        onChange();
                      }}
                    />
                  </td>
                </tr>
              ) : null}
            </Fragment>
          ))}
        </tbody>
      </table>
      <p className="muted" aria-live="polite">
        {checking ? 'Checking…' : `Checked ${formatLocal(s.storage.checkedAt)}.`} Checked again
        every {HEALTH_REFRESH_MS / 1000} s while this screen is open.
      </p>
      {s.storage.backends.length === 1 ? (
        <p data-testid="storage-empty">
          Only this app holds your datasets now. Add your hospital’s IPFS node, an IPFS Cluster or a
          pinning service so that a copy survives this computer.
        </p>
      ) : null}
      <AddBackend tokensKeptIn={s.storage.tokensKeptIn} onDone={onChange} />
      <StorageOptions
        cidVersion={s.storage.cidVersion}
        pinTimeoutSeconds={s.storage.pinTimeoutSeconds}
        onDone={onChange}
      />
      <p className="muted">
        Changes apply from the next publish, without a restart. Datasets published before are not
        copied to a backend added later.
      </p>
    </div>
  );
}

const CID_CHOICES: [0 | 1, string][] = [
  [1, 'CIDv1 (recommended: the encrypted file is referenced, not copied)'],
  [0, 'CIDv0 (older tools; every block is copied)'],
];

/** Minutes as the steward reads them: whole where they are, else to the hundredth. */
const minutesOf = (seconds: number): string => String(Math.round((seconds / 60) * 100) / 100);

/** CID version of new datasets and how long publish waits for a remote pin. */
function StorageOptions({
  cidVersion,
  pinTimeoutSeconds,
  onDone,
}: {
  cidVersion: 0 | 1;
  pinTimeoutSeconds: number;
  onDone: () => void;
}) {
  const api = useApi();
  const id = useId();
  const [version, setVersion] = useState(cidVersion);
  const [minutes, setMinutes] = useState(minutesOf(pinTimeoutSeconds));
  const n = Number(minutes);
  // An emptied field reads as 0 seconds, which the service refuses beside the field.
  const seconds = minutes.trim() !== '' && Number.isFinite(n) ? Math.round(n * 60) : 0;
  const save = useMutation({
    mutationFn: () => api.setStorageOptions({ cidVersion: version, pinTimeoutSeconds: seconds }),
    onSuccess: onDone,
  });
  const refused = refusal(save.error);
  const problem = (field: 'cidVersion' | 'pinTimeoutSeconds') =>
    refused?.field === field ? (
      <p className="field-error" id={`${id}-${field}-error`} data-testid={`${field}-error`}>
        {refused.problem}
      </p>
    ) : null;
  const saved = save.isSuccess && version === cidVersion && seconds === pinTimeoutSeconds;
  return (
    <form
      className="form settings-add settings-options"
      noValidate
      aria-labelledby={`${id}-title`}
      data-testid="storage-options-form"
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <h3 id={`${id}-title`}>How new datasets are published</h3>
      <fieldset aria-describedby={`${id}-cid-help`}>
        <legend>Content identifier (CID) version</legend>
        {CID_CHOICES.map(([value, words]) => (
          <label className="choice" key={value}>
            <input
              type="radio"
              name={`${id}-cid`}
              value={value}
              data-testid={`cid-v${value}`}
              checked={version === value}
              onChange={() => setVersion(value)}
            />{' '}
            {words}
          </label>
        ))}
      </fieldset>
      <p className="field-help" id={`${id}-cid-help`}>
        With CIDv0 every publish copies the whole encrypted file into the IPFS store (twice the disk
        space, and slower). Choose it only if a tool at your site cannot read CIDv1.
      </p>
      {problem('cidVersion')}
      <div className="field">
        <label className="field-label" htmlFor={`${id}-wait`}>
          Wait for a remote pin up to this many minutes
        </label>
        <input
          id={`${id}-wait`}
          type="number"
          min={0.2}
          max={1440}
          step="any"
          value={minutes}
          data-testid="pin-timeout-minutes"
          aria-invalid={refused?.field === 'pinTimeoutSeconds' ? true : undefined}
          aria-describedby={
            refused?.field === 'pinTimeoutSeconds'
              ? `${id}-pinTimeoutSeconds-error ${id}-wait-help`
              : `${id}-wait-help`
          }
          onChange={(e) => setMinutes(e.target.value)}
        />
        <span className="field-help" id={`${id}-wait-help`}>
          How long a publish waits for a pinning service or an IPFS Cluster to confirm its copy
          before giving up, nothing registered. Up to 1440 (a day); 10 unless a large dataset or a
          slow service needs more.
        </span>
        {problem('pinTimeoutSeconds')}
      </div>
      <div className="actions">
        <button
          type="submit"
          className="button"
          data-testid="storage-options-save"
          disabled={save.isPending}
        >
          Save
        </button>
      </div>
      {saved ? (
        <p role="status" data-testid="storage-options-saved">
          Saved: new datasets use CIDv{cidVersion}, and a publish waits up to{' '}
          {minutesOf(pinTimeoutSeconds)} minutes for a remote pin.
        </p>
      ) : null}
      {refused ? null : <ErrorNote error={save.error} title="Not saved" />}
    </form>
  );
}

function Signer({ s }: { s: SettingsView }) {
  return (
    <div className="panel" data-testid="settings-signer">
      <h2>Signer</h2>
      <dl className="details">
        <div>
          <dt>Signs with</dt>
          <dd>{SIGNER_NAME[s.signer.kind]}</dd>
        </div>
        <div>
          <dt>Device</dt>
          <dd>{s.signer.state}</dd>
        </div>
        <div className="details-wide">
          <dt>Account</dt>
          <dd>
            {s.signer.address ? (
              <CopyValue value={s.signer.address} label="signer account" />
            ) : (
              'read from the device at the first signature'
            )}
          </dd>
        </div>
      </dl>
      <p className="muted">
        {s.signer.kind === 'emulated-ledger'
          ? 'An APDU-level emulated Ledger with the development seed: the devnet stand-in for a Ledger. It is never offered on another network.'
          : s.signer.kind === 'dev-key'
            ? 'A development key on disk: devnet only, never a production signer.'
            : s.signer.kind === 'ledger'
              ? 'A Ledger over USB: every registration, grant and revocation is confirmed on it.'
              : 'No signer is set up.'}
      </p>
      <Restart />
    </div>
  );
}

function Trust({ s }: { s: SettingsView }) {
  const allowed = new Set(s.trust.allowedTcbStatuses);
  return (
    <div className="panel" data-testid="settings-trust">
      <h2>Enclave trust policy</h2>
      <p>
        The key-release service gives a dataset key only to an enclave whose attestation verifies
        under this policy, and only after the network has accepted its run.
      </p>
      <h3>Intel platform (TCB) statuses</h3>
      <ul className="settings-tcb" data-testid="trust-tcb">
        {TCB_WORDS.map(([tag, words]) => (
          <li key={tag} data-accepted={allowed.has(tag) ? 'yes' : 'no'}>
            <span aria-hidden="true">{allowed.has(tag) ? '✓' : '✕'}</span>{' '}
            {allowed.has(tag) ? 'Accepted' : 'Refused'}: {words}{' '}
            <span className="muted mono">({tag})</span>
          </li>
        ))}
      </ul>
      <h3>Simulated enclaves</h3>
      <p data-testid="trust-simulated">
        {s.trust.acceptsSimulated
          ? `Accepted, because this is the development network — only from this devnet’s own simulator (${s.trust.simulationKeys} key${s.trust.simulationKeys === 1 ? '' : 's'}). Their runs carry a SIMULATED badge everywhere.`
          : 'Refused: simulated evidence is accepted only on the development network.'}
      </p>
      <p className="muted">
        The policy is read by the key-release service when the network starts; in this version it
        follows the profile and cannot be changed here.
      </p>
    </div>
  );
}

function AutoLock({ minutes }: { minutes: number }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [value, setValue] = useState(String(minutes));
  const save = useMutation({
    mutationFn: (m: number) => api.setAutoLock({ minutes: m }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['settings'] }),
  });
  const n = Number(value);
  const valid = Number.isInteger(n) && n >= 1 && n <= 1440;
  return (
    <form
      className="form settings-autolock"
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        if (valid) save.mutate(n);
      }}
    >
      <label>
        Lock the vault after this many minutes without activity
        <input
          type="number"
          min={1}
          max={1440}
          required
          value={value}
          data-testid="autolock-minutes"
          aria-invalid={!valid}
          aria-describedby="autolock-hint"
          onChange={(e) => setValue(e.target.value)}
        />
      </label>
      <p id="autolock-hint" className="muted">
        Between 1 and 1440 (a day). The desktop app also locks when the screen locks or the computer
        sleeps.
      </p>
      <div className="actions">
        <button
          type="submit"
          className="button"
          data-testid="autolock-save"
          disabled={!valid || save.isPending || n === minutes}
        >
          Save
        </button>
      </div>
      {save.isSuccess && n === minutes ? (
        <p role="status" data-testid="autolock-saved">
          Saved: the vault now locks after {minutes} minutes idle.
        </p>
      ) : null}
      <ErrorNote error={save.error} title="Not saved" />
    </form>
  );
}

function DesktopNotifications() {
  const supported = typeof Notification !== 'undefined';
  const [permission, setPermission] = useState(supported ? Notification.permission : 'denied');
  if (!supported) return <p className="muted">This window cannot show system notifications.</p>;
  return (
    <>
      <p>
        A notice appears in this window whenever an enclave run starts on one of your datasets.{' '}
        {permission === 'granted'
          ? 'System notifications are allowed too.'
          : permission === 'denied'
            ? 'System notifications are blocked for this window (change it in the browser or system settings).'
            : 'You can also get a system notification.'}
      </p>
      {permission === 'default' ? (
        <button
          type="button"
          className="button button-quiet"
          onClick={() => void Notification.requestPermission().then(setPermission)}
        >
          Allow system notifications
        </button>
      ) : null}
    </>
  );
}

/** Settings: network, IPFS backends (live health), signer, enclave trust policy, this device. */
export function Settings({ status }: { status: AppStatus }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const settings = useQuery({
    queryKey: ['settings'],
    queryFn: () => api.getSettings({}),
    refetchInterval: HEALTH_REFRESH_MS,
  });
  const forget = useMutation({
    mutationFn: () => api.forgetDevice({}),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['status'] }),
  });
  // The network state comes with every status event; the rest is asked for.
  const s = settings.data
    ? { ...settings.data, network: { ...settings.data.network, ...status.network } }
    : null;
  return (
    <section className="screen settings" aria-labelledby="settings-title">
      <h1 id="settings-title">Settings</h1>
      <ErrorNote error={settings.error} title="Settings could not be read" />
      {settings.isPending ? <p className="muted">Reading settings…</p> : null}
      {s ? (
        <>
          <Network
            s={s}
            onRestart={() => void queryClient.invalidateQueries({ queryKey: ['settings'] })}
          />
          <Storage
            s={s}
            checking={settings.isFetching}
            onChange={() => void queryClient.invalidateQueries({ queryKey: ['settings'] })}
          />
          <Signer s={s} />
          <Trust s={s} />
        </>
      ) : null}
      <div className="panel" data-testid="settings-device">
        <h2 id="device-title">This device</h2>
        <AutoLock minutes={status.autoLockMinutes} />
        {status.remember.available ? (
          status.remember.enabled ? (
            <>
              <p>
                The passphrase is remembered in this computer’s keychain: anyone who can log in to
                this account can unlock the vault.
              </p>
              <button
                type="button"
                className="button"
                onClick={() => forget.mutate()}
                disabled={forget.isPending}
              >
                Forget the passphrase on this device
              </button>
              <ErrorNote error={forget.error} />
            </>
          ) : (
            <p className="muted">
              The passphrase is not remembered on this device. You can choose to remember it when
              you unlock.
            </p>
          )
        ) : (
          <p className="muted">
            “Remember on this device” needs the desktop app and an operating-system keychain; it is
            not offered in this window.
          </p>
        )}
        <h3>Notifications</h3>
        <DesktopNotifications />
      </div>
      <p className="muted">
        Not here yet: the operator key (the key-release service’s signing key) and vault backups.
      </p>
    </section>
  );
}
