/**
 * The signer's DeviceState (app/signer) as the API's DeviceStatus: one flat value the top bar and
 * the device prompt render (UX principle 3: the device state is the headline, the displayed
 * fields are listed for comparison).
 */
import type { DeviceStatus } from '../api/index.ts';
import type { OwnerSigner } from './network.ts';

const ACTION_TEXT = {
  'verify-address': 'verify the address',
  'sign-typed-data': 'confirm the message',
  'sign-transaction': 'confirm the transaction',
  'sign-personal-message': 'confirm the message',
} as const;

/** Flattens the signer's state into the API shape. */
export function deviceStatus(signer: OwnerSigner): DeviceStatus {
  const s = signer.state();
  const base = {
    signer: signer.kind,
    address: null as string | null,
    fields: [] as DeviceStatus['fields'],
    note: null as string | null,
    canAnswer: false,
  };
  const name = signer.kind === 'dev-key' ? 'Dev key' : 'Ledger';
  switch (s.status) {
    case 'disconnected':
      return { ...base, state: 'disconnected', label: `Connect your ${name}` };
    case 'connecting':
      return { ...base, state: 'connecting', label: 'Connecting…' };
    case 'locked':
      return { ...base, state: 'locked', label: `Unlock your ${name} (enter its PIN)` };
    case 'wrong-app':
      return {
        ...base,
        state: 'wrong-app',
        label: 'Open the Ethereum app on the device',
        note: s.app ? `The device has “${s.app}” open.` : null,
      };
    case 'ready':
      return { ...base, state: 'ready', label: 'Ready', address: s.address };
    case 'confirm-on-device':
      return {
        ...base,
        state: 'confirm-on-device',
        label: `Check and ${ACTION_TEXT[s.action]} on the device`,
        fields: signer.displayed().map((f) => ({
          label: f.label.slice(0, 100),
          value: f.value.slice(0, 500),
        })),
        note: s.note,
        canAnswer: signer.answer !== undefined,
      };
    case 'signed':
      return { ...base, state: 'signed', label: 'Signed on the device' };
    case 'rejected':
      return { ...base, state: 'rejected', label: 'Rejected on the device' };
    case 'error':
      return {
        ...base,
        state: 'error',
        label: 'Device problem',
        note: s.error.message.slice(0, 500),
      };
  }
}
