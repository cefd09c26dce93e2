// Training time of the train-risk-model enclave app per 100 000 patient records (CSV, 5 features,
// the planted-signal generator), end to end as the app runs it: parse → split → fit → held-out
// metrics. Baseline in the same run: reading the same bytes into the patient table alone, so the
// ratio says how much the model itself costs on top of the parse. Also DP-SGD (5 epochs) and
// inference (infer app) on the same records.
import { performance } from 'node:perf_hooks';
import {
  PLANTED_AS_OF,
  PLANTED_RISK_MODEL,
  plantedRiskCsvLines,
  plantedRiskFhirLines,
} from '../app/synthetic/planted-risk.ts';
import { infer } from '../enclave-bridge/apps/infer/index.ts';
import { train } from '../enclave-bridge/apps/train-risk-model/index.ts';
import { MODEL_SCHEMA } from '../enclave-bridge/apps/train-risk-model/model.ts';
import { readPatientTable } from '../enclave-bridge/apps/train-risk-model/table.ts';
import type { Benchmark, Figure } from './bench.ts';

const RECORDS = 100_000;
const FEATURES = ['age', 'male', 'systolic_bp', 'bmi', 'smoker'] as const;
const now = new Date('2025-03-01T00:00:00Z');

/** The CSV in 64 KiB chunks, as the decrypting stream hands them to the app. */
async function* chunks(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += 65_536) {
    await Promise.resolve();
    yield bytes.subarray(i, i + 65_536);
  }
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await run();
  return (performance.now() - t0) / 1000;
}

export const benchmark: Benchmark = {
  name: 'train-risk-model (100k records)',
  async run(ctx) {
    const csv = new TextEncoder().encode([...plantedRiskCsvLines(RECORDS, 3)].join(''));
    ctx.log(`${String(RECORDS)} planted records, ${(csv.length / 1e6).toFixed(1)} MB of CSV`);
    const params = { outcome: { variable: 'outcome' }, features: [...FEATURES] };
    const parse = await timed(() => readPatientTable(chunks(csv), '2025-01-01'));
    const newton = await timed(() => train(chunks(csv), params, { now }));
    const dp = await timed(() =>
      train(chunks(csv), { ...params, dpSgd: { epochs: 5, batchSize: 256 } }, { now }),
    );
    const fhir = new TextEncoder().encode([...plantedRiskFhirLines(RECORDS, 3)].join(''));
    const fhirTrain = await timed(() =>
      train(
        chunks(fhir),
        { ...params, outcome: { condition: 'I50' }, asOf: PLANTED_AS_OF },
        { now },
      ),
    );
    const model = {
      schema: MODEL_SCHEMA,
      kind: 'logistic-regression',
      outcome: { variable: 'outcome' },
      features: FEATURES.map((name) => ({ name, mean: 0, scale: 1 })),
      intercept: PLANTED_RISK_MODEL.intercept,
      weights: FEATURES.map((f) => PLANTED_RISK_MODEL.coefficients[f]),
    };
    const runIds = { model: '0x', data: '0x' };
    const scoring = await timed(() =>
      infer(
        { model: chunks(new TextEncoder().encode(JSON.stringify(model))), data: chunks(csv) },
        {},
        { now, runIds },
      ),
    );
    const baseline = {
      name: 'parse 100k CSV records into the patient table',
      value: parse,
      unit: 's',
    };
    const figures: Figure[] = [
      baseline,
      {
        name: 'train (Newton) per 100k records: parse + split + fit + metrics',
        value: newton,
        unit: 's',
        baseline,
        ratio: newton / parse,
        goal: '≤ 4× the parse baseline',
        pass: newton <= 4 * parse,
      },
      {
        name: 'train (DP-SGD, 5 epochs, batch 256) per 100k records',
        value: dp,
        unit: 's',
        baseline,
        ratio: dp / parse,
        goal: '≤ 8× the parse baseline',
        pass: dp <= 8 * parse,
      },
      {
        name: `train (Newton) per 100k FHIR patients (${(fhir.length / 1e6).toFixed(0)} MB NDJSON)`,
        value: fhirTrain,
        unit: 's',
      },
      {
        name: 'infer (score + aggregates) per 100k records',
        value: scoring,
        unit: 's',
        baseline,
        ratio: scoring / parse,
      },
    ];
    for (const f of figures) ctx.log(`${f.name}: ${f.value.toFixed(2)} ${f.unit}`);
    return figures;
  },
};
