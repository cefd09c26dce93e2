/**
 * Dataset → patient table: one row per patient with named numeric variables and a set of ICD-10
 * condition codes. CSV (one row per patient, the header names the variables) and FHIR R4 NDJSON
 * (Patient + Observations + Conditions, grouped by subject) are both read. Training needs every
 * row in memory anyway, so FHIR patients may be spread over the file.
 */
import { CustosError } from '../../../app/errors/index.ts';
import { csvRecords } from '../cohort-stats/csv.ts';
import { normaliseIcd10 } from '../cohort-stats/cohort.ts';
import { ageOn } from '../cohort-stats/fhir.ts';
import { numberedLines, sniff, textChunks } from '../cohort-stats/text.ts';

export interface PatientRow {
  readonly id: string;
  /** Variable name → value. A variable the record lacks is absent. */
  readonly values: Map<string, number>;
  /** Normalised ICD-10 codes (no dot, upper case). */
  readonly conditions: Set<string>;
}

export interface PatientTable {
  readonly format: 'csv' | 'fhir-ndjson';
  readonly rows: PatientRow[];
  /** Every variable name seen in the dataset. */
  readonly variables: ReadonlySet<string>;
}

/** The longest record we accept (a defence against one endless line). */
export const MAX_RECORD_LENGTH = 16 * 1024 * 1024;

/** LOINC codes with a name of their own; any other quantity is `loinc_<code>`. */
export const LOINC_NAMES: Readonly<Record<string, string>> = {
  '8480-6': 'systolic_bp',
  '39156-5': 'bmi',
  '4548-4': 'hba1c',
  '2093-3': 'cholesterol_mmol_l',
  '72166-2': 'smoker',
};

/** SNOMED CT findings of the LOINC 72166-2 smoking status that count as a current smoker. */
const CURRENT_SMOKER = new Set(['77176002', '449868002', '428041000124106', '428071000124103']);
const CHOLESTEROL_MG_DL_PER_MMOL_L = 38.67;

function malformed(line: number, what: string): CustosError {
  return new CustosError('MalformedRecord', `line ${String(line)}: ${what}`, { details: { line } });
}

/** Parses a CSV cell as a number: numerals, booleans (true/false, yes/no) and sex (M/F). */
function cellValue(column: string, cell: string): number | null {
  const text = cell.trim();
  if (text === '') return null;
  if (column === 'male') {
    const s = text.toLowerCase();
    if (s === 'm' || s === 'male') return 1;
    if (s === 'f' || s === 'female') return 0;
    return null;
  }
  const lower = text.toLowerCase();
  if (lower === 'true' || lower === 'yes') return 1;
  if (lower === 'false' || lower === 'no') return 0;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return null;
  return Number(text);
}

async function readCsvTable(chunks: AsyncIterable<string>): Promise<PatientTable> {
  const rows: PatientRow[] = [];
  const variables = new Set<string>();
  let header: string[] | null = null;
  let idColumn = -1;
  const conditionColumns: number[] = [];
  for await (const { fields, line } of csvRecords(chunks, MAX_RECORD_LENGTH)) {
    if (header === null) {
      header = fields.map((f) => {
        const name = f.trim().toLowerCase();
        return name === 'sex' || name === 'gender' ? 'male' : name;
      });
      idColumn = header.findIndex((h) => h === 'patient_id' || h === 'id');
      header.forEach((h, i) => {
        if (h === 'diagnosis_code' || h === 'condition_code' || h === 'icd10') {
          conditionColumns.push(i);
        }
      });
      continue;
    }
    if (fields.length !== header.length) {
      throw malformed(
        line,
        `${String(fields.length)} fields where the header has ${String(header.length)}`,
      );
    }
    const values = new Map<string, number>();
    header.forEach((column, i) => {
      if (i === idColumn || conditionColumns.includes(i)) return;
      const value = cellValue(column, fields[i] ?? '');
      if (value !== null) {
        values.set(column, value);
        variables.add(column);
      }
    });
    const conditions = new Set<string>();
    for (const i of conditionColumns) {
      const code = (fields[i] ?? '').trim();
      if (code) conditions.add(normaliseIcd10(code));
    }
    rows.push({
      id: idColumn >= 0 ? (fields[idColumn] ?? '') : `row-${String(line)}`,
      values,
      conditions,
    });
  }
  if (header === null) throw new CustosError('MalformedRecord', 'the CSV has no header line');
  return { format: 'csv', rows, variables };
}

interface Coding {
  readonly system?: unknown;
  readonly code?: unknown;
}

const codingsOf = (concept: unknown): Coding[] => {
  const coding = (concept as { coding?: unknown } | undefined)?.coding;
  return Array.isArray(coding) ? (coding as Coding[]) : [];
};

const subjectOf = (resource: Record<string, unknown>): string | null => {
  const ref = (resource['subject'] as { reference?: unknown } | undefined)?.reference;
  if (typeof ref !== 'string') return null;
  const match = /(?:^|\/)Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(ref);
  return match?.[1] ?? null;
};

