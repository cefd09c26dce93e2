import { useEffect, useRef, useState } from 'react';
import type { DeviceStatus } from '../../../app/api/index.ts';
import { useApi } from '../api/context.tsx';
import { ErrorNote } from './ErrorNote.tsx';
import './device.css';

/** Who signs, in words: the real Ledger, or what stands in for it on the devnet. */
export const SIGNER_NAME: Record<DeviceStatus['signer'], string> = {
  none: 'No signer',
  ledger: 'Ledger',
  'emulated-ledger': 'Ledger (EMULATED)',
  'dev-key': 'DEV KEY',
};

const SYMBOL: Record<DeviceStatus['state'], string> = {
  'not-configured': '○',
  disconnected: '○',
  connecting: '◌',
  locked: '⚠', // (a padlock emoji is missing from many system fonts)
  'wrong-app': '!',
  ready: '●',
  'confirm-on-device': '➜',
  signed: '✓',
  rejected: '✕',
  error: '!',
};

/**
 * Field names in the steward's words, as a Ledger shows them with Custos's ERC-7730 descriptor
 * (contracts/erc7730-custos.json; the EIP-712 domain fields as Ledger's generic display names
 * them). A device without the descriptor shows the raw name, so that stays beside the words.
 */
const FIELD_WORDS: Record<string, string> = {
  name: 'Application',
  version: 'Version',
  chainId: 'Network (chain id)',
  verifyingContract: 'Registry contract',
  Address: 'Your account',
  owner: 'Owner',
  containerId: 'Dataset',
  datasetId: 'Dataset',
  cid: 'Content id (CID)',
  ciphertextHash: 'Ciphertext hash',
  metadataHash: 'Metadata hash',
  grantee: 'Grantee',
  measurements: 'Enclave app',
  notBefore: 'From',
  notAfter: 'Until',
  maxRuns: 'Runs',
  purposeHash: 'Purpose',
  legalBasisHash: 'Legal basis',
  grantId: 'Grant',
  operator: 'Operator',
  newOwner: 'New owner',
  nonce: 'Signature number',
  deadline: 'Signature valid until',
};

/** Fields holding Unix times: the device shows seconds, the steward reads a date. */
const TIME_FIELDS = new Set(['notBefore', 'notAfter', 'deadline']);

/** "measurements[0]" → { words: "Enclave app 1", raw: "measurements[0]" }. */
export function fieldWords(label: string): string {
  const match = /^(?:.*\.)?([A-Za-z]+)(?:\[(\d+)\])?$/.exec(label);
  const base = match?.[1] ?? label;
  const words = FIELD_WORDS[base];
  if (!words) return label;
  return match?.[2] !== undefined ? `${words} ${Number(match[2]) + 1}` : words;
}

function fieldValue(label: string, value: string): string {
  const base = /([A-Za-z]+)(?:\[\d+\])?$/.exec(label)?.[1] ?? '';
  if (!TIME_FIELDS.has(base) || !/^\d{1,12}$/.test(value)) return value;
  const date = new Date(Number(value) * 1000);
  return `${value} = ${new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(date)}`;
}

/**
 * The device status, everywhere the same (UX principle 3): the state as the headline, then what
 * the device displays while it waits, so the steward can compare field by field. `compact` is the
 * top-bar chip; the full form is the device prompt.
 */
