/**
 * infer: runs a model provider's risk model (itself a Custos dataset) on a hospital's patient
 * dataset inside the enclave, and returns only aggregates to the consumer — the distribution of
 * predicted risk and, where the dataset records the outcome, calibration and discrimination against
 * it. Neither the weights nor any patient's prediction leave; small cells are suppressed.
 */
import { z } from 'zod';
import { CustosError } from '../../../app/errors/index.ts';
import {
  calibrationBins,
  metrics,
  type CalibrationBin,
  type Metrics,
} from '../train-risk-model/metrics.ts';
import {
  OutcomeSchema,
  featureVector,
  parseModel,
  predictRisk,
  requireFeatures,
} from '../train-risk-model/model.ts';
import { describeOutcome, outcomeOf, readPatientTable } from '../train-risk-model/table.ts';

export const APP_NAME = 'infer';
export const APP_VERSION = '1.0.0';
export const RESULT_SCHEMA = 'custos.infer.result/1';
/** The datasets infer reads, in the order their keys are released: a refused model never opens a run on the patients. */
export const ROLES = ['model', 'data'] as const;
/** A model file larger than this is refused (a model is small; this bounds enclave memory). */
export const MAX_MODEL_BYTES = 4 * 1024 * 1024;
/** Quantiles of a tiny cohort would be individual predictions: at least this many are scored. */
export const MIN_COHORT_FLOOR = 20;
export const MIN_CELL_SIZE_FLOOR = 5;

export const InferParamsSchema = z.strictObject({
  /** The outcome to check calibration against (default: the model's own). */
  outcome: OutcomeSchema.optional(),
  /** The date FHIR ages are computed at (default: the run's date). */
  asOf: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .optional(),
  bins: z.number().int().min(2).max(50).default(10),
  minCohort: z.number().int().min(MIN_COHORT_FLOOR).default(50),
  minCellSize: z.number().int().min(MIN_CELL_SIZE_FLOOR).default(10),
});

export interface InferResult {
  readonly schema: typeof RESULT_SCHEMA;
  readonly app: string;
  readonly appVersion: string;
  readonly computedAt: string;
  /** Both runs of this inference: the model provider's and the hospital's. */
  readonly runs: { readonly model: string; readonly data: string };
  readonly model: {
    readonly kind: string;
    readonly features: readonly string[];
    readonly outcome: string;
  };
  readonly dataset: { readonly format: string; readonly patients: number; readonly scored: number };
  readonly riskDistribution: {
    readonly mean: number;
    readonly quantiles: Readonly<Record<'p10' | 'p25' | 'p50' | 'p75' | 'p90', number>>;
    readonly bins: readonly Omit<CalibrationBin, 'observedRate'>[];
  };
  /** Against the observed outcome, when the dataset records it; null otherwise. */
  readonly observed: (Metrics & { readonly outcome: string }) | null;
}

async function readAll(input: AsyncIterable<Uint8Array>, limit: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of input) {
    size += chunk.byteLength;
    if (size > limit) {
      throw new CustosError('ModelMalformed', `the model is larger than ${String(limit)} bytes`);
    }
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

const round = (x: number): number => Math.round(x * 10_000) / 10_000;

/**
 * Scores the patient dataset with the model.
 * @throws CustosError `UsageError` (parameters), `ModelMalformed`, `MalformedRecord` (dataset),
 *   `FeatureMissing` (the dataset lacks a model feature), `CohortTooSmall`.
 */
export async function infer(
  inputs: { readonly model: AsyncIterable<Uint8Array>; readonly data: AsyncIterable<Uint8Array> },
  rawParams: unknown,
  context: {
    readonly now: Date;
    readonly runIds: { readonly model: string; readonly data: string };
  },
): Promise<InferResult> {
  const parsed = InferParamsSchema.safeParse(rawParams ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CustosError(
      'UsageError',
      `infer parameters: ${issue?.path.join('.') || 'params'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  const params = parsed.data;
  // The model is read (and checked) in full before the first patient record is looked at.
  const model = parseModel(await readAll(inputs.model, MAX_MODEL_BYTES));
  const table = await readPatientTable(
    inputs.data,
    params.asOf ?? context.now.toISOString().slice(0, 10),
  );
  requireFeatures(model, table);
  const outcome = params.outcome ?? model.outcome;
  const hasOutcome = 'condition' in outcome || table.variables.has(outcome.variable);
  const names = model.features.map((f) => f.name);

  const risks: number[] = [];
  const outcomes: number[] = [];
  for (const row of table.rows) {
    const x = featureVector(names, row);
    if (x === null) continue;
    const y = hasOutcome ? outcomeOf(row, outcome) : null;
    if (hasOutcome && y === null) continue;
    risks.push(predictRisk(model, x));
    if (y !== null) outcomes.push(y);
  }
  if (risks.length < params.minCohort) {
    throw new CustosError(
      'CohortTooSmall',
      `fewer than ${String(params.minCohort)} patients have every feature of the model`,
      { details: { minCohort: params.minCohort } },
    );
  }
  const sorted = [...risks].sort((a, b) => a - b);
  const q = (f: number): number =>
    round(sorted[Math.min(sorted.length - 1, Math.floor(f * sorted.length))] as number);
  const { bins } = calibrationBins(risks, null, params.bins, params.minCellSize);
  return {
    schema: RESULT_SCHEMA,
    app: APP_NAME,
    appVersion: APP_VERSION,
    computedAt: context.now.toISOString(),
    runs: { model: context.runIds.model, data: context.runIds.data },
    model: { kind: model.kind, features: names, outcome: describeOutcome(model.outcome) },
    dataset: { format: table.format, patients: table.rows.length, scored: risks.length },
    riskDistribution: {
      mean: round(risks.reduce((a, b) => a + b, 0) / risks.length),
      quantiles: { p10: q(0.1), p25: q(0.25), p50: q(0.5), p75: q(0.75), p90: q(0.9) },
      bins: bins.map(({ from, to, patients, meanPredicted }) => ({
        from,
        to,
        patients,
        meanPredicted,
      })),
    },
    observed: hasOutcome
      ? {
          outcome: describeOutcome(outcome),
          ...metrics(risks, outcomes, { bins: params.bins, minCellSize: params.minCellSize }),
        }
      : null,
  };
}
