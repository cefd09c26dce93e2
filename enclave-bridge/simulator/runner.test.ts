import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sodium } from '../../app/crypto/index.ts';
import { CustosError } from '../../app/errors/index.ts';
import { readJournal, type KeyReleaseRecord } from '../../app/journal/index.ts';
import { syntheticFhirLines } from '../../app/synthetic/index.ts';
import { Vault } from '../../app/vault/index.ts';
import { newSimulationKey, produceSimulatedEvidence } from '../attestation/index.ts';
import { flipBit, sgxVector, tdxVector } from '../attestation/testing.ts';
import { enclaveApp } from '../apps/index.ts';
import {
  ChallengeBook,
  KeyReleaseService,
  PROTOCOL_VERSION,
  RateLimiter,
  bindingReportData,
  requestChallenge,
  requestRelease,
  serveKeyRelease,
  type ReleaseRequest,
} from '../key-release/index.ts';
import { newEnclaveIdentity, simulatedAttester, type Attester } from '../runtime/index.ts';
import {
  devnetClients,
  grantAccess,
  publishDataset,
  runSimulatedEnclave,
  startDevnetEnvironment,
  type DevnetEnvironment,
} from './index.ts';
import { Journal } from '../../app/journal/index.ts';
import { bufferIo } from '../../app/cli/testing.ts';

let dir: string;
let env: DevnetEnvironment;
let datasetId: string;
let measurement: string;
const consumer = { publicKey: new Uint8Array(), secretKey: new Uint8Array() };

async function chainNow(): Promise<number> {
  const block = await env.devnet.provider.getBlock('latest');
  return block?.timestamp ?? Math.floor(Date.now() / 1000);
}

async function newGrant(
  terms: Partial<{
    notBefore: number;
    notAfter: number;
    maxRuns: number;
    measurements: string[];
  }> = {},
) {
  const now = await chainNow();
  return grantAccess(env, datasetId, {
    measurements: terms.measurements ?? [measurement],
    notBefore: terms.notBefore ?? now - 60,
    notAfter: terms.notAfter ?? now + 3600,
    maxRuns: terms.maxRuns ?? 5,
  });
}

/** A release request as an enclave with `attester` would make it; `tweak` changes it before sending. */
async function attempt(
  grantId: string,
  attester: Attester,
  tweak: (r: ReleaseRequest) => ReleaseRequest = (r) => r,
  serviceUrl = env.keyRelease.url,
): Promise<string> {
  const identity = await newEnclaveIdentity();
  const { nonce } = await requestChallenge(serviceUrl);
  const reportData = bindingReportData(
    identity.box.publicKey,
    identity.result.address,
    Buffer.from(nonce, 'hex'),
  );
  const request: ReleaseRequest = {
    protocol: PROTOCOL_VERSION,
    grantId,
    nonce,
    evidence: await attester.evidence(reportData),
    enclave: {
      boxPublicKey: Buffer.from(identity.box.publicKey).toString('hex'),
      resultKey: identity.result.address,
    },
  };
  try {
    const released = await requestRelease(serviceUrl, tweak(request));
    return `released ${released.runId}`;
  } catch (error) {
    if (error instanceof CustosError) return error.tag;
    throw error;
  }
}

async function journal(path = env.journalPath): Promise<KeyReleaseRecord[]> {
  return (await readJournal(path)).map((e) => e.record as KeyReleaseRecord);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custos-runner-'));
  const vault = await Vault.create(join(dir, 'vault'), 'runner test passphrase', {
    kdf: 'interactive',
  });
  env = await startDevnetEnvironment(join(dir, 'devnet'), vault, {
    limiter: new RateLimiter({ burst: 1000, perSecond: 1000 }),
  });
  const fhir = join(dir, 'patients.ndjson');
  await writeFile(fhir, [...syntheticFhirLines(400, { seed: 7 })].join('\n') + '\n');
  ({ datasetId } = await publishDataset(env, fhir, { label: 'Cardiology cohort (synthetic)' }));
  measurement = await enclaveApp('cohort-stats').measurement();
  Object.assign(consumer, (await sodium()).boxKeypair());
}, 120_000);

