import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVNET_KEYS, findEvent } from '../../app/chain/index.ts';
import { sodium } from '../../app/crypto/index.ts';
import { CustosError } from '../../app/errors/index.ts';
import { readJournal, type KeyReleaseRecord } from '../../app/journal/index.ts';
import { syntheticCsvLines } from '../../app/synthetic/index.ts';
import { PLANTED_RISK_MODEL, plantedRiskCsvLines } from '../../app/synthetic/planted-risk.ts';
import { Vault } from '../../app/vault/index.ts';
import { enclaveApp } from '../apps/index.ts';
import type { InferResult } from '../apps/infer/index.ts';
import type { TrainedModel } from '../apps/train-risk-model/index.ts';
import { RateLimiter } from '../key-release/index.ts';
import type { MultiRunResult } from '../runtime/index.ts';
import {
  grantAccess,
  publishDataset,
  runSimulatedEnclave,
  startDevnetEnvironment,
  type DevnetEnvironment,
} from './index.ts';
import {
  grantModel,
  publishModel,
  runSimulatedMultiEnclave,
  startModelProvider,
  type ModelProvider,
} from './two-party.ts';
import { bufferIo } from '../../app/cli/testing.ts';

let dir: string;
let env: DevnetEnvironment;
let provider: ModelProvider;
let patients: string; // the hospital's dataset id
let modelDataset: string; // the provider's dataset id (the trained model)
let inferMeasurement: string;
let trainedModel: TrainedModel;
const consumer = { publicKey: new Uint8Array(), secretKey: new Uint8Array() };
const providerBox = { publicKey: new Uint8Array(), secretKey: new Uint8Array() };
const grantee = new Wallet(DEVNET_KEYS.relayer).address;
const FEATURES = ['age', 'male', 'systolic_bp', 'bmi', 'smoker'];

async function chainNow(): Promise<number> {
  const block = await env.devnet.provider.getBlock('latest');
  return block?.timestamp ?? Math.floor(Date.now() / 1000);
}
const window = async (): Promise<{ notBefore: number; notAfter: number }> => {
  const now = await chainNow();
  return { notBefore: now - 60, notAfter: now + 3600 };
};
const hospitalGrant = async (datasetId = patients, measurements = [inferMeasurement]) =>
  grantAccess(env, datasetId, { measurements, ...(await window()), maxRuns: 5 });
const modelGrant = async (datasetId = modelDataset, measurements = [inferMeasurement]) =>
  grantModel(provider, datasetId, { measurements, ...(await window()), maxRuns: 5, grantee });

async function journal(path: string): Promise<KeyReleaseRecord[]> {
  return (await readJournal(path)).map((e) => e.record as KeyReleaseRecord);
}

async function openResult<T>(sealed: Uint8Array, box = consumer): Promise<T> {
  const opened = (await sodium()).boxSealOpen(sealed, box.publicKey, box.secretKey);
  if (!opened) throw new Error('the result does not open');
  return JSON.parse(new TextDecoder().decode(opened)) as T;
}

const inferOnce = (grants: { model: string; data: string }, params: unknown = {}) =>
  runSimulatedMultiEnclave({
    app: 'infer',
    grants: {
      model: { grantId: grants.model, keyReleaseUrl: provider.keyRelease.url },
      data: { grantId: grants.data, keyReleaseUrl: env.keyRelease.url },
    },
    params,
    consumerPublicKey: consumer.publicKey,
    ipfs: [...env.descriptor.ipfs, ...provider.descriptor.ipfs],
    simulationKey: env.simulationKey,
    relayer: env.relayer,
  });

