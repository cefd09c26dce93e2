import { describe, expect, it } from 'vitest';
import { isCustosError } from '../../../app/errors/index.ts';
import type { CohortStatsResult } from './index.ts';
import { run } from './index.ts';

/** A hand-built FHIR R4 dataset with answers worked out by hand (reference date 2025-01-01). */
const ICD = 'http://hl7.org/fhir/sid/icd-10';
const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const patient = (id: string, gender: string, birthDate?: string): object => ({
  resourceType: 'Patient',
  id,
  gender,
  ...(birthDate === undefined ? {} : { birthDate }),
});
const condition = (subject: string, code: string, extra: object = {}): object => ({
  resourceType: 'Condition',
  subject: { reference: `Patient/${subject}` },
  code: { coding: [{ system: ICD, code }] },
  ...extra,
});
const observation = (
  subject: string,
  code: string,
  value: number,
  unit: string,
  extra: object = {},
): object => ({
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: LOINC, code }] },
  subject: { reference: `Patient/${subject}` },
  valueQuantity: { value, unit, system: UCUM, code: unit },
  ...extra,
});

const SBP: Record<string, number> = {
  P1: 110,
  P2: 120,
  P4: 140,
  P5: 150,
  P6: 160,
  P7: 115,
  P8: 125,
  P9: 135,
  P10: 145,
  P11: 155,
};
const HBA1C: Record<string, number> = {
  P2: 7.0,
  P4: 8.0,
  P5: 6.5,
  P6: 7.5,
  P8: 9.0,
  P10: 7.0,
  P11: 6.0,
};
const DIABETIC = ['P2', 'P4', 'P5', 'P6', 'P8', 'P10', 'P11'];
const HYPERTENSIVE = ['P4', 'P5', 'P6', 'P11', 'P12'];

function dataset(): object[] {
  const resources: object[] = [
    // Ages on 2025-01-01: 34, 40, 44 (birthday tomorrow), 54, 65, 74 | 29, 40, 49 (1975 → mid-year),
    // 59 (1965-05 → mid-month), 70, unknown.
    patient('P1', 'female', '1990-06-01'),
    patient('P2', 'female', '1985-01-01'),
    patient('P3', 'female', '1980-01-02'),
    patient('P4', 'female', '1970-12-31'),
    patient('P5', 'female', '1960-01-01'),
    patient('P6', 'female', '1950-07-01'),
    patient('P7', 'male', '1995-03-03'),
    patient('P8', 'male', '1984-12-31'),
    patient('P9', 'male', '1975'),
    patient('P10', 'male', '1965-05'),
    patient('P11', 'male', '1955-01-01'),
    patient('P12', 'male'),
    { resourceType: 'Encounter', id: 'e1', status: 'finished' },
    { resourceType: 'Encounter', id: 'e2', status: 'finished' },
    { resourceType: 'Practitioner', id: 'dr' },
  ];
  for (const id of DIABETIC) resources.push(condition(id, 'E11.9'));
  for (const id of HYPERTENSIVE) resources.push(condition(id, 'I10'));
  resources.push(
    // Refuted: P1 does not have diabetes.
    condition('P1', 'E11.9', {
      verificationStatus: {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status',
            code: 'refuted',
          },
        ],
      },
    }),
    // SNOMED only: not counted towards ICD-10 prevalence.
    {
      resourceType: 'Condition',
      subject: { reference: 'Patient/P3' },
      code: { coding: [{ system: 'http://snomed.info/sct', code: '44054006' }] },
    },
    // No Patient resource for this subject.
    condition('ghost', 'E11.9'),
  );
  for (const [id, v] of Object.entries(SBP)) {
    resources.push(observation(id, '8480-6', v, 'mm[Hg]', { effectiveDateTime: '2024-06-01' }));
  }
  resources.push(
    // P3: the later reading (130) counts, whatever the order in the file.
    observation('P3', '8480-6', 130, 'mm[Hg]', { effectiveDateTime: '2024-06-01' }),
    observation('P3', '8480-6', 150, 'mm[Hg]', { effectiveDateTime: '2024-01-01' }),
    observation('P12', '8480-6', 200, 'mm[Hg]', { status: 'preliminary' }),
    observation('P7', '8480-6', 15, 'kPa'),
    observation('P7', '8462-4', 80, 'mm[Hg]'),
    {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: LOINC, code: '39156-5' }] },
      subject: { reference: 'Patient/P1' },
      valueString: 'not measured',
    },
    { ...observation('P1', '8480-6', 300, 'mm[Hg]'), subject: { reference: 'Group/g1' } },
  );
  for (const [id, v] of Object.entries(HBA1C)) resources.push(observation(id, '4548-4', v, '%'));
  return resources;
}

