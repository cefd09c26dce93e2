import { CustosError } from '../errors/index.ts';
import { loadNodeHidTransport, type Transport } from './ledger-libs.ts';

/**
 * Opens the first Ledger on USB HID (privileged process only). The native addon is loaded here,
 * on first use, so nothing else pays for it. It does not wait for a device to appear (the
 * library's `create()` would, forever): no device now is DeviceNotFound, and the UI's Retry
 * calls again.
 * @throws CustosError DeviceNotFound when no Ledger is connected or the addon cannot load.
 */
export async function openLedgerTransport(): Promise<Transport> {
  let descriptors: unknown[];
  const hid = (() => {
    try {
      return loadNodeHidTransport();
    } catch (error) {
      throw new CustosError('DeviceNotFound', 'the USB HID driver could not be loaded', {
        cause: error,
      });
    }
  })();
  try {
    descriptors = (await hid.list()) as unknown[];
  } catch (error) {
    throw new CustosError('DeviceNotFound', 'USB devices could not be listed', { cause: error });
  }
  const [first] = descriptors;
  if (first === undefined) throw new CustosError('DeviceNotFound', 'no Ledger found on USB');
  try {
    return await hid.open(first);
  } catch (error) {
    throw new CustosError(
      'DeviceNotFound',
      'the Ledger could not be opened (is another app using it?)',
      {
        cause: error,
      },
    );
  }
}
