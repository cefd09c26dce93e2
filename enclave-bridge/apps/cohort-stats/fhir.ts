/**
 * FHIR R4 NDJSON → patient facts. Each line is parsed and checked with zod where it enters;
 * Patient, Condition and Observation are read, any other resource type is counted and skipped.
 */
import { z } from 'zod';
import { CustosError } from '../../../app/errors/index.ts';
import type { PatientFacts } from './cohort.ts';
import { normaliseIcd10 } from './cohort.ts';
import type { ObservationCode, ResolvedParams, Sex } from './params.ts';
import { KNOWN_OBSERVATIONS } from './params.ts';

const LOINC_SYSTEM = 'http://loinc.org';
const UCUM_SYSTEM = 'http://unitsofmeasure.org';
/** Condition verification statuses that mean "this patient does not have it". */
const NOT_A_DIAGNOSIS = new Set(['refuted', 'entered-in-error']);
/** Observation statuses whose value stands. */
const FINAL = new Set(['final', 'amended', 'corrected']);

const FhirId = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'a FHIR id');
const FhirDate = z
  .string()
  .regex(/^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$/, 'a FHIR date');
const Coding = z.object({ system: z.string().optional(), code: z.string().optional() });
const CodeableConcept = z.object({
  coding: z.array(Coding).optional(),
  text: z.string().optional(),
});
const Reference = z.object({ reference: z.string().min(1) });

const PatientSchema = z.object({
  resourceType: z.literal('Patient'),
  id: FhirId,
  gender: z.enum(['male', 'female', 'other', 'unknown']).optional(),
  birthDate: FhirDate.optional(),
});
const ConditionSchema = z.object({
  resourceType: z.literal('Condition'),
  subject: Reference,
  code: CodeableConcept.optional(),
  verificationStatus: CodeableConcept.optional(),
});
const ObservationSchema = z.object({
  resourceType: z.literal('Observation'),
  status: z.string().min(1),
  code: CodeableConcept,
  subject: Reference.optional(),
  effectiveDateTime: z.string().optional(),
  effectiveInstant: z.string().optional(),
  issued: z.string().optional(),
  valueQuantity: z
    .object({
      value: z.number().optional(),
      unit: z.string().optional(),
      system: z.string().optional(),
      code: z.string().optional(),
    })
    .optional(),
});
const ResourceHead = z.object({ resourceType: z.string().min(1) });

/** What the reader counted on the way. */
export interface FhirCounts {
  lines: number;
  resources: { Patient: number; Condition: number; Observation: number };
  unknownResourceTypes: Record<string, number>;
  skipped: {
    conditionsRefuted: number;
    conditionsWithoutIcd10: number;
    observationsNotFinal: number;
    observationsWithoutValue: number;
    observationsWrongUnit: number;
    observationsOtherCode: number;
    resourcesWithoutPatient: number;
    subjectNotPatient: number;
  };
  /** Most patients held in memory at once (1 when grouped). */
  peakOpenPatients: number;
}

export function emptyFhirCounts(): FhirCounts {
  return {
    lines: 0,
    resources: { Patient: 0, Condition: 0, Observation: 0 },
    unknownResourceTypes: {},
    skipped: {
      conditionsRefuted: 0,
      conditionsWithoutIcd10: 0,
      observationsNotFinal: 0,
      observationsWithoutValue: 0,
      observationsWrongUnit: 0,
      observationsOtherCode: 0,
      resourcesWithoutPatient: 0,
      subjectNotPatient: 0,
    },
    peakOpenPatients: 0,
  };
}

/** Whole years from a (possibly partial) FHIR birth date to `asOf`; null if born after it. */
export function ageOn(birthDate: string, asOf: string): number | null {
  // A partial date is taken at the middle of its year or month.
  const full =
    birthDate.length === 4
      ? `${birthDate}-07-01`
      : birthDate.length === 7
        ? `${birthDate}-15`
        : birthDate;
  const [by, bm, bd] = full.split('-').map(Number) as [number, number, number];
  const [ay, am, ad] = asOf.split('-').map(Number) as [number, number, number];
  const age = ay - by - (am < bm || (am === bm && ad < bd) ? 1 : 0);
  return age < 0 ? null : age;
}

