/**
 * Sample enclave app "cohort statistics": counts, age bands, sex distribution, prevalence and
 * observation means of a cohort of patients, read from FHIR R4 NDJSON or CSV, with small-cell
 * suppression so no individual can be singled out. Pure computation: the runtime hands it the
 * decrypted plaintext stream and the consumer's query, and encrypts what it returns.
 * See docs/cohort-stats.md.
 */
import type { PublishedCohort } from './cohort.ts';
import { CohortAccumulator } from './cohort.ts';
import type { CsvCounts } from './csv.ts';
import { csvRecords, readCsv } from './csv.ts';
import type { FhirCounts } from './fhir.ts';
import { emptyFhirCounts, readFhir } from './fhir.ts';
import type { ResolvedParams } from './params.ts';
import { parseParams } from './params.ts';
import type { Cell, SuppressionRule } from './suppression.ts';
import { COMPLEMENTARY, isSmall, singleCell } from './suppression.ts';
import type { CohortInput } from './text.ts';
import { numberedLines, sniff, textChunks } from './text.ts';

export type { CohortInput } from './text.ts';
export type { CohortQuery, ResolvedParams } from './params.ts';
export { KNOWN_OBSERVATIONS, MIN_CELL_SIZE_FLOOR, DEFAULT_MIN_CELL_SIZE } from './params.ts';
export type { Cell } from './suppression.ts';
export type { CohortStatistics } from './cohort.ts';

export const APP_NAME = 'cohort-stats';
export const APP_VERSION = '1.0.0';
/** The result format; a reader checks it before anything else. */
export const RESULT_SCHEMA = 'custos.cohort-stats.result/1';

/** Longest NDJSON line / CSV record accepted (characters). */
export const MAX_RECORD_LENGTH = 16 * 1024 * 1024;

/** What the app read: published whole, or withheld whole if it would reveal a small total. */
export type InputCounts =
  | (Omit<FhirCounts, 'peakOpenPatients'> & { readonly patients: number })
  | (CsvCounts & { readonly patients: number });

export interface CohortStatsResult {
  readonly schema: typeof RESULT_SCHEMA;
  readonly app: { readonly name: typeof APP_NAME; readonly version: string };
  /** The query as run, every default filled in. */
  readonly parameters: ResolvedParams;
  readonly input: {
    readonly format: 'fhir-ndjson' | 'csv';
    /** `"suppressed"` when the number of patients (or of those outside the cohort) is small. */
    readonly counts: InputCounts | typeof COMPLEMENTARY;
  };
  readonly cohort: { readonly size: Cell };
  readonly statistics: PublishedCohort['statistics'];
  readonly suppression: {
    readonly minCellSize: number;
    readonly zerosSuppressed: boolean;
    readonly marker: string;
    /** Paths of every cell that is not shown as a number. */
    readonly cells: readonly string[];
  };
}

export interface RunOptions {
  /** Today's date for the default `asOf` (tests pass a fixed one). */
  readonly now?: Date;
  /** Called with the most patients held in memory at once (for tests and the runtime's logs). */
  readonly onPeakOpenPatients?: (peak: number) => void;
}

/**
 * The app's entry point. Reads the plaintext (a byte stream, or a file path) as FHIR R4 NDJSON or
 * CSV, computes the queried cohort statistics and returns them with small cells suppressed. The
 * result is plain JSON (`JSON.stringify` it); the same input and parameters give the same result.
 * @throws CustosError `UsageError` for invalid parameters; `MalformedRecord` for input that is not
 *   valid UTF-8, FHIR R4 NDJSON or CSV (the message names the line); `NotFound`,
 *   `PermissionDenied` or `FileSystemError` when a path cannot be read.
 */
export async function run(
  input: CohortInput,
  params: unknown,
  options: RunOptions = {},
): Promise<CohortStatsResult> {
  const parameters = parseParams(params, options.now);
  const rule: SuppressionRule = {
    minCellSize: parameters.minCellSize,
    suppressZeros: parameters.suppressZeros,
  };
  const accumulator = new CohortAccumulator(parameters);
  const detected =
    parameters.format === 'auto'
      ? await sniff(textChunks(input))
      : { format: parameters.format, chunks: textChunks(input) };

  let counts: InputCounts;
  if (detected.format === 'fhir-ndjson') {
    const fhir = emptyFhirCounts();
    for await (const patient of readFhir(
      numberedLines(detected.chunks, MAX_RECORD_LENGTH),
      parameters,
      fhir,
    )) {
      accumulator.add(patient);
    }
    options.onPeakOpenPatients?.(fhir.peakOpenPatients);
    const { peakOpenPatients: _peak, ...published } = fhir;
    counts = { ...published, patients: accumulator.patients };
  } else {
    const csv: CsvCounts = { lines: 0, ignoredColumns: [] };
    for await (const patient of readCsv(
      csvRecords(detected.chunks, MAX_RECORD_LENGTH),
      parameters,
      csv,
    )) {
      accumulator.add(patient);
    }
    counts = { ...csv, patients: accumulator.patients };
  }

  const cohort = accumulator.publish(rule);
  const cells = [...cohort.suppressed];
  // The dataset's patient count is visible in the row counts; it and the number of patients left
  // out of the cohort are cells like any other.
  const total = accumulator.patients;
  const revealsSmall =
    typeof singleCell(total, rule) === 'string' ||
    (typeof cohort.size === 'number' && isSmall(total - accumulator.size, rule));
  if (revealsSmall) cells.unshift('input.counts');

  return {
    schema: RESULT_SCHEMA,
    app: { name: APP_NAME, version: APP_VERSION },
    parameters,
    input: { format: detected.format, counts: revealsSmall ? COMPLEMENTARY : counts },
    cohort: { size: cohort.size },
    statistics: cohort.statistics,
    suppression: {
      minCellSize: rule.minCellSize,
      zerosSuppressed: rule.suppressZeros,
      marker: `<${String(rule.minCellSize)}`,
      cells,
    },
  };
}
