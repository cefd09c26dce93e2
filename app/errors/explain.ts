import type { ErrorTag } from './index.ts';

/**
 * What a steward or compliance officer reads for each tag: what happened and what to do.
 * Typed as a full record, so adding a tag without a sentence does not compile.
 */
const SENTENCES: Record<ErrorTag, string> = {
  UsageError: 'That command or value is not valid — check the usage and try again.',
  Cancelled: 'The operation was cancelled; nothing was changed.',
  Internal: 'Something unexpected went wrong inside Custos. Nothing was changed; please report it.',
  NotFound: 'The file or item could not be found — check the path.',
  OutputExists:
    'A file already exists at the output path. Choose another name; Custos never overwrites.',
  DiskFull: 'The disk is full. Free some space and try again; the partial output was removed.',
  PermissionDenied:
    'Custos is not allowed to read or write there. Check the permissions, or choose another file or folder.',
  FileSystemError: 'The file system reported an error. Check the disk and try again.',
  FileUnreadable:
    'Custos cannot read that file. Check that it exists, that you may open it, and that it is not a folder.',
  NotAContainer: 'This file is not a Custos encrypted file.',
  UnsupportedVersion:
    'This file was made by a newer or unknown version of Custos. Update Custos to open it.',
  MalformedContainer:
    'This encrypted file is damaged (its header is invalid). Restore it from IPFS or a backup.',
  TruncatedCiphertext: 'This encrypted file is incomplete (cut short). Download or copy it again.',
  TamperedCiphertext:
    'This encrypted file was modified or damaged. Do not use it; restore it from IPFS or a backup.',
  TrailingData:
    'This encrypted file has extra data appended after its end. Do not use it; restore a clean copy.',
  WrongKey:
    'The key in this vault does not match this file. It belongs to another vault or dataset.',
  UnknownDataset:
    'This file belongs to a dataset that is not in this vault. Open the vault that encrypted it.',
  VaultExists: 'A vault already exists in that folder. Open it instead, or choose an empty folder.',
  VaultNotFound: 'No vault was found in that folder. Check the folder or create a new vault.',
  VaultLocked: 'The vault is locked. Unlock it with your passphrase first.',
  VaultBusy:
    'Another Custos window or command is changing this vault. Wait for it to finish and retry.',
  WrongPassphrase: 'That passphrase is not correct. Try again, or use your recovery kit.',
  WeakPassphrase:
    'That passphrase is too short. Use at least 12 characters — a few unrelated words work well.',
  KeyringCorrupt:
    'The vault’s keyring file is damaged or was changed outside Custos. Restore it from a backup.',
  KdfParametersOutOfBounds:
    'The keyring asks for unsafe key-derivation settings (too weak or absurdly expensive). It was not opened.',
  RecoveryKitInvalid: 'That recovery key is not valid for this vault. Check it for typos.',
  RecoveryNotSet: 'This vault has no recovery kit yet. Create one in Settings → Backups.',
  StorageUnavailable: 'The IPFS node cannot be reached. Check Settings → Storage and retry.',
  CidMismatch: 'The content returned by IPFS does not match its content id. It was rejected.',
  BlockMissing:
    'Part of this dataset is missing from IPFS storage. Re-publish it from the local copy.',
  PinFailed: 'The pinning service could not pin this dataset. Check the service and retry.',
  PinTimeout:
    'The pinning service did not finish in time. It may still complete — check again later.',
  StorageUnauthorized:
    'The storage service refused Custos’s access token. Check the token in Settings → Storage.',
  StorageRateLimited:
    'The storage service is limiting requests right now. Wait a minute and retry; nothing was lost.',
  RpcUnavailable: 'The blockchain network cannot be reached. Check Settings → Network and retry.',
  WrongChain: 'The network is not the one this vault expects. Check the network profile.',
  TransactionReverted: 'The blockchain refused the transaction. Nothing was recorded.',
  TransactionTimeout:
    'The transaction was not confirmed in time. It may still confirm — check the audit trail.',
  TransactionUnderpriced:
    'The network asked for a higher fee than was offered. Retry; Custos will offer the current fee.',
  NonceTooLow:
    'The sending account already used that transaction number (another app or a retry sent one). Retry.',
  InsufficientFunds:
    'The account sending this transaction has too little ETH for the network fee. Top it up and retry.',
  ReorgTooDeep:
    'The network rewrote history deeper than Custos waits for. Raise the confirmations in Settings → Network and re-sync.',
  NotOwner: 'Only the dataset’s owner account can do this. Connect the owner’s Ledger.',
  NotOperator:
    'This key-release service is not the dataset’s operator. Set it in the dataset’s settings.',
  DatasetNotRegistered: 'This dataset is not registered on the network yet. Register it first.',
  DatasetFrozen: 'This dataset is frozen: no run can start until the owner unfreezes it.',
  GrantNotFound: 'That grant does not exist on this network.',
  GrantNotYetValid: 'This grant’s access window has not started yet.',
  GrantExpired: 'This grant has expired. The owner can issue a new one.',
  GrantRevoked: 'This grant was revoked by the owner.',
  GrantExhausted: 'This grant has used all of its allowed runs.',
  MeasurementNotAllowed: 'This enclave application is not one the grant allows.',
  SignatureInvalid: 'The signature does not match. Nothing was recorded.',
  SignatureExpired: 'The signed request expired before it was submitted. Sign it again.',
  RunNotFound: 'That run does not exist on this network.',
  RunAlreadyClosed: 'That run was already closed.',
  DeviceNotFound: 'No Ledger found. Connect it with the USB cable and press Retry.',
  DeviceDisconnected: 'The Ledger was disconnected. Reconnect it and press Retry.',
  DeviceLocked: 'Your Ledger is locked — unlock it with your PIN and press Retry.',
  DeviceBusy: 'The Ledger is busy with another request. Finish or cancel it on the device.',
  WrongApp: 'Open the Ethereum app on your Ledger, then press Retry.',
  AppTooOld: 'The Ethereum app on your Ledger is too old for this. Update it in Ledger Live.',
  UserRejected: 'You rejected the request on the Ledger. Nothing was signed.',
  BlindSigningRequired:
    'The Ledger cannot show this message’s fields. Update the Ethereum app in Ledger Live; if it still asks, turn on Blind signing in the app’s settings.',
  DeviceTimeout: 'The Ledger did not answer. Reconnect it and press Retry.',
  DeviceError: 'The Ledger reported an error. Reconnect it, open the Ethereum app and retry.',
  DevSignerNotAllowed: 'The development key may only be used on the development network.',
  DeviceAddressMismatch:
    'This Ledger holds a different account than the one registered. Connect the right Ledger and press Retry.',
  AttestationInvalid: 'The enclave’s attestation did not verify. No key was released.',
  TcbNotAllowed:
    'The enclave platform is not up to date enough for your trust policy. No key was released.',
  DebugEnclave: 'The enclave runs in debug mode, which offers no protection. No key was released.',
  SimulatedNotAllowed:
    'Simulated enclaves are accepted only on the development network. No key was released.',
  CollateralUnavailable:
    'Intel’s verification data could not be fetched. Check the PCCS setting and retry.',
  CollateralExpired:
    'Intel’s verification data is out of date or not yet valid. Refresh it and retry. No key was released.',
  ChallengeUnknown: 'The enclave answered a challenge Custos did not issue. No key was released.',
  ChallengeExpired: 'The enclave answered too late. It must request a new challenge.',
  ReportDataMismatch:
    'The enclave’s attestation is not bound to its key and challenge. No key was released.',
  RateLimited: 'Too many requests from this client in a short time. Wait a moment and retry.',
  KeyReleaseRefused: 'The key was not released: the request did not meet the dataset’s policy.',
  MalformedRecord:
    'A record in the dataset is not valid FHIR R4 or CSV (see the line named). The run stopped; no result was produced.',
  ModelMalformed:
    'The model given to the enclave is not a Custos risk model (custos.risk-model/1). Nothing was computed.',
  FeatureMissing:
    'The dataset lacks a variable the model needs (see the names). The run stopped before any result.',
  CohortTooSmall:
    'Too few patients (or too few with the outcome) for the minimum cohort size asked for. No model was trained.',
  ProofInvalid: 'This usage proof does not verify. See the failed checks.',
  BundleMalformed: 'This file is not a valid usage-proof bundle.',
  JournalBroken: 'The key-release journal’s hash chain is broken: entries were changed or removed.',
  PeriodEmpty:
    'Nothing happened to this dataset in that period, so there is nothing to prove — choose a wider period or “All time”.',
};

/** The steward-facing sentence for a tag. */
export function explain(tag: ErrorTag): string {
  return SENTENCES[tag];
}
