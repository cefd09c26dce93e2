import { useEffect, useRef, useState } from 'react';
import type { DeviceStatus } from '../../../app/api/index.ts';
import { useApi } from '../api/context.tsx';
import { ErrorNote } from './ErrorNote.tsx';

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
  locked: '🔒',
  'wrong-app': '!',
  ready: '●',
  'confirm-on-device': '➜',
  signed: '✓',
  rejected: '✕',
  error: '!',
};

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
            {device.fields.map((f, i) => (
              <div key={i}>
                <dt>{f.label}</dt>
                <dd className="mono">{f.value}</dd>
              </div>
            ))}
          </dl>
        </>
      ) : null}
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
