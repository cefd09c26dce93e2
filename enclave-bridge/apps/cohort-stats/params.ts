/**
 * The query a consumer sends with a run: which cohort, which statistics, how strict the suppression.
 * Parsed with zod where it enters; the parsed (defaulted) form is echoed in the result.
 */
import { z } from 'zod';
import { CustosError } from '../../../app/errors/index.ts';

/** Observations the app knows: LOINC code → UCUM unit the values must carry. */
export const KNOWN_OBSERVATIONS = {
  '8480-6': { name: 'Systolic blood pressure', unit: 'mm[Hg]' },
  '2093-3': { name: 'Cholesterol [Mass/volume] in Serum or Plasma', unit: 'mg/dL' },
  '14647-2': { name: 'Cholesterol [Moles/volume] in Serum or Plasma', unit: 'mmol/L' },
  '4548-4': { name: 'Hemoglobin A1c/Hemoglobin.total in Blood', unit: '%' },
  '39156-5': { name: 'Body mass index (BMI) [Ratio]', unit: 'kg/m2' },
} as const;

export type ObservationCode = keyof typeof KNOWN_OBSERVATIONS;
const OBSERVATION_CODES = Object.keys(KNOWN_OBSERVATIONS) as [
  ObservationCode,
  ...ObservationCode[],
];

export const STATISTICS = ['ageBands', 'sex', 'prevalence', 'observations'] as const;
export type StatisticName = (typeof STATISTICS)[number];

/** Sex categories, as FHIR's administrative gender. */
export const SEXES = ['female', 'male', 'other', 'unknown'] as const;
export type Sex = (typeof SEXES)[number];

/** The smallest minimum cell size a query may ask for. */
export const MIN_CELL_SIZE_FLOOR = 5;
export const DEFAULT_MIN_CELL_SIZE = 10;

/** An ICD-10 code or code prefix: a letter, up to two digits, then optionally `.` and more. */
const IcdPrefix = z
  .string()
  .regex(/^[A-Za-z]\d{0,2}(\.?[0-9A-Za-z]{0,4})?$/, 'an ICD-10 code or prefix such as E11 or I2')
  .transform((s) => s.toUpperCase());

const DEFAULT_AGE_BANDS = [0, 18, 30, 40, 50, 60, 70, 80];
const DEFAULT_PREVALENCE = ['I10', 'E11', 'I21', 'I25', 'I48', 'I50', 'E78', 'J44', 'N18'];

export const CohortParamsSchema = z
  .strictObject({
    /** Input format; `auto` looks at the first character (`{` → FHIR NDJSON). */
    format: z.enum(['auto', 'fhir-ndjson', 'csv']).default('auto'),
    /**
     * FHIR only. `any`: resources in any order (memory grows with the number of patients, a few
     * hundred bytes each). `grouped`: each patient's Patient resource is followed by its other
     * resources (constant memory; a resource out of its group is an error).
     */
    fhirOrder: z.enum(['any', 'grouped']).default('any'),
    /** Reference date for ages (YYYY-MM-DD). Defaults to the run's UTC date, echoed in the result. */
    asOf: z.iso.date().optional(),
    cohort: z
      .strictObject({
        /** Patients with at least one of these ICD-10 codes (prefix match). */
        conditions: z.array(IcdPrefix).min(1).max(50).optional(),
        /** Inclusive age range in whole years at `asOf`; patients of unknown age are excluded. */
        ageMin: z.int().min(0).max(150).optional(),
        ageMax: z.int().min(0).max(150).optional(),
        sex: z.enum(SEXES).optional(),
      })
      .refine((c) => c.ageMin === undefined || c.ageMax === undefined || c.ageMin <= c.ageMax, {
        message: 'ageMin must not exceed ageMax',
      })
      .default({}),
    statistics: z
      .array(z.enum(STATISTICS))
      .min(1)
      .default([...STATISTICS])
      .transform((s) => STATISTICS.filter((name) => s.includes(name))),
    /** Lower bounds of the age bands, strictly increasing; the last band is open-ended. */
    ageBands: z
      .array(z.int().min(0).max(150))
      .min(1)
      .max(30)
      .refine((b) => b.every((x, i) => i === 0 || x > (b[i - 1] ?? 0)), {
        message: 'age band bounds must increase',
      })
      .default(DEFAULT_AGE_BANDS),
    /** ICD-10 code prefixes whose prevalence in the cohort is reported. */
    prevalence: z.array(IcdPrefix).max(100).default(DEFAULT_PREVALENCE),
    /** LOINC codes whose mean and standard deviation in the cohort are reported. */
    observations: z.array(z.enum(OBSERVATION_CODES)).max(20).default(OBSERVATION_CODES),
    /** Cells with fewer patients than this are suppressed. Never below 5. */
    minCellSize: z.int().min(MIN_CELL_SIZE_FLOOR).max(1000).default(DEFAULT_MIN_CELL_SIZE),
    /** Also suppress zero counts (stricter than the usual 1 … min−1 rule). */
    suppressZeros: z.boolean().default(false),
  })
  .transform((p) => ({
    ...p,
    prevalence: [...new Set(p.prevalence)],
    observations: [...new Set(p.observations)],
  }));

/** The query as the consumer writes it (defaults optional). */
export type CohortQuery = z.input<typeof CohortParamsSchema>;
/** The query after parsing: every default filled in, except `asOf` (filled in by `run`). */
export type CohortParams = z.output<typeof CohortParamsSchema>;
/** The query as run and echoed: `asOf` fixed. */
export type ResolvedParams = CohortParams & { readonly asOf: string };

/**
 * Parses a query.
 * @throws CustosError `UsageError` naming the first invalid field.
 */
export function parseParams(value: unknown, today: Date = new Date()): ResolvedParams {
  const parsed = CohortParamsSchema.safeParse(value ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') ?? '';
    throw new CustosError(
      'UsageError',
      `invalid cohort-stats parameters${where ? ` at ${where}` : ''}: ${issue?.message ?? 'invalid'}`,
      { cause: parsed.error, details: { path: where } },
    );
  }
  return { ...parsed.data, asOf: parsed.data.asOf ?? today.toISOString().slice(0, 10) };
}