afterAll(async () => {
  await env?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('end to end on the devnet: grant → key release → run → result → closeRun', () => {
  it('runs cohort statistics in the simulated enclave; the consumer decrypts the result; the chain and the journal recorded the run', async () => {
    const grantId = await newGrant({ maxRuns: 2 });
    const result = await runSimulatedEnclave({
      app: 'cohort-stats',
      grantId,
      params: {},
      consumerPublicKey: consumer.publicKey,
      keyReleaseUrl: env.keyRelease.url,
      ipfs: env.descriptor.ipfs,
      simulationKey: env.simulationKey,
      relayer: env.relayer,
    });
    const opened = (await sodium()).boxSealOpen(
      result.sealedResult,
      consumer.publicKey,
      consumer.secretKey,
    );
    expect(opened).not.toBeNull();
    const doc = JSON.parse(new TextDecoder().decode(opened)) as { schema: string };
    expect(doc.schema).toBe('custos.cohort-stats.result/1');
    const run = await env.relayer.run(result.runId);
    expect(run.closed).toBe(true);
    expect(run.enclaveKey).not.toBe('0x0000000000000000000000000000000000000000');
    const released = (await journal()).filter((r) => r.decision === 'released');
    expect(released.at(-1)).toMatchObject({
      runId: result.runId,
      grantId,
      teeType: 'simulated',
      measurement,
    });
    // The key left only after the chain recorded the run: the journal's block is the openRun block.
    expect(released.at(-1)?.blockNumber).toBe(result.release.blockNumber);
  });
});

describe('refusals: each named, journaled, and no key leaves', () => {
  let grantId: string;
  let attester: Attester;
  beforeAll(async () => {
    grantId = await newGrant();
    attester = simulatedAttester(env.simulationKey, Buffer.from(measurement.slice(2), 'hex'));
  });

  async function expectRefused(outcome: () => Promise<string>, tag: string): Promise<void> {
    const before = (await journal()).length;
    expect(await outcome()).toBe(tag);
    const after = await journal();
    expect(after.length).toBe(before + 1);
    expect(after.at(-1)).toMatchObject({ decision: 'refused', reason: tag, runId: null });
  }

  it('a replayed nonce → ChallengeUnknown', async () => {
    let used: ReleaseRequest | undefined;
    expect(await attempt(grantId, attester, (r) => (used = r))).toMatch(/^released /);
    await expectRefused(
      () =>
        requestRelease(env.keyRelease.url, used!).then(
          () => 'released',
          (e: CustosError) => e.tag,
        ),
      'ChallengeUnknown',
    );
  });

  it('a nonce never issued → ChallengeUnknown', async () => {
    await expectRefused(
      () => attempt(grantId, attester, (r) => ({ ...r, nonce: 'ab'.repeat(32) })),
      'ChallengeUnknown',
    );
  });

  it('evidence bound to another enclave key → ReportDataMismatch', async () => {
    const other = await newEnclaveIdentity();
    await expectRefused(
      () =>
        attempt(grantId, attester, (r) => ({
          ...r,
          enclave: { ...r.enclave, boxPublicKey: Buffer.from(other.box.publicKey).toString('hex') },
        })),
      'ReportDataMismatch',
    );
  });

  it('an app the grant does not allow (other measurement) → MeasurementNotAllowed', async () => {
    const other = simulatedAttester(env.simulationKey, new Uint8Array(32).fill(0x42));
    await expectRefused(() => attempt(grantId, other), 'MeasurementNotAllowed');
  });

  it('a debug enclave → DebugEnclave', async () => {
    const debug: Attester = {
      kind: 'simulated',
      evidence: async (reportData) => ({
        kind: 'simulated',
        evidence: Buffer.from(
          await produceSimulatedEvidence(
            { measurement: Buffer.from(measurement.slice(2), 'hex'), reportData, debug: true },
            env.simulationKey,
          ),
        ).toString('base64'),
      }),
    };
    await expectRefused(() => attempt(grantId, debug), 'DebugEnclave');
  });

  it('evidence signed by another simulator (not this devnet’s key) → AttestationInvalid', async () => {
    const stranger = simulatedAttester(
      await newSimulationKey(),
      Buffer.from(measurement.slice(2), 'hex'),
    );
    await expectRefused(() => attempt(grantId, stranger), 'AttestationInvalid');
  });

  it('an expired grant → GrantExpired', async () => {
    const now = await chainNow();
    const g = await newGrant({ notBefore: now - 100, notAfter: now + 2 });
    await env.devnet.provider.send('evm_increaseTime', [10]);
    await env.devnet.provider.send('evm_mine', []);
    await expectRefused(() => attempt(g, attester), 'GrantExpired');
  });

  it('a grant not yet valid → GrantNotYetValid', async () => {
    const now = await chainNow();
    const g = await newGrant({ notBefore: now + 3600, notAfter: now + 7200 });
    await expectRefused(() => attempt(g, attester), 'GrantNotYetValid');
  });

  it('a revoked grant → GrantRevoked, journaled at a block no earlier than the revoke', async () => {
    const g = await newGrant();
    await env.owner.revoke(g);
    const revokedBy = await env.devnet.provider.getBlockNumber();
    await expectRefused(() => attempt(g, attester), 'GrantRevoked');
    const refusal = (await journal()).at(-1);
    expect(refusal).toMatchObject({ decision: 'refused', reason: 'GrantRevoked', grantId: g });
    // the audit orders the refusal by this block: after the revoke that caused it
    expect(refusal?.blockNumber).toBeGreaterThanOrEqual(revokedBy);
  });

  it('an exhausted grant → GrantExhausted', async () => {
    const g = await newGrant({ maxRuns: 1 });
    expect(await attempt(g, attester)).toMatch(/^released /);
    await expectRefused(() => attempt(g, attester), 'GrantExhausted');
  });

  it('an unknown grant → GrantNotFound', async () => {
    const unknown = `${datasetId.slice(0, 50)}00000000000fffff`;
    await expectRefused(() => attempt(unknown, attester), 'GrantNotFound');
  });

  it('a frozen dataset → DatasetFrozen; after unfreezing it works again', async () => {
    const g = await newGrant();
    await env.owner.freeze(datasetId);
    await expectRefused(() => attempt(g, attester), 'DatasetFrozen');
    await env.owner.unfreeze(datasetId);
    expect(await attempt(g, attester)).toMatch(/^released /);
  });

  it('revoke-all (epoch bump) kills every older grant → GrantRevoked', async () => {
    const g = await newGrant();
    await env.owner.revokeAll(datasetId);
    await expectRefused(() => attempt(g, attester), 'GrantRevoked');
    expect(await attempt(await newGrant(), attester)).toMatch(/^released /);
  });

  it('a malformed request → UsageError', async () => {
    await expectRefused(
      () => attempt(grantId, attester, (r) => ({ ...r, grantId: 'not-a-grant' })),
      'UsageError',
    );
  });
});

describe('refusals that need their own service', () => {
  /** A key-release service on this devnet with its own journal and options. */
  async function withService(
    name: string,
    options: Partial<ConstructorParameters<typeof KeyReleaseService>[0]>,
    body: (url: string, journalPath: string) => Promise<void>,
  ): Promise<void> {
    const path = join(dir, `${name}-journal.jsonl`);
    const j = await Journal.open<KeyReleaseRecord>(path);
    const service = new KeyReleaseService({
      registry: env.operator,
      policy: { network: 'devnet', simulationKeys: [env.simulationKey.publicKey] },
      datasetKey: (c) => env.vault.datasetKey(c),
      journal: j,
      ...options,
    });
    const server = await serveKeyRelease(service);
    try {
      await body(server.url, path);
    } finally {
      await server.close();
      await j.close();
    }
  }

  const dcap = (quote: Uint8Array, collateral: unknown): Attester => ({
    kind: 'tdx',
    evidence: () =>
      Promise.resolve({
        kind: 'dcap',
        quote: Buffer.from(quote).toString('base64'),
        collateral: collateral as Record<string, unknown>,
      }),
  });

  it('a real Intel SGX quote whose TCB status the owner does not allow → TcbNotAllowed', async () => {
    const v = sgxVector();
    await withService('sgx', { now: () => v.now }, async (url, path) => {
      expect(await attempt(await newGrant(), dcap(v.quote, v.collateral), undefined, url)).toBe(
        'TcbNotAllowed',
      );
      expect((await journal(path)).at(-1)).toMatchObject({
        decision: 'refused',
        reason: 'TcbNotAllowed',
        teeType: 'sgx',
      });
    });
  });

  it('a real SGX quote with its status allowed, but made for another report_data → ReportDataMismatch', async () => {
    const v = sgxVector();
    await withService(
      'sgx-allowed',
      {
        now: () => v.now,
        policy: { network: 'devnet', allowedTcbStatuses: ['UpToDate', 'SWHardeningNeeded'] },
      },
      async (url) => {
        expect(await attempt(await newGrant(), dcap(v.quote, v.collateral), undefined, url)).toBe(
          'ReportDataMismatch',
        );
      },
    );
  });

  it('a forged (bit-flipped) real TDX quote → AttestationInvalid', async () => {
    const v = tdxVector();
    await withService('tdx-forged', { now: () => v.now }, async (url) => {
      expect(
        await attempt(await newGrant(), dcap(flipBit(v.quote, 600), v.collateral), undefined, url),
      ).toBe('AttestationInvalid');
    });
  });

  it('a real TDX quote with expired collateral → CollateralExpired', async () => {
    const v = tdxVector();
    await withService(
      'tdx-expired',
      { now: () => new Date('2030-01-01T00:00:00Z') },
      async (url) => {
        expect(await attempt(await newGrant(), dcap(v.quote, v.collateral), undefined, url)).toBe(
          'CollateralExpired',
        );
      },
    );
  });

  const simulated = (): Attester =>
    simulatedAttester(env.simulationKey, Buffer.from(measurement.slice(2), 'hex'));

  it('simulated evidence on a network that is not devnet → SimulatedNotAllowed', async () => {
    await withService(
      'sepolia',
      { policy: { network: 'sepolia', simulationKeys: [env.simulationKey.publicKey] } },
      async (url, path) => {
        expect(await attempt(await newGrant(), simulated(), undefined, url)).toBe(
          'SimulatedNotAllowed',
        );
        expect((await journal(path)).at(-1)).toMatchObject({
          decision: 'refused',
          reason: 'SimulatedNotAllowed',
        });
      },
    );
  });

  it('an expired nonce → ChallengeExpired', async () => {
    let clock = Date.now();
    const challenges = new ChallengeBook({ ttlMs: 1000, now: () => clock });
    await withService('clock', { challenges }, async (url) => {
      const late = (r: ReleaseRequest): ReleaseRequest => {
        clock += 5000;
        return r;
      };
      expect(await attempt(await newGrant(), simulated(), late, url)).toBe('ChallengeExpired');
    });
  });

  it('a flood from one client → RateLimited before any work', async () => {
    await withService(
      'flood',
      { limiter: new RateLimiter({ burst: 3, perSecond: 0.001 }) },
      async (url, path) => {
        const grantId = await newGrant();
        // challenge + release = 2 tokens; the second attempt's release finds the bucket empty.
        expect(await attempt(grantId, simulated(), undefined, url)).toMatch(/^released /);
        expect(await attempt(grantId, simulated(), undefined, url)).toBe('RateLimited');
        await expect(requestChallenge(url)).rejects.toMatchObject({ tag: 'RateLimited' });
        expect((await journal(path)).at(-1)).toMatchObject({
          decision: 'refused',
          reason: 'RateLimited',
        });
      },
    );
  });

  it('the chain unreachable → RpcUnavailable, nothing released', async () => {
    const dead = devnetClients({
      rpcUrl: 'http://127.0.0.1:9',
      chainId: env.devnet.chainId,
      registry: env.devnet.registry,
    });
    await withService('dead', { registry: dead.operator }, async (url, path) => {
      expect(await attempt(await newGrant(), simulated(), undefined, url)).toBe('RpcUnavailable');
      expect((await journal(path)).map((r) => r.decision)).toEqual(['refused']);
    });
  });
});

describe('the CLI against this devnet', () => {
  it('`custos enclave run` prints the run, writes the sealed result; `custos enclave open --hash` opens it', async () => {
    const { main } = await import('../../app/cli/main.ts');
    const io = bufferIo();
    const grantId = await newGrant({ maxRuns: 1 });
    const outDir = join(dir, 'cli-run');
    const args = [
      'enclave',
      'run',
      '--app',
      'cohort-stats',
      '--dataset',
      datasetId,
      '--grant',
      grantId,
      '--out',
      outDir,
      '--devnet',
      join(env.dir, 'devnet.json'),
    ];
    expect(await main(args, io)).toBe(0);
    const printed = JSON.parse(io.out()) as {
      simulated: boolean;
      runId: string;
      result: string;
      resultHash: string;
      consumerSecretKey: string;
    };
    expect(printed.simulated).toBe(true);
    expect((await env.relayer.run(printed.runId)).closed).toBe(true);
    const opened = bufferIo();
    expect(
      await main(
        [
          'enclave',
          'open',
          printed.result,
          '--secret-key',
          printed.consumerSecretKey,
          '--hash',
          printed.resultHash,
        ],
        opened,
      ),
    ).toBe(0);
    expect(JSON.parse(opened.out()) as unknown).toMatchObject({
      schema: 'custos.cohort-stats.result/1',
    });
    // The grant allowed one run: a second is refused on-chain, and no key leaves.
    expect(
      await main([...args.slice(0, -4), '--out', `${outDir}-again`, ...args.slice(-2)], io),
    ).toBe(1);
    expect((await journal()).at(-1)).toMatchObject({
      decision: 'refused',
      reason: 'GrantExhausted',
    });
  });
});

describe('`custos serve-keys` (headless key-release service)', () => {
  it('serves the protocol for the vault against this chain and stops on interrupt', async () => {
    const { main } = await import('../../app/cli/main.ts');
    const { DEVNET_KEYS } = await import('../../app/chain/index.ts');
    const controller = new AbortController();
    const io = bufferIo(
      { CUSTOS_PASSPHRASE: 'runner test passphrase', CUSTOS_OPERATOR_KEY: DEVNET_KEYS.operator },
      controller.signal,
    );
    const journalPath = join(dir, 'serve-keys-journal.jsonl');
    const running = main(
      [
        'serve-keys',
        '--vault',
        join(dir, 'vault'),
        '--rpc',
        env.devnet.rpcUrl,
        '--chain-id',
        String(env.devnet.chainId),
        '--registry',
        env.devnet.registry,
        '--journal',
        journalPath,
        '--network',
        'devnet',
        '--simulation-key',
        env.descriptor.simulationSeedFile,
      ],
      io,
    );
    while (!io.out().includes('\n')) await new Promise((r) => setTimeout(r, 20));
    const { url } = JSON.parse(io.out()) as { url: string };
    const attester = simulatedAttester(env.simulationKey, Buffer.from(measurement.slice(2), 'hex'));
    expect(await attempt(await newGrant(), attester, undefined, url)).toMatch(/^released /);
    controller.abort();
    expect(await running).toBe(0);
    expect((await journal(journalPath)).map((r) => r.decision)).toEqual(['released']);
  });

  it('refuses simulated-enclave keys outside devnet at start', async () => {
    const { main } = await import('../../app/cli/main.ts');
    const io = bufferIo({ CUSTOS_OPERATOR_KEY: '0x' + '11'.repeat(32) });
    const code = await main(
      [
        'serve-keys',
        '--vault',
        join(dir, 'vault'),
        '--rpc',
        env.devnet.rpcUrl,
        '--chain-id',
        '1',
        '--registry',
        env.devnet.registry,
        '--journal',
        join(dir, 'x.jsonl'),
        '--network',
        'mainnet',
        '--simulation-key',
        env.descriptor.simulationSeedFile,
      ],
      io,
    );
    expect(code).toBe(2);
    expect(io.err()).toContain('devnet only');
  });
});
