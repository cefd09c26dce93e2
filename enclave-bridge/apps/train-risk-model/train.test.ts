import { describe, expect, it } from 'vitest';
import {
  PLANTED_AS_OF,
  PLANTED_RISK_MODEL,
  plantedRiskCsvLines,
  plantedRiskFhirLines,
  plantedRiskPatients,
} from '../../../app/synthetic/planted-risk.ts';
import { syntheticCsvLines } from '../../../app/synthetic/index.ts';
import { auc } from './metrics.ts';
import { parseModel, predictRisk } from './model.ts';
import { train, splitPoint, type TrainParams } from './index.ts';
import { collectBundle } from '../cohort-stats/measurement.ts';
import { measurement as cohortStatsMeasurement } from '../cohort-stats/measurement.ts';
import { APP_PATH, measurement } from './measurement.ts';

const now = new Date('2025-03-01T00:00:00Z');
const FEATURES = ['age', 'male', 'systolic_bp', 'bmi', 'smoker'] as const;
const enc = new TextEncoder();
async function* bytes(lines: Iterable<string>): AsyncGenerator<Uint8Array> {
  await Promise.resolve();
  let buf = '';
  for (const line of lines) {
    buf += line;
    if (buf.length > 65536) {
      yield enc.encode(buf);
      buf = '';
    }
  }
  if (buf) yield enc.encode(buf);
}
const params = (extra: Partial<TrainParams> = {}): TrainParams => ({
  outcome: { variable: 'outcome' },
  features: [...FEATURES],
  ...extra,
});
const tagOf = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'resolved',
    (e: unknown) => (e as { tag?: string }).tag ?? 'untagged',
  );

/** The standard deviation of each planted feature in the population (for a scale-free tolerance). */
function featureSds(n: number): Record<string, number> {
  const sums: Record<string, [number, number]> = {};
  for (const p of plantedRiskPatients(n)) {
    for (const f of FEATURES) {
      const [s, s2] = sums[f] ?? [0, 0];
      sums[f] = [s + p[f], s2 + p[f] ** 2];
    }
  }
  return Object.fromEntries(
    FEATURES.map((f) => {
      const [s, s2] = sums[f] as [number, number];
      return [f, Math.sqrt(s2 / n - (s / n) ** 2)];
    }),
  );
}

// Tolerance stated in docs/ai-apps.md: on 20 000 planted patients each recovered coefficient is
// within 0.1 of the truth per standard deviation of its feature (≈ 6 standard errors), and the
// held-out AUC within 0.02 of the AUC of the true risks on the same patients.
const N = 20_000;
const TOLERANCE_PER_SD = 0.1;