async function readFhirTable(
  lines: AsyncIterable<{ line: string; number: number }>,
  asOf: string,
): Promise<PatientTable> {
  const byId = new Map<string, PatientRow & { times: Map<string, number>; hasPatient: boolean }>();
  const variables = new Set<string>();
  const rowFor = (id: string) => {
    let row = byId.get(id);
    if (!row) {
      row = { id, values: new Map(), conditions: new Set(), times: new Map(), hasPatient: false };
      byId.set(id, row);
    }
    return row;
  };
  const set = (row: ReturnType<typeof rowFor>, name: string, value: number, time: number): void => {
    if ((row.times.get(name) ?? -Infinity) > time) return; // the latest reading wins
    row.values.set(name, value);
    row.times.set(name, time);
    variables.add(name);
  };
  for await (const { line, number } of lines) {
    if (line.trim() === '') continue;
    let resource: unknown;
    try {
      resource = JSON.parse(line);
    } catch {
      throw malformed(number, 'not JSON');
    }
    if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) {
      throw malformed(number, 'not a FHIR resource');
    }
    const r = resource as Record<string, unknown>;
    const type = r['resourceType'];
    if (typeof type !== 'string') throw malformed(number, 'no resourceType');
    if (type === 'Patient') {
      if (typeof r['id'] !== 'string') throw malformed(number, 'Patient without an id');
      const row = rowFor(r['id']);
      if (row.hasPatient) throw malformed(number, `Patient/${r['id']} appears twice`);
      row.hasPatient = true;
      const gender = r['gender'];
      if (gender === 'male' || gender === 'female') set(row, 'male', gender === 'male' ? 1 : 0, 0);
      if (typeof r['birthDate'] === 'string' && /^\d{4}(-\d{2}(-\d{2})?)?$/.test(r['birthDate'])) {
        const age = ageOn(r['birthDate'], asOf);
        if (age !== null) set(row, 'age', age, 0);
      }
    } else if (type === 'Condition') {
      const id = subjectOf(r);
      if (id === null) throw malformed(number, 'Condition without a Patient subject');
      for (const c of codingsOf(r['code'])) {
        if (typeof c.code === 'string' && String(c.system).includes('icd-10')) {
          rowFor(id).conditions.add(normaliseIcd10(c.code));
        }
      }
    } else if (type === 'Observation') {
      const id = subjectOf(r);
      if (id === null) throw malformed(number, 'Observation without a Patient subject');
      const loinc = codingsOf(r['code']).find(
        (c) => c.system === 'http://loinc.org' && typeof c.code === 'string',
      )?.code as string | undefined;
      if (loinc === undefined) continue;
      const when = r['effectiveDateTime'] ?? r['issued'];
      const parsed = typeof when === 'string' ? Date.parse(when) : NaN;
      const time = Number.isNaN(parsed) ? -Infinity : parsed;
      const name = LOINC_NAMES[loinc] ?? `loinc_${loinc}`;
      if (loinc === '72166-2') {
        const codes = codingsOf(r['valueCodeableConcept']).map((c) => String(c.code));
        if (codes.length > 0)
          set(rowFor(id), name, codes.some((c) => CURRENT_SMOKER.has(c)) ? 1 : 0, time);
        continue;
      }
      const q = r['valueQuantity'] as
        { value?: unknown; unit?: unknown; code?: unknown } | undefined;
      if (typeof q?.value !== 'number' || !Number.isFinite(q.value)) continue;
      const unit = typeof q.code === 'string' ? q.code : typeof q.unit === 'string' ? q.unit : '';
      const value =
        loinc === '2093-3' && unit.toLowerCase() === 'mg/dl'
          ? q.value / CHOLESTEROL_MG_DL_PER_MMOL_L
          : q.value;
      set(rowFor(id), name, value, time);
    }
  }
  const rows: PatientRow[] = [];
  for (const row of byId.values()) {
    // Resources whose Patient never appeared are not a patient we know: left out.
    if (row.hasPatient) rows.push({ id: row.id, values: row.values, conditions: row.conditions });
  }
  return { format: 'fhir-ndjson', rows, variables };
}

/**
 * Reads a dataset (CSV or FHIR R4 NDJSON, detected from its first character) into a table.
 * `asOf` (YYYY-MM-DD) is the date FHIR ages are computed at.
 * @throws CustosError `MalformedRecord` for text that is not UTF-8, a CSV row of the wrong width,
 *   or a FHIR line that is not a resource.
 */
export async function readPatientTable(
  plaintext: AsyncIterable<Uint8Array | string>,
  asOf: string,
): Promise<PatientTable> {
  const { format, chunks } = await sniff(textChunks(plaintext));
  if (format === 'csv') return readCsvTable(chunks);
  return readFhirTable(numberedLines(chunks, MAX_RECORD_LENGTH), asOf);
}

/** An outcome: a 0/1 variable of the dataset, or having a condition (ICD-10 code or prefix). */
export type OutcomeSpec = { readonly variable: string } | { readonly condition: string };

export function describeOutcome(outcome: OutcomeSpec): string {
  return 'variable' in outcome
    ? `variable ${outcome.variable} = 1`
    : `condition ICD-10 ${outcome.condition}`;
}

/**
 * The outcome of one row: 1, 0, or null when a variable outcome is missing.
 * @throws CustosError `MalformedRecord` when a variable outcome is neither 0 nor 1.
 */
export function outcomeOf(row: PatientRow, outcome: OutcomeSpec): 0 | 1 | null {
  if ('condition' in outcome) {
    const prefix = normaliseIcd10(outcome.condition);
    for (const c of row.conditions) if (c.startsWith(prefix)) return 1;
    return 0;
  }
  const value = row.values.get(outcome.variable);
  if (value === undefined) return null;
  if (value !== 0 && value !== 1) {
    throw new CustosError(
      'MalformedRecord',
      `patient ${row.id}: outcome ${outcome.variable} is ${String(value)}, not 0 or 1`,
    );
  }
  return value;
}
