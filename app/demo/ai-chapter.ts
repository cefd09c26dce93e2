/**
 * The demo's optional AI chapter (`custos demo --ai`): a research lab trains a risk model on the
 * hospital's records inside the enclave; then a model provider's encrypted model runs on the
 * hospital's records, each owner releasing its own key through its own key-release service.
 * Owner actions here use the devnet keys directly, to keep the chapter short (the main story shows
 * the Ledger-signed path).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { DEVNET_KEYS } from '../chain/index.ts';
import { sodium } from '../crypto/index.ts';
import { auditDataset } from '../audit/index.ts';
import { CustosError } from '../errors/index.ts';
import { plantedRiskCsvLines } from '../synthetic/planted-risk.ts';
import { Vault } from '../vault/index.ts';
import { enclaveApp } from '../../enclave-bridge/apps/index.ts';
import {
  grantAccess,
  grantModel,
  publishDataset,
  publishModel,
  runSimulatedEnclave,
  runSimulatedMultiEnclave,
  startModelProvider,
  type DevnetEnvironment,
} from '../../enclave-bridge/simulator/index.ts';

const FEATURES = ['age', 'male', 'systolic_bp', 'bmi', 'smoker'];

async function open<T>(
  sealed: Uint8Array,
  box: { publicKey: Uint8Array; secretKey: Uint8Array },
): Promise<T> {
  const opened = (await sodium()).boxSealOpen(sealed, box.publicKey, box.secretKey);
  if (!opened) throw new CustosError('Internal', 'a sealed result did not open');
  return JSON.parse(new TextDecoder().decode(opened)) as T;
}

export async function aiChapter(
  env: DevnetEnvironment,
  dir: string,
  say: (line: string) => void,
  step: (title: string) => void,
): Promise<void> {
  const now = Math.floor(
    (await env.devnet.provider.getBlock('latest'))?.timestamp ?? Date.now() / 1000,
  );
  const window = { notBefore: now - 60, notAfter: now + 30 * 86400 };
  const s = await sodium();

  step('AI: train a readmission-risk model in the SIMULATED enclave');
  const records = join(dir, 'readmissions.csv');
  await writeFile(records, [...plantedRiskCsvLines(4000, 11)].join(''));
  const training = await publishDataset(env, records, { label: 'Readmissions (synthetic)' });
  const trainGrant = await grantAccess(env, training.datasetId, {
    measurements: [await enclaveApp('train-risk-model').measurement()],
    ...window,
    maxRuns: 1,
  });
  const provider = s.boxKeypair();
  const trained = await runSimulatedEnclave({
    app: 'train-risk-model',
    grantId: trainGrant,
    params: { outcome: { variable: 'outcome' }, features: FEATURES },
    consumerPublicKey: provider.publicKey,
    keyReleaseUrl: env.keyRelease.url,
    ipfs: env.descriptor.ipfs,
    simulationKey: env.simulationKey,
    relayer: env.relayer,
  });
  const model = await open<{
    card: { metrics: { heldOut: { auc: number | null; patients: number } } };
  }>(trained.sealedResult, provider);
  const modelFile = join(dir, 'risk-model.json');
  await writeFile(modelFile, JSON.stringify(model), { mode: 0o600 });
  const heldOut = model.card.metrics.heldOut;
  say(`run ${trained.runId.slice(0, 18)}… trained logistic regression on ${FEATURES.join(', ')}`);
  say(
    `held-out AUC ${heldOut.auc?.toFixed(3) ?? 'n/a'} on ${heldOut.patients} patients; model sealed to the lab → risk-model.json`,
  );

  step(
    'AI: the lab rents its model out — run it on the hospital’s records, neither side sees the other’s asset',
  );
  const providerVault = await Vault.create(join(dir, 'provider-vault'), 'provider demo passphrase');
  const lab = await startModelProvider(env, join(dir, 'provider'), providerVault);
  try {
    const { datasetId: modelId } = await publishModel(lab, modelFile, {
      label: 'Readmission risk model',
    });
    const inferMeasurement = await enclaveApp('infer').measurement();
    const modelGrant = await grantModel(lab, modelId, {
      measurements: [inferMeasurement],
      ...window,
      maxRuns: 1,
      grantee: new Wallet(DEVNET_KEYS.relayer).address,
    });
    // New patients, not the ones the model was trained on.
    const newRecords = join(dir, 'admissions-2026.csv');
    await writeFile(newRecords, [...plantedRiskCsvLines(3000, 12)].join(''));
    const admissions = await publishDataset(env, newRecords, {
      label: 'Admissions 2026 (synthetic)',
    });
    const dataGrant = await grantAccess(env, admissions.datasetId, {
      measurements: [inferMeasurement],
      ...window,
      maxRuns: 1,
    });
    const consumer = s.boxKeypair();
    const inference = await runSimulatedMultiEnclave({
      app: 'infer',
      grants: {
        model: { grantId: modelGrant, keyReleaseUrl: lab.keyRelease.url },
        data: { grantId: dataGrant, keyReleaseUrl: env.keyRelease.url },
      },
      consumerPublicKey: consumer.publicKey,
      ipfs: [...env.descriptor.ipfs, ...lab.descriptor.ipfs],
      simulationKey: env.simulationKey,
      relayer: env.relayer,
    });
    const result = await open<{
      riskDistribution: { mean: number };
      observed: { auc: number | null } | null;
      dataset: { scored: number };
    }>(inference.sealedResult, consumer);
    for (const r of inference.runs)
      say(`${r.role} key released by its owner’s service; run ${r.runId.slice(0, 18)}… closed`);
    say(
      `scored ${result.dataset.scored} patients: mean predicted risk ${(100 * result.riskDistribution.mean).toFixed(1)} %, AUC vs observed ${result.observed?.auc?.toFixed(3) ?? 'n/a'}`,
    );
    say(
      'the consumer got aggregates only; the hospital never saw the model, the lab never saw a record',
    );
    // The hospital's audit trail shows its run linked to the lab's run of the same enclave run.
    const timeline = await auditDataset(
      {
        provider: env.devnet.provider,
        chainId: env.devnet.chainId,
        registry: env.devnet.registry,
        startBlock: env.devnet.startBlock,
      },
      admissions.datasetId,
      { journalPath: env.journalPath, devnet: true },
    );
    const linked = timeline.entries.find((e) => e.kind === 'run-closed' && e.linkedRuns.length > 0);
    if (!linked)
      throw new CustosError('Internal', 'the hospital’s audit trail does not link the lab’s run');
    say(`hospital’s audit trail: ${linked.what}`);
  } finally {
    await lab.close();
    providerVault.lock();
  }
}
