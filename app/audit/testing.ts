/**
 * A real devnet history for the audit and proof tests: a dataset registered, an operator set, a
 * grant with runs opened and closed, a refused release, a revocation and a run closed after it,
 * and a key-release journal written with the record schema — with a few deliberate gaps that the
 * audit must flag. Not for production use.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet, hexlify, keccak256, randomBytes, sha256, toUtf8Bytes } from 'ethers';
import { DEVNET_KEYS, RegistryClient, startDevnet, type Devnet } from '../chain/index.ts';
import { Journal, type KeyReleaseRecord } from '../journal/index.ts';

export const MEASUREMENT = keccak256(toUtf8Bytes('cohort-statistics v1.2'));

export interface Scenario {
  readonly devnet: Devnet;
  readonly datasetId: string;
  readonly owner: Wallet;
  readonly operator: Wallet;
  readonly enclave: Wallet;
  readonly grants: { readonly first: string; readonly second: string };
  /** closed normally; closed after its grant was revoked; opened without a journaled release (left open). */
  readonly runs: {
    readonly closed: string;
    readonly closedLate: string;
    readonly unreleased: string;
  };
  /** A release journaled for a run id the chain never saw. */
  readonly phantomRun: string;
  readonly evidence: { readonly bytes: Uint8Array; readonly hash: string };
  readonly journalPath: string;
  readonly asOwner: RegistryClient;
  readonly asOperator: RegistryClient;
  readonly asRelayer: RegistryClient;
  stop(): Promise<void>;
}

/** Builds the history described above on a fresh devnet (about a second). */
export async function buildScenario(
  options: { teeType?: 'sgx' | 'tdx' | 'simulated'; chainId?: number } = {},
): Promise<Scenario> {
  const teeType = options.teeType ?? 'simulated';
  const devnet = await startDevnet(
    options.chainId === undefined ? {} : { chainId: options.chainId },
  );
  const owner = new Wallet(DEVNET_KEYS.owner, devnet.provider);
  const operator = new Wallet(DEVNET_KEYS.operator, devnet.provider);
  const relayer = new Wallet(DEVNET_KEYS.relayer, devnet.provider);
  const enclave = new Wallet(hexlify(randomBytes(32)));
  const base = {
    provider: devnet.provider,
    registry: devnet.registry,
    chainId: devnet.chainId,
    pollMs: 10,
  };
  const asOwner = new RegistryClient({ ...base, sender: owner });
  const asOperator = asOwner.withSender(operator);
  const asRelayer = asOwner.withSender(relayer);
  const dir = await mkdtemp(join(tmpdir(), 'custos-audit-'));
  const journalPath = join(dir, 'key-release.jsonl');
  const journal = await Journal.open<KeyReleaseRecord>(journalPath);

  const evidenceBytes = toUtf8Bytes(`simulated evidence for ${enclave.address}`);
  const evidenceHash = sha256(evidenceBytes);
  const h = (s: string): string => keccak256(toUtf8Bytes(s));
  const { datasetId } = await asOwner.registerDataset({
    containerId: hexlify(randomBytes(16)),
    cid: `0x01551220${'ab'.repeat(32)}`,
    ciphertextHash: h('ciphertext'),
    metadataHash: h('metadata'),
  });
  await asOwner.setOperator(datasetId, operator.address);
  const now = BigInt((await devnet.provider.getBlock('latest'))!.timestamp);
  const terms = {
    datasetId,
    grantee: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
    measurements: [MEASUREMENT],
    notBefore: now - 10n,
    notAfter: now + 30n * 86_400n,
    maxRuns: 5n,
    purposeHash: h('purpose'),
    legalBasisHash: h('consent 2024-11'),
  };
  const first = (await asOwner.grant(terms)).grantId;

  const record = (over: Partial<KeyReleaseRecord>): KeyReleaseRecord => ({
    kind: 'key-release',
    decision: 'released',
    reason: null,
    message: null,
    client: '127.0.0.1',
    chainId: devnet.chainId,
    registry: devnet.registry,
    grantId: first,
    datasetId,
    measurement: MEASUREMENT,
    teeType,
    tcbStatus: teeType === 'simulated' ? null : 'UpToDate',
    evidenceHash,
    enclaveKey: enclave.address,
    boxPublicKey: 'cd'.repeat(32),
    runId: null,
    txHash: null,
    blockNumber: null,
    ...over,
  });
  const open = async (grantId: string, journaled: boolean): Promise<string> => {
    const { runId, tx } = await asOperator.openRun({
      grantId,
      measurement: MEASUREMENT,
      evidenceHash,
      enclaveKey: enclave.address,
    });
    if (journaled)
      await journal.append(
        record({ grantId, runId, txHash: tx.hash, blockNumber: tx.blockNumber }),
      );
    return runId;
  };
  const close = async (runId: string, result: string): Promise<void> => {
    const signature = await asRelayer.signRunResult(enclave, runId, h(result));
    await asRelayer.closeRun(runId, h(result), signature);
  };

  const closed = await open(first, true);
  await close(closed, 'result 1');
  const closedLate = await open(first, true);
  await journal.append(
    record({
      decision: 'refused',
      reason: 'MeasurementNotAllowed',
      message: 'measurement is not one the grant lists',
      measurement: h('some other app'),
      enclaveKey: null,
    }),
  );
  // a minute between the later steps, so that a period can single one of them out
  const later = (): Promise<unknown> => devnet.provider.send('evm_increaseTime', [60]);
  await later();
  await asOwner.revoke(first);
  await later();
  await close(closedLate, 'result 2');
  await later();
  const second = (await asOwner.grant(terms)).grantId;
  const unreleased = await open(second, false);
  const phantomRun = h('a run the chain never saw');
  await journal.append(
    record({
      grantId: second,
      runId: phantomRun,
      txHash: h('no such tx'),
      blockNumber: await devnet.provider.getBlockNumber(),
    }),
  );
  await journal.close();

  return {
    devnet,
    datasetId,
    owner,
    operator,
    enclave,
    grants: { first, second },
    runs: { closed, closedLate, unreleased },
    phantomRun,
    evidence: { bytes: evidenceBytes, hash: evidenceHash },
    journalPath,
    asOwner,
    asOperator,
    asRelayer,
    stop: () => devnet.stop(),
  };
}
