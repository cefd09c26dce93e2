/**
 * The synthetic patient model both output forms (FHIR R4 NDJSON and CSV) are rendered from. Every
 * value is drawn from a seeded generator; the distributions are rough but the correlations that make
 * cohort statistics meaningful are there: blood pressure rises with age and BMI, diabetes is likelier
 * with BMI and age and raises HbA1c, hyperlipidaemia raises cholesterol, smokers get COPD more often.
 * No real person is in it.
 */

/** A diagnosis: its ICD-10 (WHO) code, the matching SNOMED CT concept, and a display name. */
export interface Diagnosis {
  readonly icd10: string;
  readonly snomed: string;
  readonly display: string;
}

/** Primary diagnoses of the (cardiology) demo cohort. The CSV form carries the primary one. */
export const PRIMARY_DIAGNOSES: readonly Diagnosis[] = [
  { icd10: 'I21.9', snomed: '57054005', display: 'Acute myocardial infarction' },
  { icd10: 'I25.9', snomed: '413838009', display: 'Chronic ischaemic heart disease' },
  { icd10: 'I10', snomed: '59621000', display: 'Essential hypertension' },
  { icd10: 'E11.9', snomed: '44054006', display: 'Type 2 diabetes mellitus' },
  { icd10: 'I48.9', snomed: '49436004', display: 'Atrial fibrillation' },
  { icd10: 'I50.9', snomed: '84114007', display: 'Heart failure' },
];

const HYPERTENSION = PRIMARY_DIAGNOSES[2] as Diagnosis;
const DIABETES = PRIMARY_DIAGNOSES[3] as Diagnosis;
const HYPERLIPIDAEMIA: Diagnosis = {
  icd10: 'E78.5',
  snomed: '55822004',
  display: 'Hyperlipidaemia',
};
const COPD: Diagnosis = {
  icd10: 'J44.9',
  snomed: '13645005',
  display: 'Chronic obstructive pulmonary disease',
};
const CKD: Diagnosis = { icd10: 'N18.9', snomed: '709044004', display: 'Chronic kidney disease' };

/** Every diagnosis the generator can emit. */
export const ALL_DIAGNOSES: readonly Diagnosis[] = [
  ...PRIMARY_DIAGNOSES,
  HYPERLIPIDAEMIA,
  COPD,
  CKD,
];

/** Countries and two-digit postal prefixes: the only address data a synthetic patient has. */
const REGIONS = [
  ['NL', ['10', '11', '25', '30', '35', '52', '65', '97']],
  ['BE', ['10', '20', '30', '40', '90']],
  ['DE', ['10', '20', '50', '60', '80']],
] as const;

export interface SyntheticCondition extends Diagnosis {
  /** Onset date, YYYY-MM-DD. */
  readonly onset: string;
}

export interface BloodPressureReading {
  readonly systolic: number;
  readonly date: string;
}

export interface SyntheticPatient {
  readonly id: string;
  readonly sex: 'female' | 'male';
  readonly birthDate: string;
  /** Whole years at the reference date (`asOf`). */
  readonly age: number;
  readonly country: string;
  readonly postalPrefix: string;
  /** The first is the primary diagnosis; no diagnosis appears twice. */
  readonly conditions: readonly SyntheticCondition[];
  readonly smoker: boolean;
  /** One or two readings, oldest first. */
  readonly systolicBp: readonly BloodPressureReading[];
  readonly cholesterolMmolL: number;
  readonly hba1cPercent: number;
  readonly bmi: number;
  /** Date of the lab panel and BMI measurement. */
  readonly labDate: string;
  readonly readmitted30d: boolean;
}

export interface SyntheticOptions {
  /** Same seed, same records. Default 2024. */
  readonly seed?: number;
  /** Reference date (YYYY-MM-DD) ages and dates are relative to. Default 2025-01-01. */
  readonly asOf?: string;
}

export const DEFAULT_SEED = 2024;
export const DEFAULT_AS_OF = '2025-01-01';

/** xorshift32: small, fast, deterministic. Not for secrets. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

/** A standard normal draw (Box–Muller) from a uniform source. */
function gaussian(r: () => number): number {
  const u = 1 - r();
  const v = r();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));
const round1 = (x: number): number => Math.round(x * 10) / 10;
const DAY_MS = 86_400_000;

