/**
 * Every failure in Custos carries a tag. Tags, not classes, cross process boundaries (IPC, the CLI's
 * one-line reason, the key-release HTTP API): `instanceof` does not survive serialisation, a tag does.
 * The sentence a steward reads for each tag lives in `explain.ts`.
 */

export const ERROR_TAGS = [
  // usage and environment
  'UsageError',
  'Cancelled',
  'Internal',
  'NotFound',
  'OutputExists',
  'DiskFull',
  'PermissionDenied',
  'FileSystemError',
  'FileUnreadable',
  // container format
  'NotAContainer',
  'UnsupportedVersion',
  'MalformedContainer',
  'TruncatedCiphertext',
  'TamperedCiphertext',
  'TrailingData',
  'WrongKey',
  'UnknownDataset',
  // vault and keyring
  'VaultExists',
  'VaultNotFound',
  'VaultLocked',
  'VaultBusy',
  'WrongPassphrase',
  'WeakPassphrase',
  'KeyringCorrupt',
  'KdfParametersOutOfBounds',
  'RecoveryKitInvalid',
  'RecoveryNotSet',
  // storage (IPFS)
  'StorageUnavailable',
  'CidMismatch',
  'BlockMissing',
  'PinFailed',
  'PinTimeout',
  'StorageUnauthorized',
  'StorageRateLimited',
  // chain
  'RpcUnavailable',
  'WrongChain',
  'TransactionReverted',
  'TransactionTimeout',
  'TransactionUnderpriced',
  'NonceTooLow',
  'InsufficientFunds',
  'ReorgTooDeep',
  'NotOwner',
  'NotOperator',
  'DatasetNotRegistered',
  'DatasetFrozen',
  'GrantNotFound',
  'GrantNotYetValid',
  'GrantExpired',
  'GrantRevoked',
  'GrantExhausted',
  'MeasurementNotAllowed',
  'SignatureInvalid',
  'SignatureExpired',
  'RunNotFound',
  'RunAlreadyClosed',
  // signer and device
  'DeviceNotFound',
  'DeviceDisconnected',
  'DeviceLocked',
  'DeviceBusy',
  'WrongApp',
  'AppTooOld',
  'UserRejected',
  'BlindSigningRequired',
  'DeviceTimeout',
  'DeviceError',
  'DevSignerNotAllowed',
  'DeviceAddressMismatch',
  // enclave and key release
  'AttestationInvalid',
  'TcbNotAllowed',
  'DebugEnclave',
  'SimulatedNotAllowed',
  'CollateralUnavailable',
  'CollateralExpired',
  'ChallengeUnknown',
  'ChallengeExpired',
  'ReportDataMismatch',
  'KeyReleaseRefused',
  'RateLimited',
  'MalformedRecord',
  // enclave AI apps
  'ModelMalformed',
  'FeatureMissing',
  'CohortTooSmall',
  // audit and proofs
  'ProofInvalid',
  'BundleMalformed',
  'JournalBroken',
  'PeriodEmpty',
] as const;

export type ErrorTag = (typeof ERROR_TAGS)[number];

const TAG_SET: ReadonlySet<string> = new Set(ERROR_TAGS);

/** Checks whether a string is one of Custos's error tags. */
export function isErrorTag(value: unknown): value is ErrorTag {
  return typeof value === 'string' && TAG_SET.has(value);
}

export type ErrorDetails = Readonly<Record<string, string | number | boolean | null>>;

/** The wire form of an error: what IPC, HTTP and JSON output carry. */
export interface SerializedError {
  readonly tag: ErrorTag;
  readonly message: string;
  readonly details: ErrorDetails;
}

/** The one error class of Custos. `tag` says what went wrong; `message` is one short line. */
export class CustosError extends Error {
  readonly tag: ErrorTag;
  readonly details: ErrorDetails;

  constructor(
    tag: ErrorTag,
    message: string,
    options: { cause?: unknown; details?: ErrorDetails } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = `CustosError(${tag})`;
    this.tag = tag;
    this.details = options.details ?? {};
  }

  toJSON(): SerializedError {
    return { tag: this.tag, message: this.message, details: this.details };
  }

  /** Rebuilds an error that crossed a boundary. An unknown tag becomes `Internal`. */
  static fromJSON(data: { tag: unknown; message: unknown; details?: unknown }): CustosError {
    const tag = isErrorTag(data.tag) ? data.tag : 'Internal';
    const message = typeof data.message === 'string' ? data.message : 'unknown error';
    const details: Record<string, string | number | boolean | null> = {};
    if (data.details !== null && typeof data.details === 'object') {
      for (const [k, v] of Object.entries(data.details)) {
        if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) {
          details[k] = v as string | number | boolean | null;
        }
      }
    }
    return new CustosError(tag, message, { details });
  }
}

/** True when `error` is a CustosError, and, if `tag` is given, carries that tag. */
export function isCustosError(error: unknown, tag?: ErrorTag): error is CustosError {
  return error instanceof CustosError && (tag === undefined || error.tag === tag);
}

/**
 * Converts a Node file-system error into a tagged one (disk full, permission, not found), keeping
 * the original as `cause`. Anything already tagged passes through.
 */
export function fromFsError(error: unknown, path: string): CustosError {
  if (error instanceof CustosError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const details = { path, code: code ?? null };
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new CustosError('DiskFull', `no space left on the disk holding ${path}`, {
        cause: error,
        details,
      });
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new CustosError('PermissionDenied', `not allowed to read or write ${path}`, {
        cause: error,
        details,
      });
    case 'ENOENT':
      return new CustosError('NotFound', `${path} does not exist`, { cause: error, details });
    case 'EEXIST':
      return new CustosError('OutputExists', `${path} already exists`, { cause: error, details });
    default:
      return new CustosError('FileSystemError', `cannot access ${path}: ${code ?? String(error)}`, {
        cause: error,
        details,
      });
  }
}

export { explain } from './explain.ts';
