/**
 * FHIR R4 rendering of synthetic patients: Patient, Condition and Observation resources, each
 * tagged as synthetic. A patient's resources are written together, Patient first.
 */
import type { SyntheticPatient } from './model.ts';

export const ICD10_SYSTEM = 'http://hl7.org/fhir/sid/icd-10';
export const SNOMED_SYSTEM = 'http://snomed.info/sct';
export const LOINC_SYSTEM = 'http://loinc.org';
export const UCUM_SYSTEM = 'http://unitsofmeasure.org';
/** The tag every synthetic resource carries in `meta.tag`. */
export const SYNTHETIC_TAG = { system: 'urn:custos:synthetic', code: 'synthetic' } as const;

/** The LOINC codes the generator emits, with their UCUM units. */
export const LOINC = {
  systolicBp: { code: '8480-6', display: 'Systolic blood pressure', unit: 'mm[Hg]' },
  cholesterol: {
    code: '2093-3',
    display: 'Cholesterol [Mass/volume] in Serum or Plasma',
    unit: 'mg/dL',
  },
  hba1c: {
    code: '4548-4',
    display: 'Hemoglobin A1c/Hemoglobin.total in Blood',
    unit: '%',
  },
  bmi: { code: '39156-5', display: 'Body mass index (BMI) [Ratio]', unit: 'kg/m2' },
} as const;

/** mg/dL per mmol/L of cholesterol (molar mass 386.65 g/mol). */
export const CHOLESTEROL_MG_DL_PER_MMOL_L = 38.67;

type Json = Record<string, unknown>;

const meta = { tag: [SYNTHETIC_TAG] };

function category(code: 'vital-signs' | 'laboratory'): Json[] {
  return [
    {
      coding: [
        {
          system: 'http://terminology.hl7.org/CodeSystem/observation-category',
          code,
        },
      ],
    },
  ];
}

function observation(
  id: string,
  patientId: string,
  kind: keyof typeof LOINC,
  value: number,
  date: string,
): Json {
  const loinc = LOINC[kind];
  return {
    resourceType: 'Observation',
    id,
    meta,
    status: 'final',
    category: category(kind === 'systolicBp' || kind === 'bmi' ? 'vital-signs' : 'laboratory'),
    code: { coding: [{ system: LOINC_SYSTEM, code: loinc.code, display: loinc.display }] },
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: date,
    valueQuantity: { value, unit: loinc.unit, system: UCUM_SYSTEM, code: loinc.unit },
  };
}

/** The FHIR R4 resources of one synthetic patient, Patient first. */
export function* patientResources(p: SyntheticPatient): Generator<Json> {
  yield {
    resourceType: 'Patient',
    id: p.id,
    meta,
    gender: p.sex,
    birthDate: p.birthDate,
    address: [{ country: p.country, postalCode: p.postalPrefix }],
  };
  let n = 0;
  for (const c of p.conditions) {
    n += 1;
    yield {
      resourceType: 'Condition',
      id: `${p.id}-c${String(n)}`,
      meta,
      clinicalStatus: {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/condition-clinical',
            code: 'active',
          },
        ],
      },
      verificationStatus: {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status',
            code: 'confirmed',
          },
        ],
      },
      code: {
        coding: [
          { system: ICD10_SYSTEM, code: c.icd10, display: c.display },
          { system: SNOMED_SYSTEM, code: c.snomed, display: c.display },
        ],
        text: c.display,
      },
      subject: { reference: `Patient/${p.id}` },
      onsetDateTime: c.onset,
    };
  }
  n = 0;
  const obs = (kind: keyof typeof LOINC, value: number, date: string): Json => {
    n += 1;
    return observation(`${p.id}-o${String(n)}`, p.id, kind, value, date);
  };
  for (const bp of p.systolicBp) yield obs('systolicBp', bp.systolic, bp.date);
  yield obs(
    'cholesterol',
    Math.round(p.cholesterolMmolL * CHOLESTEROL_MG_DL_PER_MMOL_L),
    p.labDate,
  );
  yield obs('hba1c', p.hba1cPercent, p.labDate);
  yield obs('bmi', p.bmi, p.labDate);
}
