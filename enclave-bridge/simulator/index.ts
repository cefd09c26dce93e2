export {
  DevnetDescriptorSchema,
  devnetClients,
  readDevnetDescriptor,
  startDevnetEnvironment,
  type DevnetDescriptor,
  type DevnetEnvironment,
} from './environment.ts';
export {
  DEVNET_OPERATOR,
  grantAccess,
  publishDataset,
  storeDataset,
  type PublishedDataset,
  type StoredDataset,
} from './owner.ts';
export {
  runSimulatedEnclave,
  type SimulatedRunOptions,
  type SimulatedRunResult,
} from './runner.ts';
export {
  PROVIDER_KEYS,
  grantModel,
  publishModel,
  runSimulatedMultiEnclave,
  startModelProvider,
  type ModelProvider,
  type SimulatedMultiRunOptions,
  type SimulatedMultiRunResult,
} from './two-party.ts';
