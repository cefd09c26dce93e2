import { describe, expect, it } from 'vitest';
import { isCustosError } from '../errors/index.ts';
import { openLedgerTransport } from './node-hid.ts';

describe('openLedgerTransport (node-hid)', () => {
  it('with no Ledger plugged in, fails at once with DeviceNotFound instead of waiting', async () => {
    const outcome: unknown = await openLedgerTransport().then(
      async (t) => {
        await t.close();
        return 'opened';
      },
      (e: unknown) => e,
    );
    if (outcome === 'opened') return; // a real Ledger is attached to this machine
    expect(isCustosError(outcome, 'DeviceNotFound')).toBe(true);
  });
});
