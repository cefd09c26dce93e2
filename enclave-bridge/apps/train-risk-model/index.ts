/**
 * train-risk-model: inside the enclave, trains a logistic-regression risk model on the patient
 * dataset for an outcome chosen in the run parameters, and returns the model (standardised
 * weights) with its model card: features, training size, held-out metrics (AUC, accuracy, Brier,
 * calibration) and the memorisation protection applied. No record leaves: the card holds only
 * aggregates, with small calibration cells suppressed.
 */
import { z } from 'zod';
import { CustosError } from '../../../app/errors/index.ts';
import { fitDpSgd, fitNewton, predict, standardise, standardiser } from './logistic.ts';
import { metrics, type Metrics } from './metrics.ts';
import {
  MODEL_SCHEMA,
  OutcomeSchema,
  featureVector,
  requireFeatures,
  type RiskModel,
} from './model.ts';
import { describeOutcome, outcomeOf, readPatientTable } from './table.ts';

export const APP_NAME = 'train-risk-model';
export const APP_VERSION = '1.0.0';
export const CARD_SCHEMA = 'custos.model-card/1';
/** The smallest minimum cohort a consumer may ask for. */
export const MIN_COHORT_FLOOR = 20;
export const MIN_CELL_SIZE_FLOOR = 5;

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

export const TrainParamsSchema = z.strictObject({
  outcome: OutcomeSchema,
  features: z
    .array(z.string().regex(/^[a-z0-9_][a-z0-9_.-]{0,63}$/))
    .min(1)
    .max(64)
    .refine((f) => new Set(f).size === f.length, 'features must be distinct'),
  /** The date FHIR ages are computed at (default: the run's date). */
  asOf: day.optional(),
  split: z
    .strictObject({
      seed: z.number().int().min(0).max(0xffffffff).default(1),
      heldOutFraction: z.number().min(0.05).max(0.5).default(0.2),
    })
    .default({ seed: 1, heldOutFraction: 0.2 }),
  /** L2 penalty per record on the standardised weights. */
  l2: z.number().min(0).max(10).default(1e-4),
  /** Fewer training patients than this (or fewer than `minCellSize` in either class) → CohortTooSmall. */
  minCohort: z.number().int().min(MIN_COHORT_FLOOR).default(50),
  minCellSize: z.number().int().min(MIN_CELL_SIZE_FLOOR).default(10),
  calibrationBins: z.number().int().min(2).max(50).default(10),
  /** DP-SGD style protection against memorisation: per-example clipping plus Gaussian noise. */
  dpSgd: z
    .strictObject({
      clipNorm: z.number().positive().max(100).default(1),
      noiseMultiplier: z.number().min(0).max(100).default(1),
      batchSize: z.number().int().min(8).max(100_000).default(256),
      epochs: z.number().int().min(1).max(200).default(5),
      learningRate: z.number().positive().max(100).default(0.5),
      seed: z.number().int().min(0).max(0xffffffff).default(7),
    })
    .optional(),
});

export type TrainParams = z.input<typeof TrainParamsSchema>;