function parseDay(day: string): number {
  const ms = Date.parse(`${day}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(ms)) {
    throw new RangeError(`not a date (YYYY-MM-DD): ${day}`);
  }
  return ms;
}

const formatDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** Whole years between a birth date and a reference date (both YYYY-MM-DD). */
export function ageAt(birthDate: string, asOf: string): number {
  const [by, bm, bd] = birthDate.split('-').map(Number) as [number, number, number];
  const [ay, am, ad] = asOf.split('-').map(Number) as [number, number, number];
  return ay - by - (am < bm || (am === bm && ad < bd) ? 1 : 0);
}

/**
 * Synthetic patients, one at a time (constant memory for any count).
 * @throws RangeError when `asOf` is not a YYYY-MM-DD date or `count` is negative.
 */
export function* syntheticPatients(
  count: number,
  options: SyntheticOptions = {},
): Generator<SyntheticPatient> {
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`bad count: ${count}`);
  const asOf = options.asOf ?? DEFAULT_AS_OF;
  const asOfMs = parseDay(asOf);
  const r = rng(options.seed ?? DEFAULT_SEED);
  const daysBefore = (maxDays: number): string =>
    formatDay(asOfMs - Math.floor(r() * maxDays) * DAY_MS);

  for (let i = 0; i < count; i += 1) {
    // Adults, skewed towards the ages a cardiology clinic sees.
    const targetAge = 18 + Math.floor(77 * Math.pow(r(), 0.75));
    const birthDate = formatDay(asOfMs - Math.floor((targetAge + r()) * 365.25) * DAY_MS);
    const age = ageAt(birthDate, asOf);
    const sex = r() < 0.49 ? 'female' : 'male';
    const [country, prefixes] = REGIONS[Math.floor(r() * REGIONS.length)] ?? REGIONS[0];
    const postalPrefix = prefixes[Math.floor(r() * prefixes.length)] ?? prefixes[0];
    const smoker = r() < (age < 60 ? 0.24 : 0.14);
    const bmi = round1(clamp(26.5 + 4.5 * gaussian(r) + (age > 50 ? 1 : 0), 16, 48));

    const primary = PRIMARY_DIAGNOSES[Math.floor(r() * PRIMARY_DIAGNOSES.length)] ?? DIABETES;
    const diagnoses: Diagnosis[] = [primary];
    const add = (d: Diagnosis, p: number): void => {
      if (r() < p && !diagnoses.includes(d)) diagnoses.push(d);
    };
    add(HYPERTENSION, clamp(0.05 + 0.008 * (age - 30) + 0.01 * (bmi - 25), 0.02, 0.75));
    add(DIABETES, clamp(0.03 + 0.004 * (age - 40) + 0.025 * (bmi - 25), 0.01, 0.6));
    add(HYPERLIPIDAEMIA, clamp(0.08 + 0.005 * (age - 40), 0.03, 0.45));
    add(COPD, smoker ? 0.2 : 0.03);
    add(CKD, clamp(0.01 + 0.003 * (age - 50), 0.005, 0.2));
    const has = (d: Diagnosis): boolean => diagnoses.includes(d);

    const earliestOnsetDays = Math.max(1, Math.min(age - 18, 25) * 365);
    const conditions = diagnoses.map((d) => ({ ...d, onset: daysBefore(earliestOnsetDays) }));

    const hba1cPercent = round1(
      has(DIABETES)
        ? clamp(7.6 + 1.2 * gaussian(r), 5.7, 14)
        : clamp(5.3 + 0.005 * (age - 40) + 0.3 * gaussian(r), 4.0, 6.4),
    );
    const sbpMean =
      106 + 0.5 * (age - 18) + 0.7 * (bmi - 25) + (has(HYPERTENSION) ? 14 : 0) + (smoker ? 4 : 0);
    const readings = r() < 0.4 ? 2 : 1;
    const systolicBp: BloodPressureReading[] = [];
    for (let k = 0; k < readings; k += 1) {
      systolicBp.push({
        systolic: Math.round(clamp(sbpMean + 11 * gaussian(r), 85, 230)),
        date: formatDay(asOfMs - (k === readings - 1 ? 30 + Math.floor(r() * 60) : 200) * DAY_MS),
      });
    }
    const cholesterolMmolL = round1(
      clamp(
        4.8 + 0.012 * (age - 40) + (has(HYPERLIPIDAEMIA) ? 1.3 : 0) + 0.8 * gaussian(r),
        2.5,
        10,
      ),
    );
    const risk =
      0.05 +
      (age > 70 ? 0.08 : 0) +
      (has(PRIMARY_DIAGNOSES[5] as Diagnosis) ? 0.12 : 0) +
      (smoker ? 0.04 : 0);

    yield {
      id: `P${String(100000 + i)}`,
      sex,
      birthDate,
      age,
      country,
      postalPrefix,
      conditions,
      smoker,
      systolicBp,
      cholesterolMmolL,
      hba1cPercent,
      bmi,
      labDate: daysBefore(90),
      readmitted30d: r() < risk,
    };
  }
}
