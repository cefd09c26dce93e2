/**
 * Cohort statistics over patient facts, accumulated one patient at a time (constant memory), then
 * published with small-cell suppression.
 */
import type { ObservationCode, ResolvedParams, Sex, StatisticName } from './params.ts';
import { KNOWN_OBSERVATIONS, SEXES } from './params.ts';
import type { Cell, SuppressionRule } from './suppression.ts';
import { complementedCell, publish, singleCell, suppressGroup } from './suppression.ts';

/** What the app knows about one patient once all their records are read. */
export interface PatientFacts {
  readonly sex: Sex;
  /** Whole years at the reference date; null when the birth date or age is missing. */
  readonly age: number | null;
  /** ICD-10 codes, upper-case, without dots. */
  readonly conditions: readonly string[];
  /** One value per observation code: the patient's latest. */
  readonly observations: ReadonlyMap<ObservationCode, number>;
}

/** ICD-10 codes compare without their dot: E11.9, E119 and e11.9 are the same code. */
export function normaliseIcd10(code: string): string {
  return code.trim().toUpperCase().replaceAll('.', '');
}

interface Welford {
  n: number;
  mean: number;
  m2: number;
}

/** The labels of the age bands, in order, `unknown` last. */
export function ageBandLabels(bounds: readonly number[]): string[] {
  const labels: string[] = [];
  const first = bounds[0] ?? 0;
  if (first > 0) labels.push(`0-${String(first - 1)}`);
  bounds.forEach((b, i) => {
    const next = bounds[i + 1];
    labels.push(next === undefined ? `${String(b)}+` : `${String(b)}-${String(next - 1)}`);
  });
  labels.push('unknown');
  return labels;
}

function ageBandIndex(age: number | null, bounds: readonly number[]): number {
  const offset = (bounds[0] ?? 0) > 0 ? 1 : 0;
  if (age === null) return offset + bounds.length;
  let index = -1;
  bounds.forEach((b, i) => {
    if (age >= b) index = i;
  });
  return index + offset;
}

/** Published statistics of one cohort. */
export interface CohortStatistics {
  readonly ageBands?: readonly { readonly band: string; readonly count: Cell }[];
  readonly sex?: readonly { readonly sex: Sex; readonly count: Cell }[];
  readonly prevalence?: readonly {
    readonly code: string;
    readonly count: Cell;
    /** Percent of the cohort, one decimal; null when the count is suppressed. */
    readonly percent: number | null;
  }[];
  readonly observations?: readonly {
    readonly code: ObservationCode;
    readonly name: string;
    readonly unit: string;
    /** Patients of the cohort with a value. */
    readonly n: Cell;
    /** Mean and sample standard deviation, two decimals; null when `n` is suppressed or < 2. */
    readonly mean: number | null;
    readonly std: number | null;
  }[];
}

export interface PublishedCohort {
  readonly size: Cell;
  /** Null when the cohort is too small (or empty) to describe. */
  readonly statistics: CohortStatistics | null;
  /** Paths of the suppressed cells, e.g. `statistics.sex.other`. */
  readonly suppressed: readonly string[];
}

