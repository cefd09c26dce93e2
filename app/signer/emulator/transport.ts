import { ledgerErrors, Transport } from '../ledger-libs.ts';
import { DeviceUnplugged, type LedgerEmulator } from './device.ts';

/**
 * An `@ledgerhq/hw-transport` Transport whose other end is the emulator, so `hw-app-eth` (and
 * `LedgerSigner` above it) runs unchanged. Like the node-hid transport, it emits "disconnect"
 * when the cable is pulled and fails the exchange in flight with DisconnectedDevice.
 */
export class EmulatorTransport extends Transport {
  readonly device: LedgerEmulator;
  private closed = false;
  private readonly onUnplug = (): void => {
    this.emit('disconnect');
  };

  constructor(device: LedgerEmulator) {
    super();
    this.device = device;
    device.events.on('unplug', this.onUnplug);
  }

  override async exchange(apdu: Buffer): Promise<Buffer> {
    if (this.closed) throw new ledgerErrors.DisconnectedDevice('transport closed');
    try {
      return Buffer.from(await this.device.exchange(apdu));
    } catch (error) {
      if (error instanceof DeviceUnplugged) {
        throw new ledgerErrors.DisconnectedDeviceDuringOperation('emulated device unplugged');
      }
      throw error;
    }
  }

  override close(): Promise<void> {
    this.closed = true;
    this.device.events.off('unplug', this.onUnplug);
    return Promise.resolve();
  }
}
