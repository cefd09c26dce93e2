/**
 * A locked Ledger is not a dead end (CONVENTIONS 8): like Ledger Live, the service keeps asking
 * the device while the prompt says what to do ("Unlock your Ledger", "Open the Ethereum app",
 * "Connect your Ledger") and carries on by itself once the device answers — the steward unlocks
 * and the grant completes. Only these conditions are waited for; a rejection or any other
 * failure is thrown at once, and after `limitMs` the device's error is thrown (Retry remains).
 * The steward may also stop waiting (`signal`): the action ends with Cancelled, nothing signed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CustosError, isCustosError, type ErrorTag } from '../errors/index.ts';
import type { OwnerSigner } from './network.ts';

/** Conditions the steward fixes on the device itself. */
const WAITABLE: readonly ErrorTag[] = [
  'DeviceLocked',
  'WrongApp',
  'DeviceDisconnected',
  'DeviceNotFound',
];

const waitable = (error: unknown): boolean => WAITABLE.some((tag) => isCustosError(error, tag));

export interface DeviceWaitOptions {
  /** Time between two questions to the device. Default 1000 ms. */
  readonly pollMs?: number;
  /** How long to wait in all before giving the error back. Default 2 minutes. */
  readonly limitMs?: number;
  /** Stops the waiting: the action fails with Cancelled. */
  readonly signal?: AbortSignal;
}

/**
 * The owner's signer, waiting out a locked / closed-app / unplugged device (polling `connect`).
 * @throws the signer's CustosError: UserRejected at once; DeviceLocked, WrongApp,
 *   DeviceDisconnected, DeviceNotFound once `limitMs` has passed; Cancelled when `signal` stops
 *   the wait.
 */
export function waitingSigner(
  signer: OwnerSigner,
  options: DeviceWaitOptions = {},
): Pick<OwnerSigner, 'connect' | 'signTypedData'> {
  const pollMs = options.pollMs ?? 1000;
  const limitMs = options.limitMs ?? 120_000;
  const signal = options.signal;
  const pause = async (): Promise<void> => {
    try {
      await sleep(pollMs, undefined, signal ? { signal } : {});
    } catch (error) {
      throw new CustosError('Cancelled', 'you stopped waiting for the device: nothing was signed', {
        cause: error,
      });
    }
  };
  const patiently = async <T>(attempt: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    for (;;) {
      try {
        return await attempt();
      } catch (error) {
        if (!waitable(error) || Date.now() - started >= limitMs) throw error;
      }
      // Ask until the device answers again; then make the attempt again (it shows anew).
      for (;;) {
        await pause();
        try {
          await signer.connect();
          break;
        } catch (error) {
          if (!waitable(error) || Date.now() - started >= limitMs) throw error;
        }
      }
    }
  };
  return {
    connect: () => patiently(() => signer.connect()),
    signTypedData: (domain, types, message) =>
      patiently(() => signer.signTypedData(domain, types, message)),
  };
}