interface Draft {
  patient: { sex: Sex; age: number | null } | null;
  conditions: string[];
  observations: Map<ObservationCode, { value: number; time: number }>;
  /** Resources read for this patient other than the Patient itself. */
  others: number;
}

const newDraft = (): Draft => ({
  patient: null,
  conditions: [],
  observations: new Map(),
  others: 0,
});

function facts(d: Draft & { patient: NonNullable<Draft['patient']> }): PatientFacts {
  const observations = new Map<ObservationCode, number>();
  for (const [code, o] of d.observations) observations.set(code, o.value);
  return { ...d.patient, conditions: d.conditions, observations };
}

function malformed(line: number, what: string, cause?: unknown): CustosError {
  return new CustosError('MalformedRecord', `line ${String(line)}: ${what}`, {
    cause,
    details: { line },
  });
}

function shapeError(line: number, type: string, error: z.ZodError): CustosError {
  const issue = error.issues[0];
  const path = issue?.path.join('.') ?? '';
  return malformed(
    line,
    `${type} does not have the FHIR R4 shape (${path || 'resource'}: ${issue?.message ?? 'invalid'})`,
    error,
  );
}

/** The patient id a subject reference points to, or null for a non-Patient subject. */
function patientIdOf(reference: string): string | null {
  const match = /(?:^|\/)Patient\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(reference);
  return match?.[1] ?? null;
}

function timeOf(o: z.infer<typeof ObservationSchema>): number {
  const when = o.effectiveDateTime ?? o.effectiveInstant ?? o.issued;
  const ms = when === undefined ? NaN : Date.parse(when);
  return Number.isNaN(ms) ? -Infinity : ms;
}

/**
 * Reads FHIR R4 NDJSON lines and yields one fact set per patient. Patients whose resources are
 * spread over the file are held until the end (`fhirOrder: 'any'`); with `'grouped'`, each patient
 * is yielded as soon as the next Patient starts.
 * @throws CustosError `MalformedRecord` for a line that is not JSON, not a resource, a known
 *   resource of the wrong shape, a duplicate Patient, or (grouped) a resource outside its group.
 */