export function DeviceState({ device, compact }: { device: DeviceStatus; compact?: boolean }) {
  const label =
    device.signer === 'emulated-ledger' && device.state === 'disconnected'
      ? 'connects when a signature is needed'
      : device.label;
  if (compact) {
    return (
      <li className={`chip chip-device chip-${device.state}`} data-testid="device-status">
        <span aria-hidden="true">{SYMBOL[device.state]}</span> {SIGNER_NAME[device.signer]}: {label}
      </li>
    );
  }
  return (
    <div className="device-state" data-testid="device-state" data-state={device.state}>
      <p className="device-headline">
        <span aria-hidden="true">{SYMBOL[device.state]}</span> {label}
      </p>
      <p className="muted">
        Signer: <strong>{SIGNER_NAME[device.signer]}</strong>
        {device.signer === 'emulated-ledger'
          ? ' — an APDU-level emulator with the development seed, not a real device.'
          : null}
        {device.signer === 'dev-key' ? ' — a development key on disk, devnet only.' : null}
      </p>
      {device.note ? <p className="device-note">{device.note}</p> : null}
      {device.fields.length > 0 ? (
        <>
          <p>The device shows these fields. Compare them with what you meant to sign:</p>
          <dl className="device-fields" data-testid="device-fields">
            {device.fields.map((f, i) => {
              const words = fieldWords(f.label);
              return (
                <div key={i}>
                  <dt>
                    {words}
                    {words !== f.label ? <span className="device-raw mono">{f.label}</span> : null}
                  </dt>
                  <dd className="mono">{fieldValue(f.label, f.value)}</dd>
                </div>
              );
            })}
          </dl>
        </>
      ) : null}
    </div>
  );
}

/** Device states the steward must fix on the device itself while an action waits for it. */
export function deviceNeedsHand(device: DeviceStatus): boolean {
  return (
    device.state === 'locked' ||
    device.state === 'wrong-app' ||
    (device.state === 'disconnected' && device.signer === 'ledger')
  );
}

/**
 * Beside an action that waits for a signature (publish, grant, revoke): what to do on the
 * device while Custos keeps asking it. Nothing when the device needs nothing.
 */
export function DeviceWaiting({ device, waiting }: { device: DeviceStatus; waiting: boolean }) {
  const api = useApi();
  const [error, setError] = useState<unknown>(null);
  if (!waiting || !deviceNeedsHand(device)) return null;
  return (
    <div className="panel panel-quiet" data-testid="device-waiting">
      <DeviceState device={device} />
      <p className="muted">
        Custos carries on by itself as soon as the device answers.{' '}
        <button
          type="button"
          className="button button-quiet"
          data-testid="device-stop-waiting"
          onClick={() => {
            setError(null);
            api.stopDeviceWait({}).catch(setError);
          }}
        >
          Stop waiting
        </button>
      </p>
      <ErrorNote error={error} />
    </div>
  );
}

/**
 * Shown over every screen while the device waits for the user. On the devnet's emulated Ledger the
 * two device buttons are here too, labelled as emulated.
 */
export function DevicePrompt({ device }: { device: DeviceStatus }) {
  const api = useApi();
  const [error, setError] = useState<unknown>(null);
  const ref = useRef<HTMLDivElement>(null);
  const open = device.state === 'confirm-on-device';
  useEffect(() => {
    if (open) ref.current?.focus();
  }, [open]);
  if (!open) return null;
  const answer = (a: 'approve' | 'reject') => {
    setError(null);
    api.answerEmulatedDevice({ answer: a }).catch(setError);
  };
  return (
    <div className="overlay">
      <div
        className="dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby="device-prompt-title"
        tabIndex={-1}
        ref={ref}
        data-testid="device-prompt"
      >
        <h2 id="device-prompt-title">Confirm on your device</h2>
        <DeviceState device={device} />
        {device.canAnswer ? (
          <div className="emulated-buttons" role="group" aria-label="Emulated device buttons">
            <p className="muted">
              EMULATED device — on a real Ledger you press these on the device itself.
            </p>
            <button
              type="button"
              className="button"
              data-testid="device-approve"
              onClick={() => answer('approve')}
            >
              Approve on the emulated device
            </button>{' '}
            <button
              type="button"
              className="button button-quiet"
              data-testid="device-reject"
              onClick={() => answer('reject')}
            >
              Reject
            </button>
          </div>
        ) : null}
        <ErrorNote error={error} />
      </div>
    </div>
  );
}
