/**
 * The measurement of train-risk-model: the SHA-256 of its code bundle (this folder, everything of
 * ours it imports — the cohort-stats readers, app/errors — and the npm packages it uses), computed
 * exactly as cohort-stats computes its own.
 */
import { REPO_ROOT, collectBundle, measurementOf } from '../cohort-stats/measurement.ts';

export const APP_PATH = 'enclave-bridge/apps/train-risk-model';

/** @throws CustosError as `collectBundle`. */
export async function measurement(root: string = REPO_ROOT): Promise<string> {
  return measurementOf(await collectBundle(root, APP_PATH));
}