describe('train-risk-model recovers a planted signal', () => {
  it('CSV: coefficients within tolerance of the planted ones, held-out AUC near the true risks’ AUC, calibrated', async () => {
    const model = await train(bytes(plantedRiskCsvLines(N)), params(), { now });
    const sd = featureSds(N);
    for (const f of FEATURES) {
      const got = model.coefficients?.[f] as number;
      expect(
        Math.abs(got - PLANTED_RISK_MODEL.coefficients[f]) * (sd[f] as number),
        f,
      ).toBeLessThan(TOLERANCE_PER_SD);
    }
    const held = model.card.metrics.heldOut;
    const patients = [...plantedRiskPatients(N)].filter((p) => splitPoint(1, p.id) < 0.2);
    const bayes = auc(
      patients.map((p) => p.risk),
      patients.map((p) => p.outcome),
    ) as number;
    expect(held.patients).toBe(patients.length);
    expect(Math.abs((held.auc as number) - bayes)).toBeLessThan(0.02);
    expect(held.expectedCalibrationError).toBeLessThan(0.03);
    expect(model.card.split.training + model.card.split.heldOut).toBe(N);
    expect(model.card.protection.dpSgd).toBeNull();
    expect(model.card.method['converged']).toBe(true);
    // The output parses as a model, and predicts as the fitted coefficients say.
    const parsed = parseModel(enc.encode(JSON.stringify(model)));
    const x = Float64Array.from([60, 1, 140, 30, 1]);
    const raw = Object.entries(model.coefficients ?? {}).reduce(
      (z, [k, v]) =>
        z + (k === '(intercept)' ? v : v * (x[FEATURES.indexOf(k as 'age')] as number)),
      0,
    );
    expect(predictRisk(parsed, x)).toBeCloseTo(1 / (1 + Math.exp(-raw)), 5);
  });

  it('FHIR: the outcome is a Condition (ICD-10 I50), features from Patient and Observations; same signal', async () => {
    const model = await train(
      bytes(plantedRiskFhirLines(N)),
      params({ outcome: { condition: 'I50' }, asOf: PLANTED_AS_OF }),
      { now },
    );
    const sd = featureSds(N);
    for (const f of FEATURES) {
      expect(
        Math.abs((model.coefficients?.[f] as number) - PLANTED_RISK_MODEL.coefficients[f]) *
          (sd[f] as number),
        f,
      ).toBeLessThan(TOLERANCE_PER_SD);
    }
    expect(model.card.dataset).toEqual({ format: 'fhir-ndjson', patients: N, incomplete: 0 });
  });

  it('the split is deterministic (same seed, same model) and another seed gives another split', async () => {
    const a = await train(bytes(plantedRiskCsvLines(2000)), params(), { now });
    const b = await train(bytes(plantedRiskCsvLines(2000)), params(), { now });
    const c = await train(bytes(plantedRiskCsvLines(2000)), params({ split: { seed: 99 } }), {
      now,
    });
    expect(b.weights).toEqual(a.weights);
    expect(c.card.split.heldOut).not.toBe(a.card.split.heldOut);
  });

  it('DP-SGD: the card says what was applied; the noisy model still finds the signal’s direction', async () => {
    const model = await train(
      bytes(plantedRiskCsvLines(N)),
      params({ dpSgd: { noiseMultiplier: 1, clipNorm: 1, epochs: 3, batchSize: 500 } }),
      { now },
    );
    expect(model.card.protection.dpSgd).toMatchObject({
      noiseMultiplier: 1,
      clipNorm: 1,
      epochs: 3,
      batchSize: 500,
      steps: 3 * Math.ceil(model.card.split.training / 500),
    });
    expect(model.card.protection.note).toMatch(/No \(ε, δ\) is claimed/);
    for (const f of FEATURES) expect(model.coefficients?.[f], f).toBeGreaterThan(0);
    expect(model.card.metrics.heldOut.auc).toBeGreaterThan(0.7);
    // More noise, a different (worse-fitting) model: the noise is really applied.
    const noisier = await train(
      bytes(plantedRiskCsvLines(N)),
      params({ dpSgd: { noiseMultiplier: 20, clipNorm: 1, epochs: 3, batchSize: 500 } }),
      { now },
    );
    expect(noisier.card.metrics.heldOut.logLoss).toBeGreaterThan(
      model.card.metrics.heldOut.logLoss,
    );
  });

  it('calibration cells under the minimum cell size are suppressed, never counted', async () => {
    const model = await train(bytes(plantedRiskCsvLines(400)), params({ minCellSize: 30 }), {
      now,
    });
    const bins = model.card.metrics.heldOut.calibration;
    expect(bins.some((b) => b.patients === 'suppressed')).toBe(true);
    for (const b of bins) {
      if (typeof b.patients === 'number') expect(b.patients === 0 || b.patients >= 30).toBe(true);
      else expect(b.observedRate).toBeNull();
    }
  });

  it('trains on the cohort CSV (readmitted_30d) too', async () => {
    const model = await train(
      bytes(syntheticCsvLines(3000, { seed: 5 })),
      params({
        outcome: { variable: 'readmitted_30d' },
        features: ['age', 'smoker', 'systolic_bp'],
      }),
      { now },
    );
    // The generator raises readmission above age 70 and for smokers.
    expect(model.coefficients?.['age']).toBeGreaterThan(0);
    expect(model.card.metrics.heldOut.patients).toBeGreaterThan(400);
  });
});

describe('train-risk-model refuses bad input with a named reason', () => {
  it('a cohort under the minimum → CohortTooSmall', async () => {
    expect(
      await tagOf(train(bytes(plantedRiskCsvLines(60)), params({ minCohort: 100 }), { now })),
    ).toBe('CohortTooSmall');
  });
  it('a feature the dataset lacks → FeatureMissing', async () => {
    expect(
      await tagOf(
        train(bytes(plantedRiskCsvLines(100)), params({ features: ['age', 'hba1c'] }), { now }),
      ),
    ).toBe('FeatureMissing');
  });
  it('an outcome that is not 0/1 → MalformedRecord', async () => {
    expect(
      await tagOf(
        train(
          bytes(plantedRiskCsvLines(100)),
          params({ outcome: { variable: 'age' }, features: ['bmi'] }),
          { now },
        ),
      ),
    ).toBe('MalformedRecord');
  });
  it('bad parameters → UsageError', async () => {
    for (const bad of [
      {},
      { ...params(), minCohort: 3 },
      { ...params(), features: [] },
      { ...params(), surprise: 1 },
      { ...params(), features: ['age'], outcome: { variable: 'age' } },
    ]) {
      expect(
        await tagOf(train(bytes(plantedRiskCsvLines(100)), bad, { now })),
        JSON.stringify(bad),
      ).toBe('UsageError');
    }
  });
});

describe('train-risk-model’s measurement', () => {
  it('covers its folder and the readers it imports (not its tests), and is not cohort-stats’', async () => {
    const files = [...(await collectBundle(undefined, APP_PATH)).files.keys()];
    expect(files).toEqual(
      expect.arrayContaining([
        'enclave-bridge/apps/train-risk-model/index.ts',
        'enclave-bridge/apps/train-risk-model/logistic.ts',
        'enclave-bridge/apps/cohort-stats/csv.ts',
        'app/errors/index.ts',
      ]),
    );
    expect(files.some((f) => f.endsWith('.test.ts'))).toBe(false);
    expect(await measurement()).not.toBe(await cohortStatsMeasurement());
  });
});
