import {
  parseEther,
  recoverAddress,
  Signature,
  Transaction,
  TypedDataEncoder,
  verifyMessage,
  verifyTypedData,
  type TransactionLike,
} from 'ethers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { custosDomain, digestOf, typedData } from '../chain/eip712.ts';
import { isCustosError } from '../errors/index.ts';
import type { DeviceState } from './device-state.ts';
import {
  emulatedLedgerSigner,
  LedgerEmulator,
  SPECULOS_SEED,
  type EmulatorOptions,
  type Prompt,
} from './emulator/index.ts';
import { lostBySlicing, type LedgerSignerOptions } from './ledger.ts';
import { MAIL_EXAMPLE } from './mail.ts';

const MAIL_TYPES = { Person: [...MAIL_EXAMPLE.types.Person], Mail: [...MAIL_EXAMPLE.types.Mail] };

/** A LedgerSigner wired to an emulated device, recording every state it passes through. */
function setup(device: Partial<EmulatorOptions> = {}, signer: Partial<LedgerSignerOptions> = {}) {
  const { device: emulator, signer: ledger } = emulatedLedgerSigner(
    { mnemonic: SPECULOS_SEED, ...device },
    signer,
  );
  const states: DeviceState[] = [];
  ledger.onState((s) => states.push(s));
  const statuses = (): string[] =>
    states.map((s) =>
      s.status === 'confirm-on-device'
        ? `confirm:${s.action}${s.display ? `:${s.display}` : ''}`
        : s.status === 'signed' || s.status === 'rejected'
          ? `${s.status}:${s.action}`
          : s.status,
    );
  const account = emulator.addressAt("m/44'/60'/0'/0/0");
  return { emulator, ledger, states, statuses, account };
}

/** Resolves with the next prompt of a given kind (an event, not a sleep). */
function nextPrompt(emulator: LedgerEmulator, kind: Prompt['kind']): Promise<Prompt> {
  return new Promise((resolve) => {
    const listener = (p: Prompt): void => {
      if (p.kind !== kind) return;
      emulator.events.off('prompt', listener);
      resolve(p);
    };
    emulator.events.on('prompt', listener);
  });
}

/** A user who answers only when the test says so. */
function heldUser() {
  let answer: (a: 'approve' | 'reject') => void = () => {};
  const user = (): Promise<'approve' | 'reject'> =>
    new Promise((resolve) => {
      answer = resolve;
    });
  return { user, answer: (a: 'approve' | 'reject') => answer(a) };
}

async function expectTag(promise: Promise<unknown>, tag: string): Promise<void> {
  const error: unknown = await promise.then(
    () => new Error('expected a failure'),
    (e: unknown) => e,
  );
  expect(isCustosError(error) ? error.tag : error).toBe(tag);
}

afterEach(() => {
  vi.useRealTimers();
});

