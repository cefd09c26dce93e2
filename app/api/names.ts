import type { EventName, MethodName } from './contract.ts';

/**
 * The method and event names without their schemas, for the Electron preload (which must stay
 * small: it registers one IPC channel per name). `satisfies` makes a missing or extra name a
 * compile error.
 */
export const METHOD_LIST = [
  'getStatus',
  'createVault',
  'unlock',
  'unlockRemembered',
  'forgetDevice',
  'unlockWithRecoveryKey',
  'lock',
  'touch',
  'listDatasets',
  'getDataset',
  'chooseImportFile',
  'previewImport',
  'startImport',
  'getImport',
  'cancelImport',
  'publishDataset',
  'listEnclaveApps',
  'listContacts',
  'listGrants',
  'createGrant',
  'revokeGrant',
  'revokeAllGrants',
  'queryAudit',
  'exportProof',
  'readProofFile',
  'verifyProof',
  'getSettings',
  'setAutoLock',
  'setStorageOptions',
  'restartNetwork',
  'addStorageBackend',
  'removeStorageBackend',
  'renameContact',
  'stopDeviceWait',
  'answerEmulatedDevice',
] as const satisfies readonly MethodName[];

export const EVENT_LIST = [
  'status',
  'importProgress',
  'publishProgress',
  'runOpened',
  'proofProgress',
] as const satisfies readonly EventName[];

// Exhaustiveness: every contract name is listed.
type Missing<All, Listed> = Exclude<All, Listed>;
const _methodsComplete: Missing<MethodName, (typeof METHOD_LIST)[number]> extends never
  ? true
  : false = true;
const _eventsComplete: Missing<EventName, (typeof EVENT_LIST)[number]> extends never
  ? true
  : false = true;
void _methodsComplete;
void _eventsComplete;
