import { CustosError } from '../../app/errors/index.ts';
import { verifyDcap } from './dcap.ts';
import { verifySimulated } from './simulated.ts';
import type { AttestationPolicy, Evidence, Verdict } from './types.ts';

/**
 * The one attestation interface: verifies evidence (an Intel SGX/TDX DCAP quote, or the simulated
 * enclave's signed statement) under a policy at time `now`, and returns the verdict. It never
 * throws for bad evidence: a refusal is `ok: false` with a tagged reason (`AttestationInvalid`,
 * `TcbNotAllowed`, `DebugEnclave`, `SimulatedNotAllowed`, `CollateralUnavailable`,
 * `CollateralExpired`, `ReportDataMismatch`).
 */
export async function verify(
  evidence: Evidence,
  policy: AttestationPolicy,
  now: Date,
): Promise<Verdict> {
  if (Number.isNaN(now.getTime())) throw new CustosError('UsageError', 'invalid verification time');
  return evidence.kind === 'simulated'
    ? verifySimulated(evidence.evidence, policy)
    : verifyDcap(evidence.quote, evidence.collateral, policy, now);
}

/**
 * Turns a refused verdict into its CustosError (for callers that release nothing on failure);
 * returns the verdict when it is ok.
 */
export function requireOk(verdict: Verdict): Verdict {
  if (verdict.ok) return verdict;
  const reason = verdict.reason ?? { tag: 'AttestationInvalid' as const, message: 'refused' };
  throw new CustosError(reason.tag, reason.message);
}
