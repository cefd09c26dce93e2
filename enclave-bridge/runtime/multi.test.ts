import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRegistryLog, findEvent } from '../../app/chain/index.ts';
import { sodium } from '../../app/crypto/index.ts';
import { CustosError } from '../../app/errors/index.ts';
import { HeliaDatasetStore } from '../../app/ipfs/index.ts';
import { readJournal } from '../../app/journal/index.ts';
import { Vault } from '../../app/vault/index.ts';
import { RateLimiter } from '../key-release/index.ts';
import {
  devnetClients,
  grantAccess,
  publishDataset,
  startDevnetEnvironment,
  type DevnetEnvironment,
} from '../simulator/index.ts';
import { newEnclaveIdentity, simulatedAttester } from './index.ts';
import { runMultiDatasetJob, type MultiDatasetEnclaveApp } from './multi.ts';

let dir: string;
let env: DevnetEnvironment;
let store: HeliaDatasetStore;
const files: Record<string, string> = {};
const datasets: Record<string, string> = {};
const MEASUREMENT = `0x${'5a'.repeat(32)}`;
const consumer = { publicKey: new Uint8Array(), secretKey: new Uint8Array() };

async function grant(datasetId: string): Promise<string> {
  const now = (await env.devnet.provider.getBlock('latest'))?.timestamp ?? 0;
  return grantAccess(env, datasetId, {
    measurements: [MEASUREMENT],
    notBefore: now - 60,
    notAfter: now + 3600,
    maxRuns: 3,
  });
}

async function job(app: MultiDatasetEnclaveApp, roles: string[] = ['first', 'second']) {
  return runMultiDatasetJob({
    inputs: await Promise.all(
      roles.map(async (role) => ({
        role,
        serviceUrl: env.keyRelease.url,
        grantId: await grant(datasets[role] as string),
      })),
    ),
    identity: await newEnclaveIdentity(),
    attester: simulatedAttester(env.simulationKey, Buffer.from(MEASUREMENT.slice(2), 'hex')),
    store,
    app,
    consumerPublicKey: consumer.publicKey,
    relayer: env.relayer,
  });
}

async function text(input: AsyncIterable<Uint8Array> | undefined): Promise<string> {
  const parts: Uint8Array[] = [];
  for await (const chunk of input ?? []) parts.push(chunk);
  return Buffer.concat(parts).toString('utf8');
}

async function closedWith(runId: string): Promise<string | undefined> {
  const logs = await env.relayer.provider.getLogs({
    address: env.devnet.registry,
    fromBlock: env.devnet.startBlock,
    toBlock: 'latest',
  });
  for (const log of logs) {
    const event = decodeRegistryLog(log);
    if (event?.name === 'RunClosed' && event.args.runId === runId) return event.args.resultHash;
  }
  return undefined;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custos-multi-'));
  const vault = await Vault.create(join(dir, 'vault'), 'multi test passphrase', {
    kdf: 'interactive',
  });
  env = await startDevnetEnvironment(join(dir, 'devnet'), vault, {
    limiter: new RateLimiter({ burst: 1000, perSecond: 1000 }),
  });
  for (const role of ['first', 'second', 'third']) {
    files[role] = join(dir, `${role}.txt`);
    await writeFile(files[role], `the ${role} dataset\n`.repeat(1000));
    ({ datasetId: datasets[role] as string } = await publishDataset(env, files[role], {
      label: role,
    }));
  }
  store = await HeliaDatasetStore.open({ folder: join(dir, 'enclave-ipfs'), listen: [] });
  await store.connect(env.descriptor.ipfs[0] as string);
  Object.assign(consumer, (await sodium()).boxKeypair());
}, 120_000);

