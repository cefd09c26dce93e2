export type { Signer, TypedDataTypes } from './signer.ts';
export {
  LedgerSigner,
  OFFLINE,
  deviceError,
  type LedgerSignerOptions,
  type TypedDataReport,
} from './ledger.ts';
export { DevSigner, DEV_SIGNER_LABEL, type NetworkProfile } from './dev.ts';
export {
  DeviceStateMachine,
  INITIAL_DEVICE_STATE,
  eventForError,
  transition,
  type DeviceAction,
  type DeviceEvent,
  type DeviceState,
  type DeviceStateListener,
  type TypedDataDisplay,
} from './device-state.ts';
export {
  SW,
  EIP712_FULL_MIN_VERSION,
  WRONG_APP_STATUS,
  errorForStatus,
  statusHex,
  type StatusWord,
} from './status.ts';
export { openLedgerTransport } from './node-hid.ts';
