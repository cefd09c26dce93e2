import fc from 'fast-check';
import { Transaction, verifyTypedData, type TypedDataField } from 'ethers';
import { describe, expect, it } from 'vitest';
import { LedgerSigner } from '../ledger.ts';
import { DeviceUnplugged, LedgerEmulator, SPECULOS_SEED, EmulatorTransport } from './index.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const send = async (device: LedgerEmulator, apdu: string): Promise<string> =>
  hex(await device.exchange(Buffer.from(apdu, 'hex')));

const PATH = '058000002c8000003c800000000000000000000000';
const GET_ADDRESS = `e0020000${(PATH.length / 2).toString(16)}${PATH}`;

describe('emulated device conditions', () => {
  it('locked: every APDU, b0 01 included, answers 5515; unlock restores', async () => {
    const device = new LedgerEmulator({ mnemonic: SPECULOS_SEED });
    device.lock();
    expect(await send(device, 'b001000000')).toBe('5515');
    expect(await send(device, 'e006000000')).toBe('5515');
    device.unlock();
    expect(await send(device, 'e006000000')).toBe('0e010c009000');
  });

  it('dashboard: b0 01 names BOLOS, Ethereum APDUs answer 6511', async () => {
    const device = new LedgerEmulator({ mnemonic: SPECULOS_SEED, osVersion: '2.2.3' });
    device.openApp(null);
    expect(
      Buffer.from(await send(device, 'b001000000'), 'hex')
        .subarray(2, 7)
        .toString(),
    ).toBe('BOLOS');
    expect(await send(device, 'e006000000')).toBe('6511');
  });

  it('another app: b0 01 names it, CLA e0 answers 6e00 (or the configured word)', async () => {
    const device = new LedgerEmulator({ mnemonic: SPECULOS_SEED });
    device.openApp('Bitcoin');
    expect(
      Buffer.from(await send(device, 'b001000000'), 'hex')
        .subarray(2, 9)
        .toString(),
    ).toBe('Bitcoin');
    expect(await send(device, 'e006000000')).toBe('6e00');
    const other = new LedgerEmulator({ mnemonic: SPECULOS_SEED, otherAppStatus: 0x6d00 });
    other.openApp('Solana');
    expect(await send(other, 'e006000000')).toBe('6d00');
  });

  it('unplugged: exchange throws; re-plugged it boots locked on the dashboard', async () => {
    const device = new LedgerEmulator({ mnemonic: SPECULOS_SEED });
    device.unplug();
    await expect(device.exchange(Buffer.from('e006000000', 'hex'))).rejects.toBeInstanceOf(
      DeviceUnplugged,
    );
    device.plug();
    expect(device.state).toEqual({ power: 'on', locked: true, app: null });
  });

  it('address display: the user sees the checksummed address and may reject (6985)', async () => {
    const device = new LedgerEmulator({ mnemonic: SPECULOS_SEED, user: () => 'reject' });
    expect(await send(device, GET_ADDRESS.replace(/^e0020000/, 'e0020100'))).toBe('6985');
    expect(device.prompts).toEqual([
      {
        kind: 'address',
        fields: [{ label: 'Address', value: '0xDad77910DbDFdE764fC21FCD4E74D71bBACA6D8D' }],
      },
    ]);
  });

  it('unknown INS 6d00; EIP-712 values before definitions 6a85; app too old for EIP-712 6d00', async () => {
    const device = new LedgerEmulator({ mnemonic: SPECULOS_SEED });
    expect(await send(device, 'e0ee000000')).toBe('6d00');
    expect(await send(device, 'e01c00000454797065')).toBe('6a85');
    const old = new LedgerEmulator({ mnemonic: SPECULOS_SEED, appVersion: '1.9.17' });
    expect(await send(old, 'e01a00000454797065')).toBe('6d00');
  });
});

describe('transaction chunking', () => {
  it('any split of the payload into APDUs gives the single-APDU signature', async () => {
    const tx = Transaction.from({
      type: 2,
      chainId: 1n,
      nonce: 7,
      to: '0xb2bb2b958afa2e96dab3f3ce7162b87daea39017',
      value: 10n ** 16n,
      data: `0x${'5a'.repeat(300)}`,
      gasLimit: 90000n,
      maxFeePerGas: 10n ** 10n,
      maxPriorityFeePerGas: 10n ** 9n,
    });
    const payload = Buffer.concat([
      Buffer.from(PATH, 'hex'),
      Buffer.from(tx.unsignedSerialized.slice(2), 'hex'),
    ]);
    const apdu = (p1: number, data: Buffer): Buffer =>
      Buffer.concat([Buffer.from([0xe0, 0x04, p1, 0x00, data.length]), data]);
    const reference = new LedgerEmulator({ mnemonic: SPECULOS_SEED, blindSigning: true });
    const chunks255 = [];
    for (let o = 0; o < payload.length; o += 255) chunks255.push(payload.subarray(o, o + 255));
    let expected = '';
    for (const [i, c] of chunks255.entries())
      expected = await send(reference, hex(apdu(i === 0 ? 0 : 0x80, c)));
    expect(expected).toMatch(/^[0-9a-f]{130}9000$/);
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 22, max: payload.length - 1 }), { maxLength: 6 }),
        async (cuts) => {
          const points = [0, ...cuts.sort((a, b) => a - b), payload.length];
          const device = new LedgerEmulator({ mnemonic: SPECULOS_SEED, blindSigning: true });
          const answers: string[] = [];
          for (let i = 0; i + 1 < points.length; i++) {
            const chunk = payload.subarray(points[i], points[i + 1]);
            if (chunk.length > 255) return; // an APDU carries at most 255 bytes
            answers.push(await send(device, hex(apdu(i === 0 ? 0 : 0x80, chunk))));
          }
          expect(answers.slice(0, -1).every((a) => a === '9000')).toBe(true);
          expect(answers.at(-1)).toBe(expected);
        },
      ),
      { numRuns: 40 },
    );
  });
});

