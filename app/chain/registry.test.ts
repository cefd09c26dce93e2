import { Wallet, hexlify, keccak256, randomBytes, toUtf8Bytes } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustosError } from '../errors/index.ts';
import type { GrantTerms } from './abi.generated.ts';
import { DEVNET_KEYS, startDevnet, type Devnet } from './devnet.ts';
import { datasetIdOf, grantIdOf, runIdOf, typeHashOf, type CustosPrimaryType } from './eip712.ts';
import { toChainError } from './errors.ts';
import { checkChain, providerFor } from './network.ts';
import { RegistryClient } from './registry.ts';

const M1 = keccak256(toUtf8Bytes('cohort-statistics v1.2'));
const M2 = keccak256(toUtf8Bytes('cohort-statistics v1.3'));
const h = (s: string): string => keccak256(toUtf8Bytes(s));

async function rejection(promise: Promise<unknown>): Promise<CustosError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CustosError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('RegistryClient against the embedded devnet', () => {
  let devnet: Devnet;
  let owner: Wallet;
  let operator: Wallet;
  let relayer: Wallet;
  let enclave: Wallet;
  let asOwner: RegistryClient;
  let asOperator: RegistryClient;
  let asRelayer: RegistryClient;
  let datasetId: string;

  const latest = async (): Promise<bigint> =>
    BigInt((await devnet.provider.getBlock('latest'))!.timestamp);
  const terms = async (over: Partial<GrantTerms> = {}): Promise<GrantTerms> => {
    const now = await latest();
    return {
      datasetId,
      grantee: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
      measurements: [M1],
      notBefore: now - 10n,
      notAfter: now + 86_400n,
      maxRuns: 2n,
      purposeHash: h('purpose'),
      legalBasisHash: h('consent 2024-11'),
      ...over,
    };
  };

  beforeAll(async () => {
    devnet = await startDevnet();
    owner = new Wallet(DEVNET_KEYS.owner, devnet.provider);
    operator = new Wallet(DEVNET_KEYS.operator, devnet.provider);
    relayer = new Wallet(DEVNET_KEYS.relayer, devnet.provider);
    enclave = new Wallet(hexlify(randomBytes(32)));
    const base = {
      provider: devnet.provider,
      registry: devnet.registry,
      chainId: devnet.chainId,
      pollMs: 20,
    };
    asOwner = new RegistryClient({ ...base, sender: owner });
    asOperator = asOwner.withSender(operator);
    asRelayer = asOwner.withSender(relayer);
    const containerId = hexlify(randomBytes(16));
    const registered = await asOwner.registerDataset({
      containerId,
      cid: '0x01551220' + 'ab'.repeat(32),
      ciphertextHash: h('ciphertext'),
      metadataHash: h('metadata'),
    });
    datasetId = registered.datasetId;
    expect(datasetId).toBe(datasetIdOf(owner.address, containerId));
    await asOwner.setOperator(datasetId, operator.address);
  });

  afterAll(async () => {
    await devnet?.stop();
  });

  it('deploys a registry whose EIP-712 domain and type hashes match app/chain/eip712.ts', async () => {
    expect(await devnet.provider.getCode(devnet.registry)).not.toBe('0x');
    const names: [CustosPrimaryType, string][] = [
      ['RegisterDataset', 'REGISTER_DATASET_TYPEHASH'],
      ['Grant', 'GRANT_TYPEHASH'],
      ['Revoke', 'REVOKE_TYPEHASH'],
      ['RevokeAll', 'REVOKE_ALL_TYPEHASH'],
      ['Freeze', 'FREEZE_TYPEHASH'],
      ['Unfreeze', 'UNFREEZE_TYPEHASH'],
      ['SetOperator', 'SET_OPERATOR_TYPEHASH'],
      ['TransferOwnership', 'TRANSFER_OWNERSHIP_TYPEHASH'],
      ['RunResult', 'RUN_RESULT_TYPEHASH'],
    ];
    const { Contract } = await import('ethers');
    const { custosRegistryAbi } = await import('./abi.generated.ts');
    const c = new Contract(devnet.registry, custosRegistryAbi, devnet.provider);
    for (const [type, constant] of names) {
      expect(await c.getFunction(constant).staticCall()).toBe(typeHashOf(type));
    }
    const domain = (await c.getFunction('eip712Domain').staticCall()) as unknown[];
    expect(domain.slice(1, 5)).toEqual(['Custos', '1', 31337n, devnet.registry]);
  });

  it('grant signed by the owner, relayed; run opened by the operator, closed with the enclave signature', async () => {
    const deadline = (await latest()) + 3600n;
    const signed = await asOwner.sign(owner, 'Grant', await terms(), { deadline });
    const { grantId, tx } = await asRelayer.relay(signed);
    expect(tx.events.map((e) => e.name)).toEqual(['GrantCreated']);
    const created = tx.events[0];
    expect(created?.name === 'GrantCreated' && created.args.grantee).toBe(
      '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
    );
    const number = (await asOwner.dataset(datasetId)).grantCount;
    expect(grantId).toBe(grantIdOf(datasetId, number));

    const opened = await asOperator.openRun({
      grantId: grantId!,
      measurement: M1,
      evidenceHash: h('evidence'),
      enclaveKey: enclave.address,
    });
    expect(opened.runId).toBe(runIdOf(grantId!, 0));
    expect((await asOwner.grantState(grantId!)).runsUsed).toBe(1n);

    const signature = await asOwner.signRunResult(enclave, opened.runId, h('result'));
    const closed = await asRelayer.closeRun(opened.runId, h('result'), signature);
    const event = closed.events[0];
    expect(event?.name).toBe('RunClosed');
    expect(event?.name === 'RunClosed' && event.args.enclaveSignature).toBe(signature);
    expect((await asOwner.run(opened.runId)).closed).toBe(true);

    const again = await rejection(asRelayer.closeRun(opened.runId, h('result'), signature));
    expect(again.tag).toBe('RunAlreadyClosed');
    expect(again.details['error']).toBe('RunAlreadyClosed');
  });

  it('every owner message relays: set operator, freeze, unfreeze, revoke, revoke-all, transfer, register', async () => {
    const deadline = (await latest()) + 3600n;
    const { grantId } = await asOwner.grant(await terms());
    for (const [type, fields] of [
      ['Freeze', { datasetId }],
      ['Unfreeze', { datasetId }],
      ['SetOperator', { datasetId, operator: operator.address }],
      ['Revoke', { grantId }],
      ['RevokeAll', { datasetId }],
    ] as const) {
      const signed = await asOwner.sign(owner, type, fields, { deadline });
      await asRelayer.relay(signed);
    }
    expect((await asOwner.grantState(grantId)).revoked).toBe(true);
    const epoch = (await asOwner.dataset(datasetId)).epoch;
    expect(epoch).toBeGreaterThan(0n);

    const other = Wallet.createRandom();
    const containerId = hexlify(randomBytes(16));
    const reg = await asOwner.sign(
      other,
      'RegisterDataset',
      {
        owner: other.address,
        containerId,
        cid: '0x0155',
        ciphertextHash: h('c'),
        metadataHash: h('m'),
      },
      { deadline },
    );
    const { datasetId: theirs } = await asRelayer.relay(reg);
    expect(theirs).toBe(datasetIdOf(other.address, containerId));
    const transfer = await asOwner.sign(
      other,
      'TransferOwnership',
      { datasetId: theirs!, newOwner: owner.address },
      {
        deadline,
      },
    );
    await asRelayer.relay(transfer);
    expect((await asOwner.dataset(theirs!)).owner).toBe(owner.address);
  });

  it('bad input reverts with a named error: window, maxRuns, measurement, operator, unknown grant and run', async () => {
    const now = await latest();
    const window = await rejection(
      asOwner.grant(await terms({ notBefore: now + 100n, notAfter: now + 100n })),
    );
    expect(window.tag).toBe('TransactionReverted');
    expect(window.details['error']).toBe('InvalidWindow');

    const zero = await rejection(asOwner.grant(await terms({ maxRuns: 0n })));
    expect(zero.details['error']).toBe('ZeroMaxRuns');

    const { grantId } = await asOwner.grant(await terms({ maxRuns: 1n }));
    const run = { grantId, measurement: M1, evidenceHash: h('e'), enclaveKey: enclave.address };
    const notOperator = await rejection(asRelayer.openRun(run));
    expect(notOperator.tag).toBe('NotOperator');
    const measurement = await rejection(asOperator.openRun({ ...run, measurement: M2 }));
    expect(measurement.tag).toBe('MeasurementNotAllowed');
    await asOperator.openRun(run);
    const exhausted = await rejection(asOperator.openRun(run));
    expect(exhausted.tag).toBe('GrantExhausted');

    const unknownGrant = await rejection(asOwner.revoke(grantIdOf(datasetId, 9999)));
    expect(unknownGrant.tag).toBe('GrantNotFound');
    const unknownRun = await rejection(
      asRelayer.closeRun(h('no run'), h('r'), '0x' + '11'.repeat(65)),
    );
    expect(unknownRun.tag).toBe('RunNotFound');
  });

  it('signatures: expired deadline, reused nonce, non-owner signer and another chain are refused', async () => {
    const now = await latest();
    const expired = await asOwner.sign(owner, 'RevokeAll', { datasetId }, { deadline: now - 1n });
    expect((await rejection(asRelayer.relay(expired))).tag).toBe('SignatureExpired');

    const once = await asOwner.sign(owner, 'RevokeAll', { datasetId }, { deadline: now + 600n });
    await asRelayer.relay(once);
    const reused = await rejection(asRelayer.relay(once));
    expect(reused.tag).toBe('SignatureInvalid');
    expect(reused.details['error']).toBe('InvalidDatasetNonce');

    const stranger = Wallet.createRandom();
    const forged = await asOwner.sign(
      stranger,
      'RevokeAll',
      { datasetId },
      { deadline: now + 600n },
    );
    const forgedError = await rejection(asRelayer.relay(forged));
    expect(forgedError.details['error']).toBe('InvalidSignature');

    const otherChain = new RegistryClient({
      provider: devnet.provider,
      registry: devnet.registry,
      chainId: 1,
    });
    const wrongChain = await otherChain.sign(
      owner,
      'RevokeAll',
      { datasetId },
      { deadline: now + 600n },
    );
    const wrongChainError = await rejection(asRelayer.relay(wrongChain));
    expect(wrongChainError.tag).toBe('SignatureInvalid');
    expect(wrongChainError.details['error']).toBe('InvalidSignature');
  });

  it('node errors are typed: nonce too low, underpriced, wrong chain, node down', async () => {
    const used = (await devnet.provider.getTransactionCount(relayer.address)) - 1;
    expect(used).toBeGreaterThanOrEqual(0);
    const low = toChainError(
      await relayer.sendTransaction({ to: relayer.address, nonce: used }).catch((e: unknown) => e),
    );
    expect(low.tag).toBe('NonceTooLow');
    const cheap = toChainError(
      await relayer
        .sendTransaction({ to: relayer.address, maxFeePerGas: 1n, maxPriorityFeePerGas: 1n })
        .catch((e: unknown) => e),
    );
    expect(cheap.tag).toBe('TransactionUnderpriced');
    expect((await rejection(checkChain(devnet.provider, 1))).tag).toBe('WrongChain');

    const dead = new RegistryClient({
      provider: providerFor('http://127.0.0.1:9', 31337),
      registry: devnet.registry,
      chainId: 31337,
    });
    expect((await rejection(dead.nonce(owner.address))).tag).toBe('RpcUnavailable');
  });

  it('a grant outside its window: not yet valid, then expired', async () => {
    const now = await latest();
    const { grantId } = await asOwner.grant(
      await terms({ notBefore: now + 1000n, notAfter: now + 2000n }),
    );
    const run = { grantId, measurement: M1, evidenceHash: h('e'), enclaveKey: enclave.address };
    expect((await rejection(asOperator.openRun(run))).tag).toBe('GrantNotYetValid');
    await devnet.provider.send('evm_setNextBlockTimestamp', [Number(now + 2000n)]);
    await devnet.provider.send('evm_mine', []);
    expect((await rejection(asOperator.openRun(run))).tag).toBe('GrantExpired');
  });
});

