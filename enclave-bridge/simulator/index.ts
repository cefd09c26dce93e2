export {
  DevnetDescriptorSchema,
  devnetClients,
  readDevnetDescriptor,
  startDevnetEnvironment,
  type DevnetDescriptor,
  type DevnetEnvironment,
} from './environment.ts';
export { grantAccess, publishDataset, type PublishedDataset } from './owner.ts';
export {
  runSimulatedEnclave,
  type SimulatedRunOptions,
  type SimulatedRunResult,
} from './runner.ts';
