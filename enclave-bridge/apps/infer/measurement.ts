/**
 * The measurement of infer: the SHA-256 of its code bundle (this folder, the train-risk-model
 * model format and readers it imports, app/errors, and its npm packages), as cohort-stats computes
 * its own. Both owners — the hospital and the model provider — grant this same value.
 */
import { REPO_ROOT, collectBundle, measurementOf } from '../cohort-stats/measurement.ts';

export const APP_PATH = 'enclave-bridge/apps/infer';

/** @throws CustosError as `collectBundle`. */
export async function measurement(root: string = REPO_ROOT): Promise<string> {
  return measurementOf(await collectBundle(root, APP_PATH));
}