describe('RPC down mid-transaction', () => {
  it('surfaces RpcUnavailable with the transaction hash to resume from', async () => {
    const devnet = await startDevnet();
    // the app's own connection to the node (the devnet's is closed with it)
    const provider = providerFor(devnet.rpcUrl, devnet.chainId);
    const owner = new Wallet(DEVNET_KEYS.owner, provider);
    const client = new RegistryClient({
      provider,
      registry: devnet.registry,
      chainId: devnet.chainId,
      sender: owner,
      pollMs: 20,
    });
    await devnet.provider.send('evm_setAutomine', [false]);
    const sending = client
      .registerDataset({
        containerId: hexlify(randomBytes(16)),
        cid: '0x01',
        ciphertextHash: h('c'),
        metadataHash: h('m'),
      })
      .catch((e: unknown) => e);
    // wait until the transaction is in anvil's pool (it will never be mined), then take the node down
    for (;;) {
      const pool = (await devnet.provider.send('txpool_status', [])) as { pending: string };
      if (BigInt(pool.pending) > 0n) break;
    }
    await devnet.stop();
    const error = await sending;
    expect(error).toBeInstanceOf(CustosError);
    expect((error as CustosError).tag).toBe('RpcUnavailable');
    expect((error as CustosError).details['hash']).toMatch(/^0x[0-9a-f]{64}$/);
    provider.destroy();
  });
});

