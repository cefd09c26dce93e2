/**
 * Synthetic patients with a PLANTED risk model, for testing model training: the outcome is drawn
 * from a known logistic model of age, sex, systolic blood pressure, BMI and smoking, so a trained
 * model can be checked against the coefficients that made the data. Two forms of the same patients:
 * CSV (one row, outcome column `outcome`) and FHIR R4 NDJSON (Patient, Observations, and a heart
 * failure Condition when the outcome is 1). Entirely made up — no real person is in it.
 */
import { rng } from './model.ts';

/** The planted model: logit P(outcome) = intercept + Σ coefficient × feature (raw units). */
export const PLANTED_RISK_MODEL = {
  intercept: -8.6,
  coefficients: {
    age: 0.05,
    male: 0.4,
    systolic_bp: 0.02,
    bmi: 0.06,
    smoker: 0.7,
  },
  /** The condition a positive outcome adds in the FHIR form (heart failure). */
  outcomeIcd10: 'I50.9',
} as const;

export type PlantedFeature = keyof typeof PLANTED_RISK_MODEL.coefficients;

export const PLANTED_CSV_COLUMNS = [
  'patient_id',
  'age',
  'sex',
  'systolic_bp',
  'bmi',
  'smoker',
  'outcome',
] as const;

export interface PlantedPatient {
  readonly id: string;
  readonly age: number;
  readonly male: 0 | 1;
  readonly systolic_bp: number;
  readonly bmi: number;
  readonly smoker: 0 | 1;
  /** The true probability of the outcome under the planted model. */
  readonly risk: number;
  readonly outcome: 0 | 1;
}

const gaussian = (r: () => number): number =>
  Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());

/** Patients drawn from the planted model, deterministic from `seed`. */
export function* plantedRiskPatients(count: number, seed = 11): Generator<PlantedPatient> {
  const r = rng(seed);
  const m = PLANTED_RISK_MODEL;
  for (let i = 0; i < count; i += 1) {
    const age = 30 + Math.floor(r() * 56);
    const male = r() < 0.5 ? 1 : 0;
    const systolic_bp = Math.round(
      Math.min(220, Math.max(90, 128 + 0.3 * (age - 55) + 16 * gaussian(r))),
    );
    const bmi = Math.round(Math.min(48, Math.max(16, 27 + 4.5 * gaussian(r))) * 10) / 10;
    const smoker = r() < 0.25 ? 1 : 0;
    const logit =
      m.intercept +
      m.coefficients.age * age +
      m.coefficients.male * male +
      m.coefficients.systolic_bp * systolic_bp +
      m.coefficients.bmi * bmi +
      m.coefficients.smoker * smoker;
    const risk = 1 / (1 + Math.exp(-logit));
    yield {
      id: `R${String(100000 + i)}`,
      age,
      male,
      systolic_bp,
      bmi,
      smoker,
      risk,
      outcome: r() < risk ? 1 : 0,
    };
  }
}

/** CSV lines (each ending in a newline): the header, then one row per patient. */
export function* plantedRiskCsvLines(count: number, seed?: number): Generator<string> {
  yield `${PLANTED_CSV_COLUMNS.join(',')}\n`;
  for (const p of plantedRiskPatients(count, seed)) {
    yield `${[p.id, p.age, p.male ? 'M' : 'F', p.systolic_bp, p.bmi, p.smoker, p.outcome].join(',')}\n`;
  }
}

/** The reference date the FHIR form's birth dates are relative to. */
export const PLANTED_AS_OF = '2025-01-01';

/** FHIR R4 NDJSON lines: Patient, systolic BP, BMI, smoking status, and the outcome Condition. */
export function* plantedRiskFhirLines(count: number, seed?: number): Generator<string> {
  const asOfYear = Number(PLANTED_AS_OF.slice(0, 4));
  for (const p of plantedRiskPatients(count, seed)) {
    const subject = { reference: `Patient/${p.id}` };
    // Born mid-year, so the age on 2025-01-01 is exactly `age`.
    const birthDate = `${String(asOfYear - p.age - 1)}-06-15`;
    const quantity = (id: string, code: string, value: number, unit: string): object => ({
      resourceType: 'Observation',
      id: `${p.id}-${id}`,
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code }] },
      subject,
      effectiveDateTime: '2024-12-01',
      valueQuantity: { value, unit, system: 'http://unitsofmeasure.org', code: unit },
    });
    const resources: object[] = [
      { resourceType: 'Patient', id: p.id, gender: p.male ? 'male' : 'female', birthDate },
      quantity('bp', '8480-6', p.systolic_bp, 'mm[Hg]'),
      quantity('bmi', '39156-5', p.bmi, 'kg/m2'),
      {
        resourceType: 'Observation',
        id: `${p.id}-smoking`,
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '72166-2' }] },
        subject,
        effectiveDateTime: '2024-12-01',
        valueCodeableConcept: {
          coding: [
            p.smoker
              ? { system: 'http://snomed.info/sct', code: '77176002', display: 'Smoker' }
              : { system: 'http://snomed.info/sct', code: '266919005', display: 'Never smoked' },
          ],
        },
      },
    ];
    if (p.outcome) {
      resources.push({
        resourceType: 'Condition',
        id: `${p.id}-c1`,
        subject,
        code: {
          coding: [
            { system: 'http://hl7.org/fhir/sid/icd-10', code: PLANTED_RISK_MODEL.outcomeIcd10 },
          ],
        },
      });
    }
    for (const resource of resources) yield `${JSON.stringify(resource)}\n`;
  }
}
