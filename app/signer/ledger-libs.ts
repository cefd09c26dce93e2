import { createRequire } from 'node:module';
import type TransportType from '@ledgerhq/hw-transport';
import type EthType from '@ledgerhq/hw-app-eth';

/**
 * The @ledgerhq packages, loaded through `require`: their ESM builds use extensionless relative
 * imports that Node's ESM loader rejects (MACHINE-NOTES). Types come from their declarations.
 */
const require = createRequire(import.meta.url);

export const Transport = (require('@ledgerhq/hw-transport') as typeof TransportType).default;
export type Transport = TransportType.default;

export const Eth = (require('@ledgerhq/hw-app-eth') as typeof EthType).default;
export type Eth = EthType.default;

interface LedgerErrors {
  DisconnectedDevice: new (message?: string) => Error;
  DisconnectedDeviceDuringOperation: new (message?: string) => Error;
  TransportStatusError: new (statusCode: number) => Error & { statusCode: number };
  LockedDeviceError: new (message?: string) => Error;
}

export const ledgerErrors = require('@ledgerhq/errors') as LedgerErrors;

/** node-hid transport, loaded only when a real device is used (it needs the native addon). */
export function loadNodeHidTransport(): typeof TransportType.default {
  return (require('@ledgerhq/hw-transport-node-hid') as typeof TransportType).default;
}
