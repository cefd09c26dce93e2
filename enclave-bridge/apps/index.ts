/**
 * The enclave apps Custos knows, by name: how to compute each one's measurement (what a grant
 * allows) and how to run it on a verified plaintext stream with the consumer's parameters.
 */
import { CustosError } from '../../app/errors/index.ts';
import { run as cohortStats } from './cohort-stats/index.ts';
import { measurement as cohortStatsMeasurement } from './cohort-stats/measurement.ts';
import { ROLES as inferRoles, infer } from './infer/index.ts';
import { measurement as inferMeasurement } from './infer/measurement.ts';
import { train as trainRiskModel } from './train-risk-model/index.ts';
import { measurement as trainRiskModelMeasurement } from './train-risk-model/measurement.ts';

export interface EnclaveAppEntry {
  readonly name: string;
  readonly title: string;
  /** 0x-prefixed bytes32. */
  measurement(): Promise<string>;
  /** Runs on the plaintext; returns the result document's bytes (JSON). */
  run(plaintext: AsyncIterable<Uint8Array>, params: unknown, now: Date): Promise<Uint8Array>;
  /** Apps that read several datasets (one key release and one run each): see runtime/multi.ts. */
  readonly multi?: MultiDatasetApp;
}

export interface MultiDatasetApp {
  /** The datasets the app reads, by role, in the order their keys are released. */
  readonly roles: readonly string[];
  run(
    inputs: Readonly<Record<string, AsyncIterable<Uint8Array>>>,
    params: unknown,
    context: { readonly now: Date; readonly runIds: Readonly<Record<string, string>> },
  ): Promise<Uint8Array>;
}

const json = (value: unknown): Uint8Array =>
  new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);

export const ENCLAVE_APPS: Readonly<Record<string, EnclaveAppEntry>> = {
  'cohort-stats': {
    name: 'cohort-stats',
    title: 'Cohort statistics',
    measurement: cohortStatsMeasurement,
    run: async (plaintext, params, now) => json(await cohortStats(plaintext, params, { now })),
  },
  'train-risk-model': {
    name: 'train-risk-model',
    title: 'Train a risk model (logistic regression)',
    measurement: trainRiskModelMeasurement,
    run: async (plaintext, params, now) => json(await trainRiskModel(plaintext, params, { now })),
  },
  infer: {
    name: 'infer',
    title: 'Run an owner’s risk model on a dataset (aggregates only)',
    measurement: inferMeasurement,
    run: () =>
      Promise.reject(
        new CustosError(
          'UsageError',
          'infer reads two datasets: the model’s grant is needed too (--model-grant)',
        ),
      ),
    multi: {
      roles: inferRoles,
      run: async (inputs, params, { now, runIds }) => {
        const [model, data] = [inputs['model'], inputs['data']];
        const [modelRun, dataRun] = [runIds['model'], runIds['data']];
        if (!model || !data || !modelRun || !dataRun)
          throw new CustosError('UsageError', 'infer needs a model and a data input');
        return json(
          await infer({ model, data }, params, { now, runIds: { model: modelRun, data: dataRun } }),
        );
      },
    },
  },
};

/** @throws UsageError for an unknown app name. */
export function enclaveApp(name: string): EnclaveAppEntry {
  const app = ENCLAVE_APPS[name];
  if (!app)
    throw new CustosError(
      'UsageError',
      `unknown enclave app "${name}" (known: ${Object.keys(ENCLAVE_APPS).join(', ')})`,
    );
  return app;
}
