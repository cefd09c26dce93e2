import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { isCustosError } from '../errors/index.ts';
import {
  ALL_DIAGNOSES,
  CHOLESTEROL_MG_DL_PER_MMOL_L,
  ICD10_SYSTEM,
  LOINC,
  SNOMED_SYSTEM,
  SYNTHETIC_COLUMNS,
  SYNTHETIC_TAG,
  ageAt,
  csvRow,
  syntheticCsvLines,
  syntheticFhirLines,
  syntheticFhirNdjson,
  syntheticPatients,
  syntheticPatientsCsv,
  writeSyntheticFile,
} from './index.ts';

let dir: string | undefined;
afterAll(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));

const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

describe('synthetic patients', () => {
  const patients = [...syntheticPatients(5000, { seed: 11 })];

  it('is deterministic per seed and differs between seeds', () => {
    expect([...syntheticFhirLines(50, { seed: 3 })]).toEqual([
      ...syntheticFhirLines(50, { seed: 3 }),
    ]);
    expect([...syntheticFhirLines(50, { seed: 3 })]).not.toEqual([
      ...syntheticFhirLines(50, { seed: 4 }),
    ]);
    expect(syntheticPatientsCsv(20, 9)).toBe([...syntheticCsvLines(20, { seed: 9 })].join(''));
  });

  it('ages are whole years at the reference date and consistent with the birth date', () => {
    for (const p of patients) {
      expect(p.age).toBe(ageAt(p.birthDate, '2025-01-01'));
      expect(p.age).toBeGreaterThanOrEqual(18);
      expect(p.age).toBeLessThan(100);
    }
    const shifted = [...syntheticPatients(10, { seed: 11, asOf: '2030-06-15' })];
    for (const p of shifted) expect(p.age).toBe(ageAt(p.birthDate, '2030-06-15'));
  });

  it('ageAt counts a birthday only once it has passed', () => {
    expect(ageAt('2000-03-01', '2025-02-28')).toBe(24);
    expect(ageAt('2000-03-01', '2025-03-01')).toBe(25);
    expect(ageAt('2000-02-29', '2025-02-28')).toBe(24);
  });

  it('blood pressure rises with age, and diabetes comes with a higher HbA1c', () => {
    const sbp = (p: (typeof patients)[number]): number => p.systolicBp.at(-1)?.systolic ?? NaN;
    const old = patients.filter((p) => p.age >= 70).map(sbp);
    const young = patients.filter((p) => p.age < 40).map(sbp);
    expect(old.length).toBeGreaterThan(200);
    expect(young.length).toBeGreaterThan(200);
    expect(mean(old) - mean(young)).toBeGreaterThan(15);

    const diabetic = (p: (typeof patients)[number]): boolean =>
      p.conditions.some((c) => c.icd10.startsWith('E11'));
    const a1cDm = patients.filter(diabetic).map((p) => p.hba1cPercent);
    const a1cNo = patients.filter((p) => !diabetic(p)).map((p) => p.hba1cPercent);
    expect(mean(a1cDm)).toBeGreaterThan(7);
    expect(mean(a1cNo)).toBeLessThan(6);
  });

  it('a patient never has the same diagnosis twice', () => {
    for (const p of patients) {
      expect(new Set(p.conditions.map((c) => c.icd10)).size).toBe(p.conditions.length);
    }
  });
});