/** @throws CustosError `UsageError` naming the first bad parameter. */
export function parseTrainParams(value: unknown): z.output<typeof TrainParamsSchema> {
  const parsed = TrainParamsSchema.safeParse(value ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CustosError(
      'UsageError',
      `train-risk-model parameters: ${issue?.path.join('.') || 'params'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

/** FNV-1a of `seed:id` → [0, 1): the same patient always lands on the same side of the split. */
export function splitPoint(seed: number, id: string): number {
  let h = 0x811c9dc5;
  const text = `${String(seed)}:${id}`;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // One more avalanche round, so consecutive ids spread evenly.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return (h >>> 0) / 0x100000000;
}

export interface ModelCard {
  readonly schema: typeof CARD_SCHEMA;
  readonly app: string;
  readonly appVersion: string;
  readonly trainedAt: string;
  readonly outcome: string;
  readonly features: readonly string[];
  readonly dataset: {
    readonly format: string;
    readonly patients: number;
    /** Patients left out because a feature or the outcome was missing. */
    readonly incomplete: number;
  };
  readonly split: {
    readonly seed: number;
    readonly heldOutFraction: number;
    readonly training: number;
    readonly heldOut: number;
  };
  readonly method: Record<string, number | string | boolean>;
  readonly protection: {
    readonly minCohort: number;
    readonly minCellSize: number;
    readonly dpSgd: Record<string, number | string> | null;
    readonly note: string;
  };
  readonly metrics: { readonly training: Metrics; readonly heldOut: Metrics };
}

export type TrainedModel = RiskModel & { card: ModelCard };

const round = (x: number, digits = 6): number => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * Trains on a verified plaintext stream.
 * @throws CustosError `UsageError` (parameters), `MalformedRecord` (dataset), `FeatureMissing` (a
 *   feature or the outcome variable absent from the dataset), `CohortTooSmall`.
 */
export async function train(
  plaintext: AsyncIterable<Uint8Array | string>,
  rawParams: unknown,
  options: { now: Date },
): Promise<TrainedModel> {
  const params = parseTrainParams(rawParams);
  const asOf = params.asOf ?? options.now.toISOString().slice(0, 10);
  const table = await readPatientTable(plaintext, asOf);
  const names = params.features;
  requireFeatures({ features: names.map((name) => ({ name })) }, table);
  if ('variable' in params.outcome && !table.variables.has(params.outcome.variable)) {
    throw new CustosError(
      'FeatureMissing',
      `the dataset has no outcome ${params.outcome.variable}`,
      {
        details: { missing: params.outcome.variable },
      },
    );
  }
  if ('variable' in params.outcome && names.includes(params.outcome.variable)) {
    throw new CustosError('UsageError', 'the outcome cannot also be a feature');
  }

  const trainX: Float64Array[] = [];
  const trainY: number[] = [];
  const testX: Float64Array[] = [];
  const testY: number[] = [];
  let incomplete = 0;
  for (const row of table.rows) {
    const x = featureVector(names, row);
    const y = outcomeOf(row, params.outcome);
    if (x === null || y === null) {
      incomplete += 1;
      continue;
    }
    if (splitPoint(params.split.seed, row.id) < params.split.heldOutFraction) {
      testX.push(x);
      testY.push(y);
    } else {
      trainX.push(x);
      trainY.push(y);
    }
  }
  const positives = trainY.reduce((a, b) => a + b, 0);
  if (
    trainX.length < params.minCohort ||
    positives < params.minCellSize ||
    trainX.length - positives < params.minCellSize
  ) {
    // Counts below the minimum are not named: the refusal itself must not leak a small number.
    throw new CustosError(
      'CohortTooSmall',
      `the training split has fewer than ${String(params.minCohort)} complete patients, or fewer than ${String(params.minCellSize)} with or without the outcome`,
      { details: { minCohort: params.minCohort, minCellSize: params.minCellSize } },
    );
  }

  const d = names.length;
  const std = standardiser(trainX, d);
  const zTrain = standardise(trainX, std);
  const zTest = standardise(testX, std);
  const y = Uint8Array.from(trainY);
  let method: ModelCard['method'];
  let dp: ModelCard['protection']['dpSgd'] = null;
  let fitted;
  if (params.dpSgd) {
    const o = params.dpSgd;
    const r = fitDpSgd(zTrain, y, d, { ...o, l2: params.l2 });
    fitted = r.model;
    method = { optimiser: 'dp-sgd', l2: params.l2, steps: r.steps };
    dp = {
      clipNorm: o.clipNorm,
      noiseMultiplier: o.noiseMultiplier,
      batchSize: o.batchSize,
      epochs: o.epochs,
      learningRate: o.learningRate,
      steps: r.steps,
      samplingRate: round(Math.min(1, o.batchSize / trainX.length)),
      clippedFraction: round(r.clippedFraction, 4),
    };
  } else {
    const r = fitNewton(zTrain, y, d, { l2: params.l2 });
    fitted = r.model;
    method = {
      optimiser: 'newton',
      l2: params.l2,
      iterations: r.iterations,
      converged: r.converged,
    };
  }
  const measure = (x: Float64Array[], ys: number[]): Metrics =>
    metrics(
      x.map((row) => predict(fitted, row)),
      ys,
      { bins: params.calibrationBins, minCellSize: params.minCellSize },
    );

  const coefficients: Record<string, number> = {};
  let intercept = fitted.bias;
  names.forEach((n, j) => {
    const w = (fitted.weights[j] as number) / (std.scale[j] as number);
    coefficients[n] = round(w, 8);
    intercept -= w * (std.mean[j] as number);
  });
  coefficients['(intercept)'] = round(intercept, 8);

  const card: ModelCard = {
    schema: CARD_SCHEMA,
    app: APP_NAME,
    appVersion: APP_VERSION,
    trainedAt: options.now.toISOString(),
    outcome: describeOutcome(params.outcome),
    features: names,
    dataset: { format: table.format, patients: table.rows.length, incomplete },
    split: {
      seed: params.split.seed,
      heldOutFraction: params.split.heldOutFraction,
      training: trainX.length,
      heldOut: testX.length,
    },
    method,
    protection: {
      minCohort: params.minCohort,
      minCellSize: params.minCellSize,
      dpSgd: dp,
      note: dp
        ? 'DP-SGD: each patient’s gradient clipped to clipNorm, Gaussian noise σ·clipNorm added to every batch sum. No (ε, δ) is claimed: the feature standardisation uses unnoised training means and standard deviations, and batches are shuffled rather than Poisson-sampled.'
        : 'No gradient noise: the weights are the exact (L2-penalised) maximum-likelihood fit and may carry information about individual training patients.',
    },
    metrics: { training: measure(zTrain, trainY), heldOut: measure(zTest, testY) },
  };
  return {
    schema: MODEL_SCHEMA,
    kind: 'logistic-regression',
    outcome: params.outcome,
    features: names.map((name, j) => ({
      name,
      mean: std.mean[j] as number,
      scale: std.scale[j] as number,
    })),
    intercept: fitted.bias,
    weights: fitted.weights,
    coefficients,
    card,
  };
}