afterAll(async () => {
  await store?.close();
  await env?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('runMultiDatasetJob', () => {
  it('releases one key per dataset (a run each), gives the app every plaintext and run id, closes every run with the one result hash', async () => {
    let seen: Record<string, string> = {};
    const result = await job(async (inputs, runIds) => {
      seen = { first: await text(inputs['first']), second: await text(inputs['second']) };
      return new TextEncoder().encode(JSON.stringify(runIds));
    });
    expect(seen['first']).toBe(await readFile(files['first'] as string, 'utf8'));
    expect(seen['second']).toBe(await readFile(files['second'] as string, 'utf8'));
    expect(result.runs.map((r) => r.role)).toEqual(['first', 'second']);
    expect(new Set(result.runs.map((r) => r.runId)).size).toBe(2);
    for (const run of result.runs) {
      expect(findEvent(run.close.events, 'RunClosed')?.args.resultHash).toBe(result.resultHash);
      expect((await env.relayer.run(run.runId)).closed).toBe(true);
    }
    const opened = (await sodium()).boxSealOpen(
      result.sealedResult,
      consumer.publicKey,
      consumer.secretKey,
    );
    expect(JSON.parse(new TextDecoder().decode(opened as Uint8Array))).toEqual({
      first: result.runs[0]?.runId,
      second: result.runs[1]?.runId,
    });
  });

  it('an app failure after the releases closes every run with one abort notice and rethrows the tagged error', async () => {
    const error = (await job(() =>
      Promise.reject(new CustosError('FeatureMissing', 'no such variable')),
    ).catch((e: unknown) => e)) as CustosError;
    expect(error.tag).toBe('FeatureMissing');
    const runs = String(error.details['abortedRuns']).split(',');
    expect(runs).toHaveLength(2);
    const hashes = await Promise.all(runs.map(closedWith));
    expect(hashes[0]).toBe(error.details['abortNoticeHash']);
    expect(hashes[1]).toBe(hashes[0]);
  });

  it('a refusal of the second release stops there: the first run is closed with the abort notice; the refusal is journaled', async () => {
    const g1 = await grant(datasets['first'] as string);
    const g2 = await grant(datasets['third'] as string);
    await env.owner.revoke(g2);
    const error = (await runMultiDatasetJob({
      inputs: [
        { role: 'first', serviceUrl: env.keyRelease.url, grantId: g1 },
        { role: 'third', serviceUrl: env.keyRelease.url, grantId: g2 },
      ],
      identity: await newEnclaveIdentity(),
      attester: simulatedAttester(env.simulationKey, Buffer.from(MEASUREMENT.slice(2), 'hex')),
      store,
      app: () => Promise.reject(new Error('the app must not run')),
      consumerPublicKey: consumer.publicKey,
      relayer: env.relayer,
    }).catch((e: unknown) => e)) as CustosError;
    expect(error.tag).toBe('GrantRevoked');
    const [aborted] = String(error.details['abortedRuns']).split(',');
    expect((await env.relayer.run(aborted as string)).closed).toBe(true);
    expect((await env.relayer.grantState(g2)).runsUsed).toBe(0n);
    const last = (await readJournal(env.journalPath)).at(-1)?.record;
    expect(last).toMatchObject({ decision: 'refused', reason: 'GrantRevoked', grantId: g2 });
  });

  it('when the abort cannot be recorded (chain unreachable for the relayer), the app’s refusal still surfaces, naming the runs left open', async () => {
    const dead = devnetClients({
      rpcUrl: 'http://127.0.0.1:9',
      chainId: env.devnet.chainId,
      registry: env.devnet.registry,
    });
    const error = (await runMultiDatasetJob({
      inputs: [
        {
          role: 'first',
          serviceUrl: env.keyRelease.url,
          grantId: await grant(datasets['first'] as string),
        },
      ],
      identity: await newEnclaveIdentity(),
      attester: simulatedAttester(env.simulationKey, Buffer.from(MEASUREMENT.slice(2), 'hex')),
      store,
      app: () => Promise.reject(new CustosError('ModelMalformed', 'not a model')),
      consumerPublicKey: consumer.publicKey,
      relayer: dead.relayer,
    }).catch((e: unknown) => e)) as CustosError;
    dead.provider.destroy();
    expect(error.tag).toBe('ModelMalformed');
    const open = String(error.details['openRuns']);
    expect(open).toMatch(/^0x[0-9a-f]{64}$/);
    expect((await env.relayer.run(open)).closed).toBe(false);
  });

  it('duplicate roles → UsageError before any key release', async () => {
    const before = (await readJournal(env.journalPath)).length;
    await expect(
      job(() => Promise.resolve(new Uint8Array()), ['first', 'first']),
    ).rejects.toMatchObject({
      tag: 'UsageError',
    });
    expect((await readJournal(env.journalPath)).length).toBe(before);
  });
});
