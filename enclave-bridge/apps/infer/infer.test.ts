import { describe, expect, it } from 'vitest';
import {
  PLANTED_AS_OF,
  PLANTED_RISK_MODEL,
  plantedRiskCsvLines,
  plantedRiskFhirLines,
  plantedRiskPatients,
} from '../../../app/synthetic/planted-risk.ts';
import { syntheticCsvLines } from '../../../app/synthetic/index.ts';
import { MODEL_SCHEMA } from '../train-risk-model/model.ts';
import { collectBundle } from '../cohort-stats/measurement.ts';
import { measurement as trainMeasurement } from '../train-risk-model/measurement.ts';
import { infer } from './index.ts';
import { APP_PATH, measurement } from './measurement.ts';

const now = new Date('2025-03-01T00:00:00Z');
const runIds = { model: `0x${'aa'.repeat(32)}`, data: `0x${'bb'.repeat(32)}` };
const enc = new TextEncoder();
async function* bytes(text: string | Iterable<string>): AsyncGenerator<Uint8Array> {
  await Promise.resolve();
  yield enc.encode(typeof text === 'string' ? text : [...text].join(''));
}
const tagOf = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'resolved',
    (e: unknown) => (e as { tag?: string }).tag ?? 'untagged',
  );

/** The planted model itself, written as a custos.risk-model/1 file (standardisation: none). */
const FEATURES = ['age', 'male', 'systolic_bp', 'bmi', 'smoker'] as const;
const plantedModel = {
  schema: MODEL_SCHEMA,
  kind: 'logistic-regression',
  outcome: { variable: 'outcome' },
  features: FEATURES.map((name) => ({ name, mean: 0, scale: 1 })),
  intercept: PLANTED_RISK_MODEL.intercept,
  weights: FEATURES.map((f) => PLANTED_RISK_MODEL.coefficients[f]),
};

describe('infer: aggregates of a model’s predictions on a patient dataset', () => {
  it('the true model on its own population: mean risk equals the true mean risk, calibrated, both runs named', async () => {
    const n = 5000;
    const result = await infer(
      { model: bytes(JSON.stringify(plantedModel)), data: bytes(plantedRiskCsvLines(n)) },
      {},
      { now, runIds },
    );
    const truth = [...plantedRiskPatients(n)];
    const meanRisk = truth.reduce((a, p) => a + p.risk, 0) / n;
    expect(result.runs).toEqual(runIds);
    expect(result.dataset).toEqual({ format: 'csv', patients: n, scored: n });
    expect(result.riskDistribution.mean).toBeCloseTo(meanRisk, 3);
    expect(result.observed?.expectedCalibrationError).toBeLessThan(0.03);
    expect(result.observed?.patients).toBe(n);
    const q = result.riskDistribution.quantiles;
    expect(q.p10 <= q.p50 && q.p50 <= q.p90).toBe(true);
    // Only aggregates: no per-patient value, no weight in the result.
    const text = JSON.stringify(result);
    expect(text).not.toContain('R100000');
    expect(text).not.toContain(String(PLANTED_RISK_MODEL.intercept));
  });

  it('reads FHIR with a condition outcome', async () => {
    const result = await infer(
      {
        model: bytes(JSON.stringify({ ...plantedModel, outcome: { condition: 'I50' } })),
        data: bytes(plantedRiskFhirLines(1000)),
      },
      { asOf: PLANTED_AS_OF },
      { now, runIds },
    );
    expect(result.observed?.outcome).toBe('condition ICD-10 I50');
    expect(result.observed?.auc).toBeGreaterThan(0.7);
  });

  it('a dataset without the outcome: risk distribution only', async () => {
    const result = await infer(
      {
        model: bytes(
          JSON.stringify({
            ...plantedModel,
            features: [{ name: 'age', mean: 50, scale: 10 }],
            weights: [1],
          }),
        ),
        data: bytes(syntheticCsvLines(200, { seed: 3 })),
      },
      {},
      { now, runIds },
    );
    expect(result.observed).toBeNull();
    expect(
      result.riskDistribution.bins.reduce(
        (a, b) => a + (typeof b.patients === 'number' ? b.patients : 0),
        0,
      ),
    ).toBeLessThanOrEqual(200);
  });

  it('a model that does not parse → ModelMalformed, before the dataset is read', async () => {
    let read = false;
    async function* data(): AsyncGenerator<Uint8Array> {
      await Promise.resolve();
      read = true;
      yield enc.encode('a\n1\n');
    }
    for (const bad of [
      'not json',
      '{}',
      JSON.stringify({ ...plantedModel, weights: [1] }),
      JSON.stringify({ ...plantedModel, schema: 'custos.risk-model/9' }),
      JSON.stringify({
        ...plantedModel,
        features: [...plantedModel.features, plantedModel.features[0]],
        weights: [...plantedModel.weights, 1],
      }),
    ]) {
      expect(
        await tagOf(infer({ model: bytes(bad), data: data() }, {}, { now, runIds })),
        bad,
      ).toBe('ModelMalformed');
    }
    expect(read).toBe(false);
  });

  it('a model whose features the dataset lacks → FeatureMissing naming them', async () => {
    const error = await infer(
      {
        model: bytes(
          JSON.stringify({
            ...plantedModel,
            features: [{ name: 'hba1c', mean: 0, scale: 1 }],
            weights: [1],
          }),
        ),
        data: bytes(plantedRiskCsvLines(100)),
      },
      {},
      { now, runIds },
    ).catch((e: unknown) => e as { tag: string; message: string });
    expect(error).toMatchObject({ tag: 'FeatureMissing' });
    expect((error as { message: string }).message).toContain('hba1c');
  });

  it('too few patients → CohortTooSmall; bad parameters → UsageError', async () => {
    expect(
      await tagOf(
        infer(
          { model: bytes(JSON.stringify(plantedModel)), data: bytes(plantedRiskCsvLines(15)) },
          {},
          { now, runIds },
        ),
      ),
    ).toBe('CohortTooSmall');
    expect(
      await tagOf(
        infer(
          { model: bytes(JSON.stringify(plantedModel)), data: bytes(plantedRiskCsvLines(15)) },
          { minCellSize: 1 },
          { now, runIds },
        ),
      ),
    ).toBe('UsageError');
  });
});

describe('infer’s measurement', () => {
  it('covers the model format and readers it imports from train-risk-model, and differs from train-risk-model’s', async () => {
    const bundle = await collectBundle(undefined, APP_PATH);
    expect([...bundle.files.keys()]).toEqual(
      expect.arrayContaining([
        'enclave-bridge/apps/infer/index.ts',
        'enclave-bridge/apps/train-risk-model/model.ts',
        'enclave-bridge/apps/train-risk-model/table.ts',
        'app/errors/index.ts',
      ]),
    );
    expect([...bundle.files.keys()].some((p) => p.endsWith('.test.ts'))).toBe(false);
    expect(await measurement()).toMatch(/^0x[0-9a-f]{64}$/);
    expect(await measurement()).not.toBe(await trainMeasurement());
  });
});