describe('concurrent transactions from one client', () => {
  it('are submitted one at a time, so none fails on a reused nonce', async () => {
    const devnet = await startDevnet();
    try {
      const client = new RegistryClient({
        provider: devnet.provider,
        registry: devnet.registry,
        chainId: devnet.chainId,
        sender: new Wallet(DEVNET_KEYS.owner, devnet.provider),
        pollMs: 20,
      });
      const results = await Promise.all(
        Array.from({ length: 5 }, () =>
          client.registerDataset({
            containerId: hexlify(randomBytes(16)),
            cid: '0x01',
            ciphertextHash: h('c'),
            metadataHash: h('m'),
          }),
        ),
      );
      expect(new Set(results.map((r) => r.datasetId)).size).toBe(5);
    } finally {
      await devnet.stop();
    }
  });
});

describe('confirmations', () => {
  it('waits for N blocks: times out with the hash before them, resumes with waitFor after', async () => {
    const devnet = await startDevnet();
    try {
      const client = new RegistryClient({
        provider: devnet.provider,
        registry: devnet.registry,
        chainId: devnet.chainId,
        sender: new Wallet(DEVNET_KEYS.owner, devnet.provider),
        confirmations: 3,
        timeoutMs: 300,
        pollMs: 20,
      });
      const input = {
        containerId: hexlify(randomBytes(16)),
        cid: '0x01',
        ciphertextHash: h('c'),
        metadataHash: h('m'),
      };
      const timeout = await rejection(client.registerDataset(input));
      expect(timeout.tag).toBe('TransactionTimeout');
      const hash = timeout.details['hash'] as string;
      const receipt = await devnet.provider.getTransactionReceipt(hash);
      expect(receipt?.status).toBe(1); // included, but only 1 of 3 confirmations
      await devnet.provider.send('anvil_mine', ['0x2']);
      const confirmed = await client.waitFor(hash);
      expect(confirmed.blockNumber).toBe(receipt?.blockNumber);
      expect(confirmed.events.map((e) => e.name)).toEqual(['DatasetRegistered']);
    } finally {
      await devnet.stop();
    }
  });
});
