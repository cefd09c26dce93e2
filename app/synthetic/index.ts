/**
 * A synthetic patient dataset for the demo and tests: deterministic from a seed, realistic enough for
 * cohort statistics (age, sex, diagnosis codes, blood pressure, cholesterol, outcome), and entirely
 * made up — no real person is in it.
 */

const DIAGNOSES = [
  ['I21', 'Acute myocardial infarction'],
  ['I25', 'Chronic ischaemic heart disease'],
  ['I10', 'Essential hypertension'],
  ['E11', 'Type 2 diabetes mellitus'],
  ['I48', 'Atrial fibrillation'],
  ['I50', 'Heart failure'],
] as const;

/** xorshift32: small, fast, deterministic. Not for secrets. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

export const SYNTHETIC_COLUMNS = [
  'patient_id',
  'age',
  'sex',
  'diagnosis_code',
  'diagnosis',
  'systolic_bp',
  'cholesterol_mmol_l',
  'smoker',
  'readmitted_30d',
] as const;

/** CSV text of `rows` synthetic patients (header line included). */
export function syntheticPatientsCsv(rows: number, seed = 2024): string {
  const r = rng(seed);
  const lines: string[] = [SYNTHETIC_COLUMNS.join(',')];
  for (let i = 0; i < rows; i += 1) {
    const age = Math.round(35 + r() * 55);
    const [code, name] = DIAGNOSES[Math.floor(r() * DIAGNOSES.length)] ?? DIAGNOSES[0];
    const smoker = r() < 0.22;
    const systolic = Math.round(110 + (age - 35) * 0.6 + r() * 30 + (smoker ? 6 : 0));
    const chol = (3.8 + r() * 3.2 + (code === 'E11' ? 0.6 : 0)).toFixed(1);
    const risk = 0.05 + (age > 70 ? 0.08 : 0) + (code === 'I50' ? 0.12 : 0) + (smoker ? 0.04 : 0);
    lines.push(
      [
        `P${String(100000 + i)}`,
        age,
        r() < 0.48 ? 'F' : 'M',
        code,
        `"${name}"`,
        systolic,
        chol,
        smoker ? 1 : 0,
        r() < risk ? 1 : 0,
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}