describe('LedgerSigner over the APDU emulator', () => {
  it('shows the address on the device before first use, once', async () => {
    const { emulator, ledger, statuses, account } = setup();
    expect(await ledger.address()).toBe(account);
    expect(await ledger.address()).toBe(account);
    expect(emulator.prompts.map((p) => p.kind)).toEqual(['address']);
    expect(emulator.prompts[0]?.fields).toEqual([{ label: 'Address', value: account }]);
    expect(statuses()).toEqual(['connecting', 'confirm:verify-address', 'ready']);
  });

  it('clear-signs the EIP-712 Mail example: digest as published, signer recovered', async () => {
    const { emulator, ledger, statuses, account } = setup();
    const signature = await ledger.signTypedData(
      MAIL_EXAMPLE.domain,
      MAIL_TYPES,
      MAIL_EXAMPLE.message,
    );
    expect(TypedDataEncoder.hash(MAIL_EXAMPLE.domain, MAIL_TYPES, MAIL_EXAMPLE.message)).toBe(
      MAIL_EXAMPLE.digest,
    );
    expect(recoverAddress(MAIL_EXAMPLE.digest, signature)).toBe(account);
    expect(verifyTypedData(MAIL_EXAMPLE.domain, MAIL_TYPES, MAIL_EXAMPLE.message, signature)).toBe(
      account,
    );
    expect(ledger.lastTypedData).toEqual({ display: 'fields', reason: null });
    const shown = emulator.prompts.at(-1);
    expect(shown?.kind).toBe('typed-data');
    expect(shown?.fields).toEqual([
      { label: 'name', value: 'Ether Mail' },
      { label: 'version', value: '1' },
      { label: 'chainId', value: '1' },
      { label: 'verifyingContract', value: MAIL_EXAMPLE.domain.verifyingContract },
      { label: 'from.name', value: 'Cow' },
      { label: 'from.wallet', value: MAIL_EXAMPLE.message.from.wallet },
      { label: 'to.name', value: 'Bob' },
      { label: 'to.wallet', value: MAIL_EXAMPLE.message.to.wallet },
      { label: 'contents', value: 'Hello, Bob!' },
    ]);
    expect(statuses()).toEqual([
      'connecting',
      'confirm:verify-address',
      'ready',
      'confirm:sign-typed-data:fields',
      'signed:sign-typed-data',
    ]);
  });

  it('signs legacy, EIP-2930 and EIP-1559 transactions; ethers recovers the account', async () => {
    const { ledger, account } = setup();
    const base = {
      to: '0xb2bb2b958afa2e96dab3f3ce7162b87daea39017',
      value: parseEther('0.01'),
      nonce: 3,
      gasLimit: 21000n,
    };
    const txs: TransactionLike<string>[] = [
      { ...base, type: 0, gasPrice: 5_000_000_000n, chainId: 1n },
      { ...base, type: 0, gasPrice: 5_000_000_000n, chainId: 2_716_446_429_837_000n },
      { ...base, type: 1, gasPrice: 5_000_000_000n, chainId: 31337n, accessList: [] },
      {
        ...base,
        type: 2,
        maxFeePerGas: 20_000_000_000n,
        maxPriorityFeePerGas: 1_000_000_000n,
        chainId: 11155111n,
        accessList: [{ address: base.to, storageKeys: [`0x${'00'.repeat(31)}07`] }],
      },
    ];
    for (const tx of txs) {
      const signed = Transaction.from(await ledger.signTransaction(tx));
      expect({ type: signed.type, from: signed.from, chainId: signed.chainId }).toEqual({
        type: tx.type,
        from: account,
        chainId: tx.chainId,
      });
    }
  });

  it('signs a transaction chunked over several APDUs (large calldata, blind signing on)', async () => {
    const { ledger, account } = setup({ blindSigning: true });
    const data = `0x${'ab'.repeat(700)}`;
    const tx = {
      to: '0xb2bb2b958afa2e96dab3f3ce7162b87daea39017',
      data,
      nonce: 1,
      gasLimit: 100000n,
      chainId: 5n,
      type: 2,
      maxFeePerGas: 3n,
      maxPriorityFeePerGas: 1n,
    };
    expect(Transaction.from(await ledger.signTransaction(tx)).from).toBe(account);
  });

  it('contract data with blind signing off ends in BlindSigningRequired, then succeeds once enabled', async () => {
    const { emulator, ledger, statuses, account } = setup();
    const tx = {
      to: '0xb2bb2b958afa2e96dab3f3ce7162b87daea39017',
      data: '0xa9059cbb',
      nonce: 1,
      gasLimit: 60000n,
      gasPrice: 1n,
      chainId: 1n,
      type: 0,
    };
    await ledger.address();
    await expectTag(ledger.signTransaction(tx), 'BlindSigningRequired');
    emulator.setBlindSigning(true);
    expect(Transaction.from(await ledger.signTransaction(tx)).from).toBe(account);
    expect(statuses().slice(3)).toEqual([
      'confirm:sign-transaction',
      'error',
      'ready',
      'confirm:sign-transaction',
      'signed:sign-transaction',
    ]);
  });

  it('signs personal messages (text and bytes, > 150 bytes chunked); verifyMessage recovers', async () => {
    const { ledger, account } = setup();
    const text = 'I approve the Custos grant for study 42. '.repeat(8);
    expect(verifyMessage(text, await ledger.signPersonalMessage(text))).toBe(account);
    const bytes = Uint8Array.from([0, 1, 2, 255]);
    expect(verifyMessage(bytes, await ledger.signPersonalMessage(bytes))).toBe(account);
  });

  it('serves one request at a time: concurrent calls queue, none is refused', async () => {
    const { emulator, ledger, account } = setup();
    const results = await Promise.all(
      ['one', 'two', 'three'].map((m) => ledger.signPersonalMessage(m)),
    );
    expect(results.map((s, i) => verifyMessage(['one', 'two', 'three'][i] ?? '', s))).toEqual([
      account,
      account,
      account,
    ]);
    expect(emulator.prompts.map((p) => p.fields[0]?.value)).toEqual([
      account,
      'one',
      'two',
      'three',
    ]);
  });

  it('user rejection ends in "rejected"; the retry signs', async () => {
    const { emulator, ledger, statuses, account } = setup();
    await ledger.address();
    emulator.setUser(() => 'reject');
    await expectTag(ledger.signPersonalMessage('hello'), 'UserRejected');
    emulator.setUser(() => 'approve');
    expect(verifyMessage('hello', await ledger.signPersonalMessage('hello'))).toBe(account);
    expect(statuses()).toEqual([
      'connecting',
      'confirm:verify-address',
      'ready',
      'confirm:sign-personal-message',
      'rejected:sign-personal-message',
      'ready',
      'confirm:sign-personal-message',
      'signed:sign-personal-message',
    ]);
  });

  it('rejecting the address check ends in "rejected" (verify-address) and nothing is signed', async () => {
    const { emulator, ledger, statuses } = setup({ user: () => 'reject' });
    await expectTag(ledger.signPersonalMessage('x'), 'UserRejected');
    expect(emulator.prompts.map((p) => p.kind)).toEqual(['address']);
    expect(statuses()).toEqual(['connecting', 'confirm:verify-address', 'rejected:verify-address']);
  });

  it('locked device: "locked", unlock, retry signs — no restart', async () => {
    const { emulator, ledger, statuses, account } = setup();
    emulator.lock();
    await expectTag(ledger.address(), 'DeviceLocked');
    emulator.unlock();
    expect(await ledger.address()).toBe(account);
    expect(statuses()).toEqual(['connecting', 'locked', 'confirm:verify-address', 'ready']);
  });

  it('lock during the on-device confirmation: "locked", unlock, retry signs', async () => {
    const held = heldUser();
    const { emulator, ledger, statuses } = setup();
    await ledger.address();
    emulator.setUser(held.user);
    const prompt = nextPrompt(emulator, 'typed-data');
    const first = ledger.signTypedData(MAIL_EXAMPLE.domain, MAIL_TYPES, MAIL_EXAMPLE.message);
    await prompt;
    emulator.lock();
    await expectTag(first, 'DeviceLocked');
    emulator.unlock();
    emulator.setUser(() => 'approve');
    const signature = await ledger.signTypedData(
      MAIL_EXAMPLE.domain,
      MAIL_TYPES,
      MAIL_EXAMPLE.message,
    );
    expect(recoverAddress(MAIL_EXAMPLE.digest, signature)).toBe(await ledger.address());
    expect(statuses().slice(3, 8)).toEqual([
      'confirm:sign-typed-data:fields',
      'locked',
      'ready',
      'confirm:sign-typed-data:fields',
      'signed:sign-typed-data',
    ]);
  });

  it('unplug during the confirmation: "disconnected", re-plug + unlock + open app, retry signs', async () => {
    const held = heldUser();
    const { emulator, ledger, statuses, account } = setup();
    await ledger.address();
    emulator.setUser(held.user);
    const prompt = nextPrompt(emulator, 'transaction');
    const tx = {
      to: account,
      value: 1n,
      nonce: 0,
      gasLimit: 21000n,
      gasPrice: 1n,
      chainId: 1n,
      type: 0,
    };
    const first = ledger.signTransaction(tx);
    await prompt;
    emulator.unplug();
    await expectTag(first, 'DeviceDisconnected');
    expect(ledger.state).toEqual({ status: 'disconnected' });
    await expectTag(ledger.signTransaction(tx), 'DeviceNotFound');
    emulator.plug();
    await expectTag(ledger.signTransaction(tx), 'DeviceLocked');
    emulator.unlock();
    await expectTag(ledger.signTransaction(tx), 'WrongApp');
    expect(ledger.state).toEqual({ status: 'wrong-app', app: null });
    emulator.openApp('Ethereum');
    emulator.setUser(() => 'approve');
    expect(Transaction.from(await ledger.signTransaction(tx)).from).toBe(account);
    expect(statuses().slice(3)).toEqual([
      'confirm:sign-transaction',
      'disconnected',
      'connecting',
      'disconnected',
      'connecting',
      'locked',
      'wrong-app',
      'ready',
      'confirm:sign-transaction',
      'signed:sign-transaction',
    ]);
    // Same device, same account: not shown again after the re-plug.
    expect(emulator.prompts.filter((p) => p.kind === 'address')).toHaveLength(1);
  });

  it('another app open: "wrong-app" naming it', async () => {
    const { emulator, ledger } = setup();
    emulator.openApp('Bitcoin');
    await expectTag(ledger.address(), 'WrongApp');
    expect(ledger.state).toEqual({ status: 'wrong-app', app: 'Bitcoin' });
  });

  it('a device holding another account than the stored one is refused before any prompt', async () => {
    const { emulator, ledger } = setup(
      {},
      { expectedAddress: '0x0000000000000000000000000000000000000001' },
    );
    await expectTag(ledger.address(), 'DeviceAddressMismatch');
    expect(emulator.prompts).toEqual([]);
    expect(ledger.state.status).toBe('error');
  });

  it('app too old for clear signing: falls back to the hashes, says so, signature still valid', async () => {
    const { emulator, ledger, states, account } = setup({
      appVersion: '1.9.17',
      blindSigning: true,
    });
    const signature = await ledger.signTypedData(
      MAIL_EXAMPLE.domain,
      MAIL_TYPES,
      MAIL_EXAMPLE.message,
    );
    expect(recoverAddress(MAIL_EXAMPLE.digest, signature)).toBe(account);
    expect(ledger.lastTypedData?.display).toBe('hashes');
    expect(ledger.lastTypedData?.reason).toMatch(/1\.9\.17/);
    expect(emulator.prompts.at(-1)?.kind).toBe('typed-data-hash');
    const confirm = states.find(
      (s) => s.status === 'confirm-on-device' && s.action === 'sign-typed-data',
    );
    expect(confirm).toMatchObject({
      display: 'hashes',
      note: expect.stringMatching(/cannot show/) as unknown,
    });
  });

  it('schema too large for the device (0x6a84): falls back to the hashes', async () => {
    const { ledger, account, statuses } = setup({
      blindSigning: true,
      eip712Limits: { definitionBytes: 40, maxDepth: 8 },
    });
    const signature = await ledger.signTypedData(
      MAIL_EXAMPLE.domain,
      MAIL_TYPES,
      MAIL_EXAMPLE.message,
    );
    expect(recoverAddress(MAIL_EXAMPLE.digest, signature)).toBe(account);
    expect(ledger.lastTypedData).toEqual({
      display: 'hashes',
      reason: 'the message is too large for this Ledger to show field by field',
    });
    expect(statuses().slice(3)).toEqual([
      'confirm:sign-typed-data:fields',
      'confirm:sign-typed-data:hashes',
      'signed:sign-typed-data',
    ]);
  });

  it('fallback needed but blind signing off: BlindSigningRequired, nothing signed', async () => {
    const { ledger } = setup({ appVersion: '1.9.17' });
    await expectTag(
      ledger.signTypedData(MAIL_EXAMPLE.domain, MAIL_TYPES, MAIL_EXAMPLE.message),
      'BlindSigningRequired',
    );
    expect(ledger.state.status).toBe('error');
  });

  it('times out a call that needs no user action (hung device), reopens on retry', async () => {
    vi.useFakeTimers();
    const { emulator, ledger, account } = setup({}, { timeoutMs: 5_000 });
    emulator.freeze();
    const pending = expectTag(ledger.address(), 'DeviceTimeout');
    await vi.advanceTimersByTimeAsync(5_000);
    await pending;
    expect(ledger.state.status).toBe('error');
    emulator.thaw();
    expect(await ledger.address()).toBe(account);
  });

  it('never times out while the user is looking at the device', async () => {
    vi.useFakeTimers();
    const held = heldUser();
    const { emulator, ledger, account } = setup({}, { timeoutMs: 5_000 });
    await ledger.address();
    emulator.setUser(held.user);
    const prompt = nextPrompt(emulator, 'personal-message');
    const signing = ledger.signPersonalMessage('take your time');
    await prompt;
    await vi.advanceTimersByTimeAsync(60 * 60 * 1000);
    held.answer('approve');
    expect(verifyMessage('take your time', await signing)).toBe(account);
  });

  it('signature bytes are the device’s: r, s, v as the emulator returned them', async () => {
    const { emulator, ledger } = setup();
    const sig = Signature.from(await ledger.signPersonalMessage('abc'));
    const raw = await new LedgerEmulator({ mnemonic: SPECULOS_SEED }).exchange(
      Buffer.from(
        `e0080000${(1 + 20 + 4 + 3).toString(16)}058000002c8000003c80000000000000000000000000000003616263`,
        'hex',
      ),
    );
    expect(Buffer.from(raw).toString('hex')).toBe(
      `${sig.v.toString(16)}${sig.r.slice(2)}${sig.s.slice(2)}9000`,
    );
    expect(emulator.prompts.at(-1)?.fields).toEqual([{ label: 'Message', value: 'abc' }]);
  });

  it('clear-signs a Custos Grant (app/chain/eip712.ts); ethers recovers the owner', async () => {
    const { emulator, ledger, account } = setup();
    const request = typedData(
      'Grant',
      custosDomain(31337n, '0x5FbDB2315678afecb367f032d93F642f64180aa3'),
      {
        datasetId: `0x${'11'.repeat(24)}${'00'.repeat(8)}`,
        grantee: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
        measurements: [`0x${'aa'.repeat(32)}`, `0x${'bb'.repeat(32)}`],
        notBefore: 1_767_225_600n,
        notAfter: 1_769_904_000n,
        maxRuns: 3n,
        purposeHash: `0x${'cc'.repeat(32)}`,
        legalBasisHash: `0x${'dd'.repeat(32)}`,
        nonce: 0n,
        deadline: 1_767_312_000n,
      },
    );
    const signature = await ledger.signTypedData(request.domain, request.types, {
      ...request.message,
    });
    expect(verifyTypedData(request.domain, request.types, request.message, signature)).toBe(
      account,
    );
    expect(recoverAddress(digestOf(request), signature)).toBe(account);
    expect(ledger.lastTypedData?.display).toBe('fields');
    const shown = emulator.prompts.at(-1)?.fields ?? [];
    expect(shown.map((f) => f.label)).toEqual([
      'name',
      'version',
      'chainId',
      'verifyingContract',
      'datasetId',
      'grantee',
      'measurements[0]',
      'measurements[1]',
      'notBefore',
      'notAfter',
      'maxRuns',
      'purposeHash',
      'legalBasisHash',
      'nonce',
      'deadline',
    ]);
    expect(shown.find((f) => f.label === 'maxRuns')?.value).toBe('3');
  });

  it('a string hw-app-eth cannot slice (254 bytes) goes to the hashed path, said so', async () => {
    expect([253, 254, 300, 509, 510, 511].map(lostBySlicing)).toEqual([
      false,
      true,
      false,
      true,
      true,
      false,
    ]);
    const { ledger, account } = setup({ blindSigning: true });
    const types = { Note: [{ name: 'text', type: 'string' }] };
    const domain = { name: 'Custos', chainId: 1 };
    for (const length of [253, 254, 300]) {
      const message = { text: 'a'.repeat(length) };
      const signature = await ledger.signTypedData(domain, types, message);
      expect(verifyTypedData(domain, types, message, signature)).toBe(account);
      expect(ledger.lastTypedData?.display).toBe(length === 254 ? 'hashes' : 'fields');
    }
  });
});
