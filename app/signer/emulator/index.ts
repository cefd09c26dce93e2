export {
  LedgerEmulator,
  DeviceUnplugged,
  approveEverything,
  pathString,
  type DeviceCondition,
  type EmulatorOptions,
  type Prompt,
  type User,
  type UserAnswer,
} from './device.ts';
export { DEFAULT_EIP712_LIMITS, type DisplayedField, type Eip712Limits } from './eip712.ts';
export { EmulatorTransport } from './transport.ts';

/** Speculos' default seed: the one Ledger's own app tests use, so their vectors apply. */
export const SPECULOS_SEED =
  'glory promote mansion idle axis finger extra february uncover one trip resource lawn turtle enact monster seven myth punch hobby comfort wild raise skin';
