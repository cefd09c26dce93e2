import { CustosError } from '../errors/index.ts';
import { loadNodeHidTransport, type Transport } from './ledger-libs.ts';

/**
 * Opens the first Ledger on USB HID (privileged process only). The native addon is loaded here,
 * on first use, so nothing else pays for it.
 * @throws CustosError DeviceNotFound when no Ledger is connected or the addon cannot load.
 */
export async function openLedgerTransport(): Promise<Transport> {
  try {
    return await loadNodeHidTransport().create();
  } catch (error) {
    throw new CustosError('DeviceNotFound', 'no Ledger found on USB', { cause: error });
  }
}