const round = (x: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/** Counts patients into the cohort and its statistics. */
export class CohortAccumulator {
  private readonly params: ResolvedParams;
  private readonly prevalencePrefixes: readonly string[];
  private readonly cohortPrefixes: readonly string[] | undefined;
  private readonly bands: number[];
  private readonly sexes = new Map<Sex, number>(SEXES.map((s) => [s, 0]));
  private readonly prevalence: number[];
  private readonly observations: Map<ObservationCode, Welford>;
  /** Patients read, in or out of the cohort. */
  patients = 0;
  size = 0;

  constructor(params: ResolvedParams) {
    this.params = params;
    this.prevalencePrefixes = params.prevalence.map(normaliseIcd10);
    this.cohortPrefixes = params.cohort.conditions?.map(normaliseIcd10);
    this.bands = ageBandLabels(params.ageBands).map(() => 0);
    this.prevalence = params.prevalence.map(() => 0);
    this.observations = new Map(params.observations.map((c) => [c, { n: 0, mean: 0, m2: 0 }]));
  }

  /** True when the patient belongs to the queried cohort. */
  inCohort(p: PatientFacts): boolean {
    const { ageMin, ageMax, sex } = this.params.cohort;
    if (sex !== undefined && p.sex !== sex) return false;
    if (ageMin !== undefined && (p.age === null || p.age < ageMin)) return false;
    if (ageMax !== undefined && (p.age === null || p.age > ageMax)) return false;
    const prefixes = this.cohortPrefixes;
    if (prefixes !== undefined) {
      return p.conditions.some((code) => prefixes.some((prefix) => code.startsWith(prefix)));
    }
    return true;
  }

  add(p: PatientFacts): void {
    this.patients += 1;
    if (!this.inCohort(p)) return;
    this.size += 1;
    const band = ageBandIndex(p.age, this.params.ageBands);
    this.bands[band] = (this.bands[band] ?? 0) + 1;
    this.sexes.set(p.sex, (this.sexes.get(p.sex) ?? 0) + 1);
    this.prevalencePrefixes.forEach((prefix, i) => {
      if (p.conditions.some((code) => code.startsWith(prefix))) {
        this.prevalence[i] = (this.prevalence[i] ?? 0) + 1;
      }
    });
    for (const [code, acc] of this.observations) {
      const value = p.observations.get(code);
      if (value === undefined) continue;
      acc.n += 1;
      const delta = value - acc.mean;
      acc.mean += delta / acc.n;
      acc.m2 += delta * (value - acc.mean);
    }
  }

  /** The cohort's statistics with every small cell suppressed. */
  publish(rule: SuppressionRule): PublishedCohort {
    const suppressed: string[] = [];
    const size = singleCell(this.size, rule);
    if (typeof size === 'string' || this.size === 0) {
      if (typeof size === 'string') suppressed.push('cohort.size');
      return { size, statistics: null, suppressed };
    }
    const wanted = new Set<StatisticName>(this.params.statistics);
    const statistics: { -readonly [K in keyof CohortStatistics]: CohortStatistics[K] } = {};

    if (wanted.has('ageBands')) {
      const labels = ageBandLabels(this.params.ageBands);
      const fates = suppressGroup(this.bands, rule);
      statistics.ageBands = labels.map((band, i) => {
        const count = publish(this.bands[i] ?? 0, fates[i] ?? 'group', rule);
        if (typeof count === 'string') suppressed.push(`statistics.ageBands.${band}`);
        return { band, count };
      });
    }
    if (wanted.has('sex')) {
      const counts = SEXES.map((s) => this.sexes.get(s) ?? 0);
      const fates = suppressGroup(counts, rule);
      statistics.sex = SEXES.map((sex, i) => {
        const count = publish(counts[i] ?? 0, fates[i] ?? 'group', rule);
        if (typeof count === 'string') suppressed.push(`statistics.sex.${sex}`);
        return { sex, count };
      });
    }
    if (wanted.has('prevalence')) {
      statistics.prevalence = this.params.prevalence.map((code, i) => {
        const raw = this.prevalence[i] ?? 0;
        const count = complementedCell(raw, this.size, rule);
        if (typeof count === 'string') suppressed.push(`statistics.prevalence.${code}`);
        return {
          code,
          count,
          percent: typeof count === 'string' ? null : round((100 * raw) / this.size, 1),
        };
      });
    }
    if (wanted.has('observations')) {
      statistics.observations = this.params.observations.map((code) => {
        const acc = this.observations.get(code) ?? { n: 0, mean: 0, m2: 0 };
        const n = singleCell(acc.n, rule);
        const hidden = typeof n === 'string';
        if (hidden) suppressed.push(`statistics.observations.${code}`);
        return {
          code,
          name: KNOWN_OBSERVATIONS[code].name,
          unit: KNOWN_OBSERVATIONS[code].unit,
          n,
          mean: hidden || acc.n === 0 ? null : round(acc.mean, 2),
          std: hidden || acc.n < 2 ? null : round(Math.sqrt(acc.m2 / (acc.n - 1)), 2),
        };
      });
    }
    return { size, statistics, suppressed };
  }
}
