import { verifyTypedData } from 'ethers';
import { describe, expect, it } from 'vitest';
import { emulatedLedgerSigner, SPECULOS_SEED, type User } from '../signer/emulator/index.ts';
import { waitingSigner } from './device-wait.ts';
import type { OwnerSigner } from './network.ts';

const domain = {
  name: 'Custos',
  version: '1',
  chainId: 31337,
  verifyingContract: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
};
const types = { Revoke: [{ name: 'grantId', type: 'bytes32' }] };
const message = { grantId: `0x${'ab'.repeat(32)}` };

/** The APDU-level emulated Ledger as the service sees it, with a scripted user. */
function emulated(user: User) {
  const { device, signer } = emulatedLedgerSigner({ mnemonic: SPECULOS_SEED, user });
  const owner: OwnerSigner = {
    kind: 'emulated-ledger',
    label: 'Ledger (EMULATED)',
    state: () => signer.state,
    displayed: () => [],
    onChange: (l) => signer.onState(l),
    connect: () => signer.address(),
    signTypedData: (d, t, m) => signer.signTypedData(d, t, m),
  };
  return { device, signer, owner };
}

describe('waiting for the device', () => {
  it('locked during the prompt: waits, and once unlocked shows it again and signs', async () => {
    let prompts = 0;
    let lock: () => void = () => undefined;
    const { device, owner, signer } = emulated((prompt) => {
      if (prompt.kind === 'address') return 'approve'; // first use: the account is shown
      prompts += 1;
      if (prompts === 1) {
        lock(); // the device locks itself while the steward reads
        return new Promise(() => undefined);
      }
      return 'approve';
    });
    lock = () => {
      device.lock();
      // The steward types the PIN a moment later, while the service keeps asking.
      setTimeout(() => device.unlock(), 300);
    };
    const patient = waitingSigner(owner, { pollMs: 50, limitMs: 10_000 });
    const account = await patient.connect();
    const signature = await patient.signTypedData(domain, types, message);
    expect(prompts).toBe(2);
    expect(verifyTypedData(domain, types, message, signature)).toBe(account);
    expect(signer.state.status).toBe('signed');
  });

  it('a rejection is given back at once, without waiting', async () => {
    const { owner } = emulated((prompt) => (prompt.kind === 'address' ? 'approve' : 'reject'));
    const patient = waitingSigner(owner, { pollMs: 50, limitMs: 60_000 });
    await patient.connect();
    const started = Date.now();
    await expect(patient.signTypedData(domain, types, message)).rejects.toMatchObject({
      tag: 'UserRejected',
    });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('the steward stops waiting: Cancelled at once, nothing signed, the device never prompted', async () => {
    let prompts = 0;
    const { device, owner } = emulated(() => {
      prompts += 1;
      return 'approve';
    });
    device.lock();
    const stop = new AbortController();
    const patient = waitingSigner(owner, { pollMs: 50, limitMs: 60_000, signal: stop.signal });
    const signing = patient.signTypedData(domain, types, message);
    setTimeout(() => stop.abort(), 200);
    const started = Date.now();
    await expect(signing).rejects.toMatchObject({ tag: 'Cancelled' });
    expect(Date.now() - started).toBeLessThan(5_000);
    device.unlock();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(prompts).toBe(0);
  });

  it('still locked when the wait is over: DeviceLocked, and the state says to unlock', async () => {
    const { device, owner, signer } = emulated(() => 'approve');
    device.lock();
    const patient = waitingSigner(owner, { pollMs: 50, limitMs: 400 });
    await expect(patient.connect()).rejects.toMatchObject({ tag: 'DeviceLocked' });
    expect(signer.state.status).toBe('locked');
  });
});
