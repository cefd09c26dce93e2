/**
 * End to end with the real two-party runtime: the provider's model runs on the hospital's records
 * in the simulated enclave (two key-release services, two journals, two runs, one result). Each
 * owner's audit trail (with its own journal) and proof bundle must show the other owner's run.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVNET_KEYS } from '../../app/chain/index.ts';
import { sodium } from '../../app/crypto/index.ts';
import { PLANTED_RISK_MODEL, plantedRiskCsvLines } from '../../app/synthetic/planted-risk.ts';
import { Vault } from '../../app/vault/index.ts';
import { auditDataset, type ChainSource } from '../../app/audit/index.ts';
import { enclaveApp } from '../apps/index.ts';
import { MODEL_SCHEMA } from '../apps/train-risk-model/model.ts';
import { RateLimiter } from '../key-release/index.ts';
import {
  grantAccess,
  grantModel,
  publishDataset,
  publishModel,
  runSimulatedMultiEnclave,
  startDevnetEnvironment,
  startModelProvider,
  type DevnetEnvironment,
  type ModelProvider,
} from './index.ts';
import { exportUsageProof, verifyUsageProof } from '../../app/proofs/index.ts';

const FEATURES = ['age', 'male', 'systolic_bp', 'bmi', 'smoker'] as const;

let dir: string;
let env: DevnetEnvironment;
let lab: ModelProvider;
let source: ChainSource;
let patients: string;
let model: string;
let runs: { model: string; data: string };
let resultHash: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custos-linked-e2e-'));
  const limiter = (): RateLimiter => new RateLimiter({ burst: 1000, perSecond: 1000 });
  const [hospitalVault, providerVault] = await Promise.all([
    Vault.create(join(dir, 'hospital-vault'), 'hospital passphrase', { kdf: 'interactive' }),
    Vault.create(join(dir, 'provider-vault'), 'provider passphrase', { kdf: 'interactive' }),
  ]);
  env = await startDevnetEnvironment(join(dir, 'devnet'), hospitalVault, { limiter: limiter() });
  lab = await startModelProvider(env, join(dir, 'provider'), providerVault, {
    limiter: limiter(),
  });
  const csv = join(dir, 'patients.csv');
  await writeFile(csv, [...plantedRiskCsvLines(500, 3)].join(''));
  patients = (await publishDataset(env, csv, { label: 'Admissions' })).datasetId.toLowerCase();
  const modelFile = join(dir, 'model.json');
  await writeFile(
    modelFile,
    JSON.stringify({
      schema: MODEL_SCHEMA,
      kind: 'logistic-regression',
      outcome: { variable: 'outcome' },
      features: FEATURES.map((name) => ({ name, mean: 0, scale: 1 })),
      intercept: PLANTED_RISK_MODEL.intercept,
      weights: FEATURES.map((f) => PLANTED_RISK_MODEL.coefficients[f]),
    }),
  );
  model = (await publishModel(lab, modelFile, { label: 'Risk model' })).datasetId.toLowerCase();
  const measurement = await enclaveApp('infer').measurement();
  const now = (await env.devnet.provider.getBlock('latest'))!.timestamp;
  const window = { notBefore: now - 60, notAfter: now + 3600 };
  const grants = {
    model: await grantModel(lab, model, {
      measurements: [measurement],
      ...window,
      maxRuns: 1,
      grantee: new Wallet(DEVNET_KEYS.relayer).address,
    }),
    data: await grantAccess(env, patients, { measurements: [measurement], ...window, maxRuns: 1 }),
  };
  const inference = await runSimulatedMultiEnclave({
    app: 'infer',
    grants: {
      model: { grantId: grants.model, keyReleaseUrl: lab.keyRelease.url },
      data: { grantId: grants.data, keyReleaseUrl: env.keyRelease.url },
    },
    params: {},
    consumerPublicKey: (await sodium()).boxKeypair().publicKey,
    ipfs: [...env.descriptor.ipfs, ...lab.descriptor.ipfs],
    simulationKey: env.simulationKey,
    relayer: env.relayer,
  });
  const byRole = new Map(inference.runs.map((r) => [r.role, r.runId.toLowerCase()]));
  runs = { model: byRole.get('model')!, data: byRole.get('data')! };
  resultHash = inference.resultHash.toLowerCase();
  source = {
    provider: env.devnet.provider,
    chainId: env.devnet.chainId,
    registry: env.devnet.registry,
    startBlock: env.devnet.startBlock,
  };
}, 120_000);

afterAll(async () => {
  await lab?.close();
  await env?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a real two-party inference run, seen by each owner', () => {
  it('each owner’s timeline (with its own journal) links the other owner’s run, without anomalies', async () => {
    for (const [dataset, journalPath, own, other, otherDataset] of [
      [patients, env.journalPath, runs.data, runs.model, model],
      [model, lab.journalPath, runs.model, runs.data, patients],
    ] as const) {
      const t = await auditDataset(source, dataset, { journalPath });
      const entries = t.entries.filter((e) => e.runId === own && e.source === 'chain');
      expect(entries.map((e) => e.kind)).toEqual(['run-opened', 'run-closed']);
      for (const e of entries)
        expect(e.linkedRuns).toMatchObject([
          {
            runId: other,
            datasetId: otherDataset,
            resultHash,
            by: ['enclave-key', 'result-hash'],
          },
        ]);
      expect(t.anomalies).toEqual([]);
    }
  });

  it('each owner’s bundle (with its own journal excerpt) carries and verifies the linked run', async () => {
    for (const [dataset, journalPath, own, other] of [
      [patients, env.journalPath, runs.data, runs.model],
      [model, lab.journalPath, runs.model, runs.data],
    ] as const) {
      const bundle = await exportUsageProof(source, dataset, { journalPath });
      expect(bundle.linkedRuns?.map((l) => [l.linkedTo, l.runId])).toEqual([[own, other]]);
      const report = await verifyUsageProof(JSON.parse(JSON.stringify(bundle)), {
        provider: env.devnet.provider,
      });
      expect(report.failures).toEqual([]);
      expect(report.checks['linked-run'].checked).toBe(4);
    }
  });
});
