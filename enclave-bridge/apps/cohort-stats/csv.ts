/**
 * CSV (RFC 4180: quoted fields, doubled quotes, CRLF or LF) → patient facts, one row per patient.
 * The header decides what each column means; unknown columns are listed and ignored.
 */
import { CustosError } from '../../../app/errors/index.ts';
import type { PatientFacts } from './cohort.ts';
import { normaliseIcd10 } from './cohort.ts';
import { ageOn } from './fhir.ts';
import type { ObservationCode, ResolvedParams, Sex } from './params.ts';
import { KNOWN_OBSERVATIONS } from './params.ts';

function malformed(line: number, what: string): CustosError {
  return new CustosError('MalformedRecord', `CSV line ${String(line)}: ${what}`, {
    details: { line },
  });
}

/**
 * Splits CSV text into records, each with the line it starts on. Blank lines are skipped.
 * @throws CustosError `MalformedRecord` for a stray quote, an unterminated quoted field, or a
 *   record longer than `maxRecordLength` characters.
 */
export async function* csvRecords(
  chunks: AsyncIterable<string>,
  maxRecordLength: number,
): AsyncGenerator<{ fields: string[]; line: number }> {
  let fields: string[] = [];
  let field = '';
  let length = 0;
  // start: at the start of a field; plain: in an unquoted field; quoted: inside quotes;
  // closing: just read a quote inside a quoted field.
  let state: 'start' | 'plain' | 'quoted' | 'closing' = 'start';
  let line = 1;
  let recordLine = 1;
  let skipLf = false;

  const endRecord = (): { fields: string[]; line: number } | null => {
    fields.push(field);
    const record = fields;
    const at = recordLine;
    fields = [];
    field = '';
    length = 0;
    state = 'start';
    return record.length === 1 && record[0] === '' ? null : { fields: record, line: at };
  };

  for await (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i += 1) {
      const ch = chunk[i] as string;
      if (skipLf) {
        skipLf = false;
        if (ch === '\n') continue;
      }
      length += 1;
      if (length > maxRecordLength) {
        throw malformed(recordLine, `record longer than ${String(maxRecordLength)} characters`);
      }
      if (state === 'quoted') {
        if (ch === '"') state = 'closing';
        else {
          if (ch === '\n') line += 1;
          field += ch;
        }
        continue;
      }
      if (state === 'closing') {
        if (ch === '"') {
          field += '"';
          state = 'quoted';
          continue;
        }
        if (ch !== ',' && ch !== '\n' && ch !== '\r') {
          throw malformed(line, 'a quoted field must end at a comma or the end of the line');
        }
        state = 'plain';
      }
      if (ch === ',') {
        fields.push(field);
        field = '';
        state = 'start';
      } else if (ch === '\n' || ch === '\r') {
        skipLf = ch === '\r';
        const record = endRecord();
        line += 1;
        recordLine = line;
        if (record) yield record;
      } else if (ch === '"') {
        if (state !== 'start') throw malformed(line, 'a quote inside an unquoted field');
        state = 'quoted';
      } else {
        field += ch;
        state = 'plain';
      }
    }
  }
  if (state === 'quoted') throw malformed(recordLine, 'a quoted field is never closed');
  if (fields.length > 0 || field.length > 0) {
    const record = endRecord();
    if (record) yield record;
  }
}

/** Header names (lower case) the app understands, and what they mean. */
const COLUMN_MEANING: Readonly<Record<string, string>> = {
  age: 'age',
  age_years: 'age',
  birth_date: 'birthDate',
  birthdate: 'birthDate',
  date_of_birth: 'birthDate',
  sex: 'sex',
  gender: 'sex',
  diagnosis_code: 'conditions',
  diagnosis_codes: 'conditions',
  icd10: 'conditions',
  icd10_codes: 'conditions',
  systolic_bp: '8480-6',
  sbp: '8480-6',
  cholesterol_mg_dl: '2093-3',
  cholesterol_mmol_l: '14647-2',
  hba1c: '4548-4',
  hba1c_percent: '4548-4',
  bmi: '39156-5',
  // A LOINC code as a header means that observation, in the unit the app expects for it.
  ...Object.fromEntries(Object.keys(KNOWN_OBSERVATIONS).map((code) => [code, code])),
};