/** Items as an async stream, one at a time. */
function stream<T>(items: Iterable<T>): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]: () => {
      const iterator = items[Symbol.iterator]();
      return { next: () => Promise.resolve(iterator.next()) };
    },
  };
}

function ndjson(resources: readonly object[]): AsyncIterable<Uint8Array> {
  const encoder = new TextEncoder();
  return stream(resources.map((r) => encoder.encode(`${JSON.stringify(r)}\n`)));
}

const base = { asOf: '2025-01-01', minCellSize: 5 };

describe('cohort statistics over FHIR R4 NDJSON (known answers)', () => {
  it('counts, age bands, sex, prevalence and means of the whole population', async () => {
    const result = await run(ndjson(dataset()), {
      ...base,
      ageBands: [0, 40, 60],
      prevalence: ['E11', 'I10', 'J44'],
      observations: ['8480-6', '4548-4', '39156-5'],
    });
    expect(result.schema).toBe('custos.cohort-stats.result/1');
    expect(result.input.format).toBe('fhir-ndjson');
    expect(result.input.counts).toEqual({
      lines: 54,
      resources: { Patient: 12, Condition: 15, Observation: 24 },
      unknownResourceTypes: { Encounter: 2, Practitioner: 1 },
      skipped: {
        conditionsRefuted: 1,
        conditionsWithoutIcd10: 1,
        observationsNotFinal: 1,
        observationsWithoutValue: 1,
        observationsWrongUnit: 1,
        observationsOtherCode: 1,
        resourcesWithoutPatient: 1,
        subjectNotPatient: 1,
      },
      patients: 12,
    });
    expect(result.cohort.size).toBe(12);
    // Bands 0-39: P1, P7 · 40-59: P2, P3, P4, P8, P9, P10 · 60+: P5, P6, P11 · unknown: P12.
    // Hidden sum 6 over three cells of 1 … 4 leaves each any of 1 … 4: no complement needed.
    expect(result.statistics?.ageBands).toEqual([
      { band: '0-39', count: '<5' },
      { band: '40-59', count: 6 },
      { band: '60+', count: '<5' },
      { band: 'unknown', count: '<5' },
    ]);
    expect(result.statistics?.sex).toEqual([
      { sex: 'female', count: 6 },
      { sex: 'male', count: 6 },
      { sex: 'other', count: 0 },
      { sex: 'unknown', count: 0 },
    ]);
    expect(result.statistics?.prevalence).toEqual([
      { code: 'E11', count: 7, percent: 58.3 },
      { code: 'I10', count: 5, percent: 41.7 },
      { code: 'J44', count: 0, percent: 0 },
    ]);
    // SBP: 110 120 130 140 150 160 115 125 135 145 155 → mean 135, Σd² 2750, sd √275.
    // HbA1c: 7 8 6.5 7.5 9 7 6 → mean 51/7, Σd² 377.5 − 51²/7, sd √(5.92857/6).
    expect(result.statistics?.observations).toEqual([
      {
        code: '8480-6',
        name: 'Systolic blood pressure',
        unit: 'mm[Hg]',
        n: 11,
        mean: 135,
        std: 16.58,
      },
      {
        code: '4548-4',
        name: 'Hemoglobin A1c/Hemoglobin.total in Blood',
        unit: '%',
        n: 7,
        mean: 7.29,
        std: 0.99,
      },
      {
        code: '39156-5',
        name: 'Body mass index (BMI) [Ratio]',
        unit: 'kg/m2',
        n: 0,
        mean: null,
        std: null,
      },
    ]);
    expect(result.suppression).toEqual({
      minCellSize: 5,
      zerosSuppressed: false,
      marker: '<5',
      cells: ['statistics.ageBands.0-39', 'statistics.ageBands.60+', 'statistics.ageBands.unknown'],
    });
  });

  it('filters the cohort by condition and age, and hides a sex split that would pin cells down', async () => {
    const result = await run(ndjson(dataset()), {
      ...base,
      cohort: { conditions: ['E11'], ageMin: 40, ageMax: 70 },
      statistics: ['sex', 'observations'],
      observations: ['4548-4'],
    });
    // Diabetics aged 40 … 70: P2 (40), P4 (54), P5 (65), P8 (40), P10 (59), P11 (70).
    expect(result.cohort.size).toBe(6);
    // female 3, male 3: two cells of 1 … 4 adding to 6 would each be at least 2 — all hidden.
    expect(result.statistics?.sex).toEqual([
      { sex: 'female', count: 'suppressed' },
      { sex: 'male', count: 'suppressed' },
      { sex: 'other', count: 'suppressed' },
      { sex: 'unknown', count: 'suppressed' },
    ]);
    expect(result.statistics?.ageBands).toBeUndefined();
    // 7, 8, 6.5, 9, 7, 6 → mean 7.25.
    expect(result.statistics?.observations?.[0]).toMatchObject({ n: 6, mean: 7.25 });
    // 12 patients, 6 outside the cohort: neither small, so the input counts stand.
    expect(result.input.counts).not.toBe('suppressed');
  });

  it('a cohort below the minimum is reported as <min with no statistics', async () => {
    const result = await run(ndjson(dataset()), {
      ...base,
      cohort: { conditions: ['I10'], sex: 'female' },
    });
    // P4, P5, P6.
    expect(result.cohort.size).toBe('<5');
    expect(result.statistics).toBeNull();
    expect(result.suppression.cells).toContain('cohort.size');
    expect(JSON.stringify(result)).not.toMatch(/"size":3/);
  });

  it('gives the same answer whether the resources are grouped, shuffled or chunked differently', async () => {
    const resources = dataset();
    const reference = await run(ndjson(resources), base);
    const shuffled = [...resources].reverse();
    expect(await run(ndjson(shuffled), base)).toEqual(reference);
    const text = resources.map((r) => `${JSON.stringify(r)}\r\n`).join('');
    const bytes = new TextEncoder().encode(text);
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += 7) chunks.push(bytes.subarray(i, i + 7));
    expect(await run(stream(chunks), base)).toEqual(reference);
  });
});

