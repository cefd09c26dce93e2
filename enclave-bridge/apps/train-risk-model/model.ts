/**
 * The risk-model file format (`custos.risk-model/1`): what training outputs and what inference
 * reads (as a Custos dataset of its own). Parsed with zod at the boundary; a model that does not
 * parse is a `ModelMalformed`, a dataset without the model's features a `FeatureMissing`.
 */
import { z } from 'zod';
import { CustosError } from '../../../app/errors/index.ts';
import { sigmoid } from './logistic.ts';
import type { PatientRow, PatientTable } from './table.ts';

export const MODEL_SCHEMA = 'custos.risk-model/1';

const finite = z.number().refine(Number.isFinite, 'not a finite number');
const name = z.string().regex(/^[a-z0-9_][a-z0-9_.-]{0,63}$/);

export const OutcomeSchema = z.union([
  z.strictObject({ variable: name }),
  z.strictObject({ condition: z.string().regex(/^[A-Za-z][0-9A-Za-z.]{1,9}$/) }),
]);

export const RiskModelSchema = z
  .object({
    schema: z.literal(MODEL_SCHEMA),
    kind: z.literal('logistic-regression'),
    outcome: OutcomeSchema,
    /** Features in order, with the standardisation the weights assume. */
    features: z
      .array(z.strictObject({ name, mean: finite, scale: finite.refine((s) => s > 0) }))
      .min(1)
      .max(256),
    /** Intercept and weights on the standardised features. */
    intercept: finite,
    weights: z.array(finite),
    /** The same model on raw units (informational; prediction uses the standardised form). */
    coefficients: z.record(z.string(), finite).optional(),
    card: z.unknown().optional(),
  })
  .refine((m) => m.weights.length === m.features.length, 'one weight per feature')
  .refine(
    (m) => new Set(m.features.map((f) => f.name)).size === m.features.length,
    'feature names must be unique',
  );

export type RiskModel = z.infer<typeof RiskModelSchema>;

/**
 * Parses model bytes.
 * @throws CustosError `ModelMalformed` for bytes that are not a `custos.risk-model/1` JSON document.
 */
export function parseModel(bytes: Uint8Array): RiskModel {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new CustosError('ModelMalformed', 'the model is not UTF-8 JSON', { cause: error });
  }
  const parsed = RiskModelSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CustosError(
      'ModelMalformed',
      `the model is not a ${MODEL_SCHEMA} document (${issue?.path.join('.') || 'document'}: ${issue?.message ?? 'invalid'})`,
      { cause: parsed.error },
    );
  }
  return parsed.data;
}

/**
 * Checks the dataset has every feature of the model.
 * @throws CustosError `FeatureMissing` naming the missing variables.
 */
export function requireFeatures(
  model: { readonly features: readonly { readonly name: string }[] },
  table: PatientTable,
): void {
  const missing = model.features.map((f) => f.name).filter((n) => !table.variables.has(n));
  if (missing.length > 0) {
    throw new CustosError(
      'FeatureMissing',
      `the dataset has no ${missing.join(', ')} (it has: ${[...table.variables].sort().join(', ') || 'no variables'})`,
      { details: { missing: missing.join(',') } },
    );
  }
}

/** The feature vector of a row in the model's order (raw units), or null when one is missing. */
export function featureVector(names: readonly string[], row: PatientRow): Float64Array | null {
  const v = new Float64Array(names.length);
  for (let j = 0; j < names.length; j += 1) {
    const value = row.values.get(names[j] as string);
    if (value === undefined) return null;
    v[j] = value;
  }
  return v;
}

/** The model's predicted risk for a raw feature vector. */
export function predictRisk(model: RiskModel, raw: Float64Array): number {
  let z = model.intercept;
  model.features.forEach((f, j) => {
    z += (model.weights[j] as number) * (((raw[j] as number) - f.mean) / f.scale);
  });
  return sigmoid(z);
}