const SEX_VALUES: Readonly<Record<string, Sex>> = {
  f: 'female',
  female: 'female',
  m: 'male',
  male: 'male',
  o: 'other',
  other: 'other',
  u: 'unknown',
  unknown: 'unknown',
  '': 'unknown',
};

export interface CsvCounts {
  /** Data rows (patients), header excluded. */
  lines: number;
  /** Header columns the app does not use. */
  ignoredColumns: string[];
}

/**
 * Reads CSV records (header first) and yields one fact set per row.
 * @throws CustosError `MalformedRecord` for a header with no known column or a repeated one, a row
 *   with the wrong number of fields, or a value that does not parse (age, birth date, sex, number).
 */
export async function* readCsv(
  records: AsyncIterable<{ fields: string[]; line: number }>,
  params: ResolvedParams,
  counts: CsvCounts,
): AsyncGenerator<PatientFacts> {
  let header: { width: number; meaning: (string | undefined)[] } | null = null;
  const wanted = new Set<string>(params.observations);

  for await (const { fields, line } of records) {
    if (header === null) {
      const names = fields.map((f) => f.trim().toLowerCase());
      const meaning = names.map((n) => COLUMN_MEANING[n]);
      const used = meaning.filter((m) => m !== undefined);
      if (used.length === 0) throw malformed(line, 'the header names no column this app knows');
      const repeated = used.find((m, i) => used.indexOf(m) !== i);
      if (repeated !== undefined) {
        throw malformed(line, `the header has more than one column for ${repeated}`);
      }
      counts.ignoredColumns = names.filter((_, i) => meaning[i] === undefined);
      header = { width: fields.length, meaning };
      continue;
    }
    if (fields.length !== header.width) {
      throw malformed(
        line,
        `${String(fields.length)} fields, the header has ${String(header.width)}`,
      );
    }
    counts.lines += 1;
    let sex: Sex = 'unknown';
    let age: number | null = null;
    let birthAge: number | null = null;
    const conditions: string[] = [];
    const observations = new Map<ObservationCode, number>();
    for (let i = 0; i < fields.length; i += 1) {
      const meaning = header.meaning[i];
      if (meaning === undefined) continue;
      const value = (fields[i] ?? '').trim();
      if (meaning === 'sex') {
        const s = SEX_VALUES[value.toLowerCase()];
        if (s === undefined) throw malformed(line, `sex "${value}" is not F, M, other or unknown`);
        sex = s;
      } else if (meaning === 'age') {
        if (value === '') continue;
        if (!/^\d{1,3}$/.test(value)) throw malformed(line, `age "${value}" is not whole years`);
        age = Number(value);
      } else if (meaning === 'birthDate') {
        if (value === '') continue;
        if (!/^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$/.test(value)) {
          throw malformed(line, `birth date "${value}" is not YYYY-MM-DD`);
        }
        birthAge = ageOn(value, params.asOf);
      } else if (meaning === 'conditions') {
        for (const code of value.split(/[;|\s]+/)) {
          if (code === '') continue;
          if (!/^[A-Za-z]\d{1,2}(\.?[0-9A-Za-z]{0,4})?$/.test(code)) {
            throw malformed(line, `"${code}" is not an ICD-10 code`);
          }
          const normal = normaliseIcd10(code);
          if (!conditions.includes(normal)) conditions.push(normal);
        }
      } else if (wanted.has(meaning)) {
        if (value === '') continue;
        const n = Number(value);
        if (!Number.isFinite(n)) throw malformed(line, `"${value}" is not a number`);
        observations.set(meaning as ObservationCode, n);
      }
    }
    yield { sex, age: age ?? birthAge, conditions, observations };
  }
  if (header === null) throw new CustosError('MalformedRecord', 'the CSV input has no header');
}