export async function* readFhir(
  lines: AsyncIterable<{ line: string; number: number }>,
  params: ResolvedParams,
  counts: FhirCounts,
): AsyncGenerator<PatientFacts> {
  const wanted = new Set<string>(params.observations);
  const grouped = params.fhirOrder === 'grouped';
  const open = new Map<string, Draft>();
  const group: { current: { id: string; draft: Draft } | null } = { current: null };

  const draftFor = (id: string, line: number): Draft => {
    if (grouped) {
      if (group.current?.id !== id) {
        throw malformed(
          line,
          `the input is not grouped by patient (this resource is for Patient/${id}, the current group is ${group.current ? `Patient/${group.current.id}` : 'none'})`,
        );
      }
      return group.current.draft;
    }
    let draft = open.get(id);
    if (draft === undefined) {
      draft = newDraft();
      open.set(id, draft);
      counts.peakOpenPatients = Math.max(counts.peakOpenPatients, open.size);
    }
    return draft;
  };

  for await (const { line, number } of lines) {
    if (line.trim().length === 0) continue;
    counts.lines += 1;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (error) {
      throw malformed(number, 'not valid JSON', error);
    }
    const head = ResourceHead.safeParse(json);
    if (!head.success || Array.isArray(json)) {
      throw malformed(number, 'not a FHIR resource (no resourceType)');
    }
    const type = head.data.resourceType;

    if (type === 'Patient') {
      const parsed = PatientSchema.safeParse(json);
      if (!parsed.success) throw shapeError(number, type, parsed.error);
      counts.resources.Patient += 1;
      const p = parsed.data;
      const patient = {
        sex: p.gender ?? 'unknown',
        age: p.birthDate === undefined ? null : ageOn(p.birthDate, params.asOf),
      };
      if (grouped) {
        if (group.current?.id === p.id) throw malformed(number, `duplicate Patient/${p.id}`);
        if (group.current?.draft.patient)
          yield facts({ ...group.current.draft, patient: group.current.draft.patient });
        group.current = { id: p.id, draft: { ...newDraft(), patient } };
        counts.peakOpenPatients = Math.max(counts.peakOpenPatients, 1);
      } else {
        const draft = draftFor(p.id, number);
        if (draft.patient !== null) throw malformed(number, `duplicate Patient/${p.id}`);
        draft.patient = patient;
      }
    } else if (type === 'Condition') {
      const parsed = ConditionSchema.safeParse(json);
      if (!parsed.success) throw shapeError(number, type, parsed.error);
      counts.resources.Condition += 1;
      const c = parsed.data;
      const id = patientIdOf(c.subject.reference);
      if (id === null) {
        counts.skipped.subjectNotPatient += 1;
        continue;
      }
      const draft = draftFor(id, number);
      draft.others += 1;
      if (c.verificationStatus?.coding?.some((x) => NOT_A_DIAGNOSIS.has(x.code ?? '')) === true) {
        counts.skipped.conditionsRefuted += 1;
        continue;
      }
      const icd = c.code?.coding?.filter(
        (x) => x.code !== undefined && (x.system ?? '').toLowerCase().includes('icd-10'),
      );
      if (icd === undefined || icd.length === 0) {
        counts.skipped.conditionsWithoutIcd10 += 1;
        continue;
      }
      for (const x of icd) {
        const code = normaliseIcd10(x.code ?? '');
        if (!draft.conditions.includes(code)) draft.conditions.push(code);
      }
    } else if (type === 'Observation') {
      const parsed = ObservationSchema.safeParse(json);
      if (!parsed.success) throw shapeError(number, type, parsed.error);
      counts.resources.Observation += 1;
      const o = parsed.data;
      const id = o.subject === undefined ? null : patientIdOf(o.subject.reference);
      if (id === null) {
        counts.skipped.subjectNotPatient += 1;
        continue;
      }
      const draft = draftFor(id, number);
      draft.others += 1;
      const code = o.code.coding?.find(
        (x) => x.system === LOINC_SYSTEM && x.code !== undefined && wanted.has(x.code),
      )?.code as ObservationCode | undefined;
      if (code === undefined) {
        counts.skipped.observationsOtherCode += 1;
        continue;
      }
      if (!FINAL.has(o.status)) {
        counts.skipped.observationsNotFinal += 1;
        continue;
      }
      const q = o.valueQuantity;
      if (q?.value === undefined || !Number.isFinite(q.value)) {
        counts.skipped.observationsWithoutValue += 1;
        continue;
      }
      const unit = KNOWN_OBSERVATIONS[code].unit;
      const ucumOk = q.system === undefined || q.system === UCUM_SYSTEM;
      if (!ucumOk || (q.code ?? q.unit) !== unit) {
        counts.skipped.observationsWrongUnit += 1;
        continue;
      }
      const time = timeOf(o);
      const previous = draft.observations.get(code);
      if (previous === undefined || time >= previous.time) {
        draft.observations.set(code, { value: q.value, time });
      }
    } else {
      counts.unknownResourceTypes[type] = (counts.unknownResourceTypes[type] ?? 0) + 1;
    }
  }

  if (grouped) {
    if (group.current?.draft.patient)
      yield facts({ ...group.current.draft, patient: group.current.draft.patient });
    return;
  }
  for (const [id, draft] of open) {
    open.delete(id);
    if (draft.patient === null) counts.skipped.resourcesWithoutPatient += draft.others;
    else yield facts({ ...draft, patient: draft.patient });
  }
}