describe('malformed FHIR input is a MalformedRecord naming the line', () => {
  async function failure(lines: readonly string[], params: object = base): Promise<unknown> {
    return run(stream(lines.map((line) => `${line}\n`)), params).then(
      (r: CohortStatsResult) => r,
      (e: unknown) => e,
    );
  }
  const ok = JSON.stringify(patient('P1', 'female', '1990-01-01'));

  it.each([
    ['a line that is not JSON', [ok, '{"resourceType":"Patient",'], 2],
    ['a JSON value that is not a resource', [ok, '[1,2,3]'], 2],
    ['a Patient without an id', [ok, '{"resourceType":"Patient","gender":"female"}'], 2],
    [
      'a Patient with an impossible gender',
      ['{"resourceType":"Patient","id":"x","gender":"f"}'],
      1,
    ],
    [
      'a Patient with a malformed birth date',
      ['{"resourceType":"Patient","id":"x","birthDate":"1/2/1990"}'],
      1,
    ],
    ['a Condition without a subject', [ok, '{"resourceType":"Condition","code":{}}'], 2],
    [
      'an Observation whose value is text',
      [
        ok,
        JSON.stringify({
          ...observation('P1', '8480-6', 1, 'mm[Hg]'),
          valueQuantity: { value: '120' },
        }),
      ],
      2,
    ],
    ['a Patient twice', [ok, ok], 2],
  ])('%s', async (_name, lines, line) => {
    const error = await failure(lines);
    expect(isCustosError(error, 'MalformedRecord')).toBe(true);
    expect((error as { details: { line: number } }).details.line).toBe(line);
  });

  it('grouped order refuses a resource outside its patient’s group', async () => {
    const lines = [
      ok,
      JSON.stringify(patient('P2', 'male', '1980-01-01')),
      JSON.stringify(condition('P1', 'E11')),
    ];
    const error = await failure(lines, { ...base, fhirOrder: 'grouped' });
    expect(isCustosError(error, 'MalformedRecord')).toBe(true);
    expect(String((error as Error).message)).toContain('not grouped by patient');
    // The same lines are fine in any order.
    expect(await failure(lines, base)).toMatchObject({ cohort: { size: '<5' } });
  });

  it('invalid UTF-8 is refused', async () => {
    const input = stream([
      new TextEncoder().encode('{"resourceType":"Patient","id":"a","gender":"'),
      Uint8Array.of(0xff, 0xfe),
      new TextEncoder().encode('"}\n'),
    ]);
    const error: unknown = await run(input, base).catch((e: unknown) => e);
    expect(isCustosError(error, 'MalformedRecord')).toBe(true);
  });

  it('parameters are checked: a minimum below 5 is a usage error', async () => {
    for (const params of [
      { minCellSize: 4 },
      { cohort: { ageMin: 50, ageMax: 40 } },
      { cohort: { conditions: ['not a code'] } },
      { observations: ['1234-5'] },
      { ageBands: [10, 5] },
      { unexpected: true },
    ]) {
      const error = await failure([ok], params);
      expect(isCustosError(error, 'UsageError')).toBe(true);
    }
  });
});
