/**
 * Synthetic patient data for the demo and tests: deterministic from a seed, realistic enough for
 * cohort statistics, and entirely made up — no real person is in it. Two forms of the same patients:
 * FHIR R4 NDJSON (Patient, Condition, Observation) and CSV (one row per patient). Both are streamed
 * line by line, so a file of any size is written in constant memory.
 */
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fromFsError } from '../errors/index.ts';
import { patientResources } from './fhir.ts';
import { syntheticPatients } from './model.ts';
import type { SyntheticOptions, SyntheticPatient } from './model.ts';

export {
  ALL_DIAGNOSES,
  DEFAULT_AS_OF,
  DEFAULT_SEED,
  PRIMARY_DIAGNOSES,
  ageAt,
  syntheticPatients,
} from './model.ts';
export type { Diagnosis, SyntheticOptions, SyntheticPatient } from './model.ts';
export {
  CHOLESTEROL_MG_DL_PER_MMOL_L,
  ICD10_SYSTEM,
  LOINC,
  LOINC_SYSTEM,
  SNOMED_SYSTEM,
  SYNTHETIC_TAG,
  UCUM_SYSTEM,
  patientResources,
} from './fhir.ts';

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

/** One CSV row (no newline) for a patient: primary diagnosis, latest blood pressure. */
export function csvRow(p: SyntheticPatient): string {
  const primary = p.conditions[0];
  const latestBp = p.systolicBp.at(-1);
  return [
    p.id,
    p.age,
    p.sex === 'female' ? 'F' : 'M',
    primary?.icd10 ?? '',
    `"${(primary?.display ?? '').replaceAll('"', '""')}"`,
    latestBp?.systolic ?? '',
    p.cholesterolMmolL.toFixed(1),
    p.smoker ? 1 : 0,
    p.readmitted30d ? 1 : 0,
  ].join(',');
}

/**
 * CSV lines, each ending in a newline: the header, then one row per patient.
 * @throws RangeError for a bad count or reference date.
 */
export function* syntheticCsvLines(
  count: number,
  options: SyntheticOptions = {},
): Generator<string> {
  yield `${SYNTHETIC_COLUMNS.join(',')}\n`;
  for (const p of syntheticPatients(count, options)) yield `${csvRow(p)}\n`;
}

/**
 * FHIR R4 NDJSON lines, each ending in a newline: per patient its Patient resource, then its
 * Conditions and Observations.
 * @throws RangeError for a bad count or reference date.
 */
export function* syntheticFhirLines(
  count: number,
  options: SyntheticOptions = {},
): Generator<string> {
  for (const p of syntheticPatients(count, options)) {
    for (const resource of patientResources(p)) yield `${JSON.stringify(resource)}\n`;
  }
}

/** Yields the lines, giving the event loop a turn every 1024 lines so I/O is never starved. */
async function* breathing(lines: Iterable<string>): AsyncGenerator<string> {
  let n = 0;
  for (const line of lines) {
    yield line;
    n += 1;
    if (n % 1024 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** {@link syntheticFhirLines} as an async iterable (what streams and the enclave app consume). */
export async function* syntheticFhirNdjson(
  count: number,
  options: SyntheticOptions = {},
): AsyncGenerator<string> {
  yield* breathing(syntheticFhirLines(count, options));
}

/** {@link syntheticCsvLines} as an async iterable. */
export async function* syntheticCsv(
  count: number,
  options: SyntheticOptions = {},
): AsyncGenerator<string> {
  yield* breathing(syntheticCsvLines(count, options));
}

/** CSV text of `rows` synthetic patients (header line included). Kept for small demos. */
export function syntheticPatientsCsv(rows: number, seed = 2024): string {
  return [...syntheticCsvLines(rows, { seed })].join('');
}

/**
 * Writes `count` synthetic patients to a new file (never overwrites), streaming in constant memory.
 * @throws CustosError `OutputExists`, `DiskFull`, `PermissionDenied`, `NotFound` or
 *   `FileSystemError` when the file cannot be written; RangeError for a bad count or date.
 */
export async function writeSyntheticFile(
  path: string,
  format: 'fhir-ndjson' | 'csv',
  count: number,
  options: SyntheticOptions = {},
): Promise<void> {
  const lines =
    format === 'csv' ? syntheticCsvLines(count, options) : syntheticFhirLines(count, options);
  try {
    await pipeline(Readable.from(lines), createWriteStream(path, { flags: 'wx', mode: 0o600 }));
  } catch (error) {
    if (error instanceof RangeError) throw error;
    throw fromFsError(error, path);
  }
}