const limiter = () => new RateLimiter({ burst: 1000, perSecond: 1000 });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custos-two-party-'));
  const [hospitalVault, providerVault] = await Promise.all([
    Vault.create(join(dir, 'hospital-vault'), 'hospital passphrase', { kdf: 'interactive' }),
    Vault.create(join(dir, 'provider-vault'), 'provider passphrase', { kdf: 'interactive' }),
  ]);
  env = await startDevnetEnvironment(join(dir, 'devnet'), hospitalVault, { limiter: limiter() });
  provider = await startModelProvider(env, join(dir, 'provider'), providerVault, {
    limiter: limiter(),
  });
  const s = await sodium();
  Object.assign(consumer, s.boxKeypair());
  Object.assign(providerBox, s.boxKeypair());
  const csv = join(dir, 'patients.csv');
  await writeFile(csv, [...plantedRiskCsvLines(3000, 21)].join(''));
  ({ datasetId: patients } = await publishDataset(env, csv, { label: 'Cardiology (planted)' }));
  inferMeasurement = await enclaveApp('infer').measurement();

  // The provider's model is trained in the enclave on a hospital dataset granted to train-risk-model;
  // the result is sealed to the provider, who opens it and publishes it as its own dataset.
  const trainingCsv = join(dir, 'training.csv');
  await writeFile(trainingCsv, [...plantedRiskCsvLines(6000, 5)].join(''));
  const { datasetId: training } = await publishDataset(env, trainingCsv, { label: 'Training' });
  const trainGrant = await grantAccess(env, training, {
    measurements: [await enclaveApp('train-risk-model').measurement()],
    ...(await window()),
    maxRuns: 1,
  });
  const trained = await runSimulatedEnclave({
    app: 'train-risk-model',
    grantId: trainGrant,
    params: { outcome: { variable: 'outcome' }, features: FEATURES },
    consumerPublicKey: providerBox.publicKey,
    keyReleaseUrl: env.keyRelease.url,
    ipfs: env.descriptor.ipfs,
    simulationKey: env.simulationKey,
    relayer: env.relayer,
  });
  trainedModel = await openResult<TrainedModel>(trained.sealedResult, providerBox);
  const modelFile = join(dir, 'model.json');
  await writeFile(modelFile, JSON.stringify(trainedModel));
  ({ datasetId: modelDataset } = await publishModel(provider, modelFile, { label: 'Risk model' }));
}, 120_000);

