import { CustosError } from '../errors/index.ts';

/**
 * Status words of the Ledger Ethereum app and of the device OS, by name. They are the last two
 * bytes of every APDU response; nothing in Custos compares a message text or a bare number.
 */
export const SW = {
  OK: 0x9000,
  /** The user pressed "Reject" on the device (CONDITIONS_OF_USE_NOT_SATISFIED). */
  USER_REJECTED: 0x6985,
  /** The user refused on the device (OS-level prompt, e.g. open-app). */
  USER_REFUSED_ON_DEVICE: 0x5501,
  /** The device is locked: PIN screen. */
  LOCKED: 0x5515,
  /** Instruction unknown to the running app: another app, or an app too old for it. */
  INS_NOT_SUPPORTED: 0x6d00,
  /** Class byte unknown to the running app: another app is open. */
  CLA_NOT_SUPPORTED: 0x6e00,
  /** Answered by the dashboard (no app open) on recent firmware. */
  APP_NOT_OPEN: 0x6511,
  /** Answered by the bootloader. */
  CLA_NOT_SUPPORTED_BOOTLOADER: 0x6e01,
  /** Malformed or refused data; also "blind signing is disabled" for contract data. */
  INCORRECT_DATA: 0x6a80,
  /** The app ran out of memory (e.g. an EIP-712 schema too large for this device). */
  NOT_ENOUGH_MEMORY: 0x6a84,
  INCORRECT_P1_P2: 0x6b00,
  WRONG_LENGTH: 0x6700,
  SECURITY_STATUS_NOT_SATISFIED: 0x6982,
  /** Transaction type not supported by the app. */
  TX_TYPE_NOT_SUPPORTED: 0x6501,
  /** Unexpected order of APDUs, e.g. an EIP-712 value before its definition. */
  CONDITIONS_NOT_SATISFIED: 0x6a85,
} as const;

export type StatusWord = (typeof SW)[keyof typeof SW];

/**
 * First Ethereum app version with the full EIP-712 protocol (struct definitions and values,
 * INS 0x1a/0x1c, sign with P2 0x01). Older apps only sign the two hashes.
 */
export const EIP712_FULL_MIN_VERSION: readonly [number, number, number] = [1, 9, 19];

/** Status words that say "the Ethereum app is not the one answering". */
export const WRONG_APP_STATUS: ReadonlySet<number> = new Set([
  SW.INS_NOT_SUPPORTED,
  SW.CLA_NOT_SUPPORTED,
  SW.APP_NOT_OPEN,
  SW.CLA_NOT_SUPPORTED_BOOTLOADER,
]);

/** Lowercase 4-digit hex of a status word, as the device sends it. */
export function statusHex(sw: number): string {
  return sw.toString(16).padStart(4, '0');
}

/**
 * Maps a status word to the tagged error a steward can act on. Returns null for 0x9000.
 * `context` is put in the message ("while signing the transaction").
 */
export function errorForStatus(sw: number, context: string): CustosError | null {
  const details = { statusWord: `0x${statusHex(sw)}` };
  switch (sw) {
    case SW.OK:
      return null;
    case SW.USER_REJECTED:
    case SW.USER_REFUSED_ON_DEVICE:
      return new CustosError('UserRejected', `rejected on the Ledger ${context}`, { details });
    case SW.LOCKED:
      return new CustosError('DeviceLocked', `the Ledger is locked (${context})`, { details });
    case SW.INS_NOT_SUPPORTED:
    case SW.CLA_NOT_SUPPORTED:
    case SW.APP_NOT_OPEN:
    case SW.CLA_NOT_SUPPORTED_BOOTLOADER:
      return new CustosError('WrongApp', `the Ethereum app is not open (${context})`, { details });
    default:
      return new CustosError('DeviceError', `the Ledger answered 0x${statusHex(sw)} ${context}`, {
        details,
      });
  }
}