describe('FHIR R4 NDJSON', () => {
  const resources = [...syntheticFhirLines(300, { seed: 5 })].map(
    (line) => JSON.parse(line) as Record<string, unknown>,
  );

  it('every line is one resource ending in a newline, tagged synthetic', () => {
    const lines = [...syntheticFhirLines(20)];
    for (const line of lines) {
      expect(line.endsWith('\n')).toBe(true);
      expect(line.slice(0, -1)).not.toContain('\n');
    }
    for (const r of resources) expect(r.meta).toEqual({ tag: [SYNTHETIC_TAG] });
  });

  it('patients carry gender, birth date and only country + postal prefix', () => {
    const patients = resources.filter((r) => r.resourceType === 'Patient');
    expect(patients).toHaveLength(300);
    for (const p of patients) {
      expect(Object.keys(p).sort()).toEqual(
        ['address', 'birthDate', 'gender', 'id', 'meta', 'resourceType'].sort(),
      );
      expect(['female', 'male']).toContain(p.gender);
      expect(p.birthDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      const address = p.address as Record<string, unknown>[];
      expect(address).toHaveLength(1);
      expect(Object.keys(address[0] ?? {}).sort()).toEqual(['country', 'postalCode']);
      expect(address[0]?.postalCode).toMatch(/^\d{2}$/);
    }
  });

  it('conditions are coded in ICD-10 and SNOMED CT, with an onset, for their patient', () => {
    const known = new Map(ALL_DIAGNOSES.map((d) => [d.icd10, d.snomed]));
    const conditions = resources.filter((r) => r.resourceType === 'Condition');
    expect(conditions.length).toBeGreaterThanOrEqual(300);
    let patient = '';
    for (const r of resources) {
      if (r.resourceType === 'Patient') patient = `Patient/${String(r.id)}`;
      else expect((r.subject as { reference: string }).reference).toBe(patient);
    }
    for (const c of conditions) {
      const coding = (c.code as { coding: { system: string; code: string }[] }).coding;
      const icd = coding.find((x) => x.system === ICD10_SYSTEM)?.code ?? '';
      expect(known.get(icd)).toBe(coding.find((x) => x.system === SNOMED_SYSTEM)?.code);
      expect(c.onsetDateTime).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
  });

  it('observations use the LOINC codes with UCUM units', () => {
    const byCode = new Map<string, number>();
    for (const o of resources.filter((r) => r.resourceType === 'Observation')) {
      const code = (o.code as { coding: { code: string; system: string }[] }).coding[0];
      expect(code?.system).toBe('http://loinc.org');
      const expected = Object.values(LOINC).find((l) => l.code === code?.code);
      expect(expected).toBeDefined();
      expect(o.valueQuantity).toMatchObject({
        unit: expected?.unit,
        code: expected?.unit,
        system: 'http://unitsofmeasure.org',
      });
      byCode.set(code?.code ?? '', (byCode.get(code?.code ?? '') ?? 0) + 1);
    }
    expect(byCode.get('2093-3')).toBe(300);
    expect(byCode.get('4548-4')).toBe(300);
    expect(byCode.get('39156-5')).toBe(300);
    expect(byCode.get('8480-6')).toBeGreaterThan(300);
  });

  it('the async form yields the same lines', async () => {
    const out: string[] = [];
    for await (const line of syntheticFhirNdjson(25, { seed: 8 })) out.push(line);
    expect(out).toEqual([...syntheticFhirLines(25, { seed: 8 })]);
  });

  it('CSV and FHIR describe the same patients (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 0x7fffffff }), (seed) => {
        const [p] = [...syntheticPatients(1, { seed })];
        if (!p) return false;
        const row = csvRow(p).split(',');
        const fhir = [...syntheticFhirLines(1, { seed })].map(
          (l) => JSON.parse(l) as { resourceType: string; code?: { coding: { code: string }[] } },
        );
        const chol = fhir.find((r) => r.code?.coding[0]?.code === '2093-3') as unknown as {
          valueQuantity: { value: number };
        };
        return (
          row[0] === p.id &&
          row[3] === p.conditions[0]?.icd10 &&
          Math.abs(chol.valueQuantity.value - Number(row[6]) * CHOLESTEROL_MG_DL_PER_MMOL_L) <= 0.5
        );
      }),
      { numRuns: 200 },
    );
  });
});

describe('CSV', () => {
  it('keeps the documented columns, one row per patient', () => {
    const lines = syntheticPatientsCsv(40, 1).trimEnd().split('\n');
    expect(lines[0]).toBe(SYNTHETIC_COLUMNS.join(','));
    expect(lines).toHaveLength(41);
    for (const line of lines.slice(1)) {
      expect(line).toMatch(/^P\d{6},\d+,[FM],[A-Z]\d\d(\.\d)?,"[^"]+",\d+,\d+\.\d,[01],[01]$/);
    }
  });
});

describe('writeSyntheticFile', () => {
  it('streams a file identical to the generated lines and never overwrites', async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-synthetic-'));
    const path = join(dir, 'patients.ndjson');
    await writeSyntheticFile(path, 'fhir-ndjson', 200, { seed: 6 });
    expect(await readFile(path, 'utf8')).toBe([...syntheticFhirLines(200, { seed: 6 })].join(''));
    const csv = join(dir, 'patients.csv');
    await writeSyntheticFile(csv, 'csv', 30, { seed: 6 });
    expect(await readFile(csv, 'utf8')).toBe(syntheticPatientsCsv(30, 6));

    await writeFile(join(dir, 'taken'), 'x');
    const error: unknown = await writeSyntheticFile(join(dir, 'taken'), 'csv', 1).catch(
      (e: unknown) => e,
    );
    expect(isCustosError(error, 'OutputExists')).toBe(true);
    expect(await readFile(join(dir, 'taken'), 'utf8')).toBe('x');
  });

  it('refuses a bad reference date or count', () => {
    expect(() => [...syntheticPatients(1, { asOf: '2025-13-45' })]).toThrow(RangeError);
    expect(() => [...syntheticPatients(-1)]).toThrow(RangeError);
  });
});
