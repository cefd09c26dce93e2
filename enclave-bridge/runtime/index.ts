export {
  CONFIGFS_TSM_REPORT,
  simulatedAttester,
  tdxTsmAttester,
  type Attester,
} from './attesters.ts';
export { newEnclaveIdentity, type EnclaveIdentity } from './identity.ts';
export {
  obtainDatasetKey,
  runEnclaveJob,
  runOnDataset,
  type EnclaveApp,
  type EnclaveRunResult,
} from './run.ts';
export {
  ABORT_SCHEMA,
  runMultiDatasetJob,
  type DatasetInput,
  type MultiDatasetEnclaveApp,
  type MultiRunRecord,
  type MultiRunResult,
} from './multi.ts';