afterAll(async () => {
  await provider?.close();
  await env?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('two owners, one enclave run: the provider’s model on the hospital’s patients', () => {
  it('both keys released by their own owners’ services, both runs recorded and closed with one result hash; the result names both runs', async () => {
    const grants = { model: await modelGrant(), data: await hospitalGrant() };
    const result = await inferOnce(grants);
    expect(result.runs.map((r) => r.role)).toEqual(['model', 'data']);
    const [modelRun, dataRun] = result.runs as [
      MultiRunResult['runs'][0],
      MultiRunResult['runs'][0],
    ];
    for (const run of result.runs) {
      expect((await env.relayer.run(run.runId)).closed).toBe(true);
      expect(findEvent(run.close.events, 'RunClosed')?.args.resultHash).toBe(result.resultHash);
    }
    const doc = await openResult<InferResult>(result.sealedResult);
    expect(doc.schema).toBe('custos.infer.result/1');
    expect(doc.runs).toEqual({ model: modelRun.runId, data: dataRun.runId });
    expect(doc.dataset.scored).toBe(3000);
    // A model trained on the planted population discriminates on another sample of it.
    expect(doc.observed?.auc).toBeGreaterThan(0.7);
    expect(doc.observed?.expectedCalibrationError).toBeLessThan(0.05);
    // Each owner's journal has its own release, and only its own.
    const providerReleased = (await journal(provider.journalPath)).filter(
      (r) => r.decision === 'released',
    );
    const hospitalReleased = (await journal(env.journalPath)).filter(
      (r) => r.decision === 'released',
    );
    expect(providerReleased.at(-1)).toMatchObject({
      runId: modelRun.runId,
      grantId: grants.model,
      measurement: inferMeasurement,
    });
    expect(hospitalReleased.at(-1)).toMatchObject({
      runId: dataRun.runId,
      grantId: grants.data,
      measurement: inferMeasurement,
    });
    expect(hospitalReleased.some((r) => r.runId === modelRun.runId)).toBe(false);
    expect(providerReleased.some((r) => r.runId === dataRun.runId)).toBe(false);
    // The same enclave key opened both runs.
    expect(providerReleased.at(-1)?.enclaveKey).toBe(hospitalReleased.at(-1)?.enclaveKey);
    // Neither weights nor the model's coefficients reach the consumer.
    expect(JSON.stringify(doc)).not.toMatch(/weights|coefficients|intercept/);
  });

  it('revoking the model grant stops the next inference: GrantRevoked, journaled by the provider’s service, no patient run opened, no result', async () => {
    const grants = { model: await modelGrant(), data: await hospitalGrant() };
    await inferOnce(grants); // works before the revocation
    await provider.owner.revoke(grants.model);
    const hospitalBefore = (await journal(env.journalPath)).length;
    const providerBefore = (await journal(provider.journalPath)).length;
    const error = await inferOnce(grants).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CustosError);
    expect(error).toMatchObject({ tag: 'GrantRevoked' });
    const providerAfter = await journal(provider.journalPath);
    expect(providerAfter.length).toBe(providerBefore + 1);
    expect(providerAfter.at(-1)).toMatchObject({
      decision: 'refused',
      reason: 'GrantRevoked',
      grantId: grants.model,
      runId: null,
    });
    // The hospital's service was never asked: its key stayed home and no run opened on the patients.
    expect((await journal(env.journalPath)).length).toBe(hospitalBefore);
    expect((await env.relayer.grantState(grants.data)).runsUsed).toBe(1n);
  });

  it('an expired model grant → GrantExpired from the provider’s service; the hospital is not asked', async () => {
    const now = await chainNow();
    const expiring = await grantModel(provider, modelDataset, {
      measurements: [inferMeasurement],
      notBefore: now - 60,
      notAfter: now + 5,
      maxRuns: 5,
      grantee,
    });
    const data = await hospitalGrant();
    await env.devnet.provider.send('evm_increaseTime', [30]);
    await env.devnet.provider.send('evm_mine', []);
    const hospitalBefore = (await journal(env.journalPath)).length;
    await expect(inferOnce({ model: expiring, data })).rejects.toMatchObject({
      tag: 'GrantExpired',
    });
    expect((await journal(provider.journalPath)).at(-1)).toMatchObject({
      decision: 'refused',
      reason: 'GrantExpired',
      grantId: expiring,
    });
    expect((await journal(env.journalPath)).length).toBe(hospitalBefore);
  });

  it('the model owner allows another app (measurement allowed by one owner only) → MeasurementNotAllowed from the provider', async () => {
    const grants = {
      model: await modelGrant(modelDataset, [await enclaveApp('cohort-stats').measurement()]),
      data: await hospitalGrant(),
    };
    await expect(inferOnce(grants)).rejects.toMatchObject({ tag: 'MeasurementNotAllowed' });
    expect((await journal(provider.journalPath)).at(-1)).toMatchObject({
      decision: 'refused',
      reason: 'MeasurementNotAllowed',
    });
  });

  it('the hospital refuses after the model was released → GrantRevoked; the model’s run is closed with an abort notice, not a result', async () => {
    const grants = { model: await modelGrant(), data: await hospitalGrant() };
    await env.owner.revoke(grants.data);
    const error = (await inferOnce(grants).catch((e: unknown) => e)) as CustosError;
    expect(error.tag).toBe('GrantRevoked');
    const aborted = String(error.details['abortedRuns']).split(',');
    expect(aborted).toHaveLength(1);
    const run = await env.relayer.run(aborted[0] as string);
    expect(run.closed).toBe(true);
    expect((await journal(env.journalPath)).at(-1)).toMatchObject({
      decision: 'refused',
      reason: 'GrantRevoked',
    });
  });

  it('a model file that does not parse → ModelMalformed; both runs closed with the abort notice’s hash, no result', async () => {
    const garbage = join(dir, 'not-a-model.json');
    await writeFile(garbage, '{"schema":"custos.risk-model/1","weights":"lots"}');
    const { datasetId } = await publishModel(provider, garbage, { label: 'Broken model' });
    const grants = { model: await modelGrant(datasetId), data: await hospitalGrant() };
    const error = (await inferOnce(grants).catch((e: unknown) => e)) as CustosError;
    expect(error.tag).toBe('ModelMalformed');
    const aborted = String(error.details['abortedRuns']).split(',');
    expect(aborted).toHaveLength(2);
    for (const runId of aborted) expect((await env.relayer.run(runId)).closed).toBe(true);
  });

  it('a dataset lacking a model feature (bmi) → FeatureMissing before anything is returned', async () => {
    const csv = join(dir, 'cohort.csv');
    await writeFile(csv, [...syntheticCsvLines(300, { seed: 4 })].join(''));
    const { datasetId } = await publishDataset(env, csv, { label: 'No BMI' });
    const grants = { model: await modelGrant(), data: await hospitalGrant(datasetId) };
    const error = (await inferOnce(grants).catch((e: unknown) => e)) as CustosError;
    expect(error.tag).toBe('FeatureMissing');
    expect(error.message).toContain('bmi');
    // Both runs ended on-chain with the abort notice's hash: no result exists for either owner.
    const aborted = String(error.details['abortedRuns']).split(',');
    expect(aborted).toHaveLength(2);
    for (const runId of aborted) expect((await env.relayer.run(runId)).closed).toBe(true);
  });

  it('`custos enclave run --app infer --model-grant … --model-provider …` on the devnet; then `enclave open` shows the aggregates', async () => {
    const { main } = await import('../../app/cli/main.ts');
    const io = bufferIo();
    const outDir = join(dir, 'cli-infer');
    const code = await main(
      [
        'enclave',
        'run',
        '--app',
        'infer',
        '--dataset',
        patients,
        '--grant',
        await hospitalGrant(),
        '--model-grant',
        await modelGrant(),
        '--model-provider',
        provider.descriptorPath,
        '--out',
        outDir,
        '--devnet',
        join(env.dir, 'devnet.json'),
      ],
      io,
    );
    expect(code).toBe(0);
    const printed = JSON.parse(io.out()) as {
      runs: { role: string; runId: string }[];
      result: string;
      resultHash: string;
      consumerSecretKey: string;
    };
    expect(printed.runs.map((r) => r.role)).toEqual(['model', 'data']);
    io.clear();
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
        io,
      ),
    ).toBe(0);
    const doc = JSON.parse(io.out()) as InferResult;
    expect(doc.runs.model).toBe(printed.runs[0]?.runId);
    expect(doc.runs.data).toBe(printed.runs[1]?.runId);
    expect(await readFile(printed.result)).toBeInstanceOf(Buffer);
  });

  it('`custos enclave run --app train-risk-model --params …` trains on the devnet; the opened result is a model with its card', async () => {
    const { main } = await import('../../app/cli/main.ts');
    const io = bufferIo();
    const grantId = await grantAccess(env, patients, {
      measurements: [await enclaveApp('train-risk-model').measurement()],
      ...(await window()),
      maxRuns: 1,
    });
    const params = JSON.stringify({
      outcome: { variable: 'outcome' },
      features: FEATURES,
      minCohort: 100,
    });
    const devnet = join(env.dir, 'devnet.json');
    const base = [
      'enclave',
      'run',
      '--app',
      'train-risk-model',
      '--dataset',
      patients,
      '--grant',
      grantId,
      '--devnet',
      devnet,
    ];
    expect(await main([...base, '--params', params, '--out', join(dir, 'cli-train')], io)).toBe(0);
    const printed = JSON.parse(io.out()) as {
      runId: string;
      result: string;
      resultHash: string;
      consumerSecretKey: string;
    };
    expect((await env.relayer.run(printed.runId)).closed).toBe(true);
    io.clear();
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
        io,
      ),
    ).toBe(0);
    const model = JSON.parse(io.out()) as TrainedModel;
    expect(model.schema).toBe('custos.risk-model/1');
    expect(model.card.features).toEqual(FEATURES);
    expect(model.card.split.training + model.card.split.heldOut).toBe(3000);
    // A single-dataset app given a model grant is a usage error (exit 2).
    expect(
      await main([...base, '--model-grant', grantId, '--out', join(dir, 'cli-train-2')], io),
    ).toBe(2);
  });

  it('train-risk-model ran in the enclave on the devnet: the model the provider received recovers the planted coefficients', () => {
    // 4 800 training patients: 0.15 per feature SD is about 5 standard errors.
    const sd: Record<string, number> = {
      age: 16.2,
      male: 0.5,
      systolic_bp: 16.6,
      bmi: 4.5,
      smoker: 0.43,
    };
    for (const f of FEATURES) {
      const planted =
        PLANTED_RISK_MODEL.coefficients[f as keyof typeof PLANTED_RISK_MODEL.coefficients];
      expect(
        Math.abs((trainedModel.coefficients?.[f] as number) - planted) * (sd[f] as number),
        f,
      ).toBeLessThan(0.15);
    }
    expect(trainedModel.card.metrics.heldOut.auc).toBeGreaterThan(0.7);
  });
});
