import { LedgerSigner, type LedgerSignerOptions } from '../ledger.ts';
import { LedgerEmulator, type EmulatorOptions } from './device.ts';
import { EmulatorTransport } from './transport.ts';

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

/**
 * A LedgerSigner over a fresh emulated device (devnet host, e2e): the device is returned so the
 * caller can script the user, lock it, unplug it, open another app.
 */
export function emulatedLedgerSigner(
  device: EmulatorOptions,
  signer: Omit<LedgerSignerOptions, 'openTransport'> = {},
): { device: LedgerEmulator; signer: LedgerSigner } {
  const emulator = new LedgerEmulator(device);
  const ledger = new LedgerSigner({
    ...signer,
    openTransport: () =>
      emulator.state.power === 'on'
        ? Promise.resolve(new EmulatorTransport(emulator))
        : Promise.reject(new Error('emulated Ledger is unplugged')),
  });
  return { device: emulator, signer: ledger };
}