/** Random EIP-712 schemas (nested structs, arrays of arrays, every atomic type) and values. */
const atomic = fc.oneof(
  fc
    .integer({ min: 1, max: 32 })
    .map((n) => ({ type: `uint${n * 8}`, value: fc.bigInt(0n, (1n << BigInt(n * 8)) - 1n) })),
  fc.integer({ min: 1, max: 32 }).map((n) => ({
    type: `int${n * 8}`,
    value: fc.bigInt(-(1n << BigInt(n * 8 - 1)), (1n << BigInt(n * 8 - 1)) - 1n),
  })),
  fc.constant({
    type: 'address',
    value: fc.uint8Array({ minLength: 20, maxLength: 20 }).map(hexOf),
  }),
  fc.constant({ type: 'bool', value: fc.boolean() }),
  fc.constant({ type: 'string', value: fc.string({ maxLength: 120, unit: 'binary' }) }),
  fc.constant({ type: 'bytes', value: fc.uint8Array({ maxLength: 200 }).map(hexOf) }),
  fc.integer({ min: 1, max: 32 }).map((n) => ({
    type: `bytes${n}`,
    value: fc.uint8Array({ minLength: n, maxLength: n }).map(hexOf),
  })),
);

function hexOf(b: Uint8Array): string {
  return `0x${Buffer.from(b).toString('hex')}`;
}

type Leaf = { type: string; value: fc.Arbitrary<unknown> };

/** Wraps a leaf in 0–2 array levels (`[]` or `[k]`). */
function arrayed(leaf: Leaf): fc.Arbitrary<Leaf> {
  return fc
    .array(fc.option(fc.integer({ min: 1, max: 3 }), { nil: null }), { maxLength: 2 })
    .map((levels) => {
      let type = leaf.type;
      let value = leaf.value;
      // Solidity reads `T[a][b]` as b arrays of T[a]: the rightmost level is the outermost value.
      for (const level of levels) {
        value =
          level === null
            ? fc.array(value, { maxLength: 3 })
            : fc.array(value, { minLength: level, maxLength: level });
      }
      type += levels.map((l) => (l === null ? '[]' : `[${l}]`)).join('');
      return { type, value };
    });
}

const schema = fc
  .tuple(
    fc.array(atomic.chain(arrayed), { minLength: 1, maxLength: 4 }),
    fc.array(atomic.chain(arrayed), { minLength: 1, maxLength: 3 }),
    fc.boolean(),
    fc.boolean(),
  )
  .chain(([rootLeaves, innerLeaves, nested, innerIsArray]) => {
    const types: Record<string, TypedDataField[]> = {};
    const inner: Leaf[] = innerLeaves;
    types['Inner'] = inner.map((l, i) => ({ name: `i${i}`, type: l.type }));
    const innerValue = fc.record(Object.fromEntries(inner.map((l, i) => [`i${i}`, l.value])));
    const root: Leaf[] = [...rootLeaves];
    if (nested)
      root.push(
        innerIsArray
          ? { type: 'Inner[]', value: fc.array(innerValue, { maxLength: 3 }) }
          : { type: 'Inner', value: innerValue },
      );
    else delete types['Inner'];
    types['Root'] = root.map((l, i) => ({ name: `f${i}`, type: l.type }));
    const message = fc.record(Object.fromEntries(root.map((l, i) => [`f${i}`, l.value])));
    return fc.tuple(fc.constant(types), message);
  });

describe('full EIP-712 protocol on random schemas', () => {
  it('hw-app-eth streams it, the emulator hashes it as ethers does (signer recovered)', async () => {
    const device = new LedgerEmulator({ mnemonic: SPECULOS_SEED });
    const signer = new LedgerSigner({
      openTransport: () => Promise.resolve(new EmulatorTransport(device)),
    });
    const account = await signer.address();
    const domain = {
      name: 'Custos property',
      version: '1',
      chainId: 31337,
      verifyingContract: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
    };
    await fc.assert(
      fc.asyncProperty(schema, async ([types, message]) => {
        const msg = message as Record<string, unknown>;
        const signature = await signer.signTypedData(domain, types, msg);
        expect(signer.lastTypedData?.display).toBe('fields');
        expect(verifyTypedData(domain, types, msg, signature)).toBe(account);
      }),
      { numRuns: 60 },
    );
  });
});
