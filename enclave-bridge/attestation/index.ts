export { verify, requireOk } from './verify.ts';
export { readQuote, verifyDcap, type QuoteFields } from './dcap.ts';
export {
  INTEL_ROOT_CA_DER,
  authenticateCrls,
  collateralValidUntil,
  parseCollateral,
} from './collateral.ts';
export {
  INTEL_PCS_URL,
  INTEL_ROOT_CA_CRL_URL,
  PcsCollateralSource,
  fixedCollateral,
  type PcsOptions,
} from './pcs.ts';
export {
  MEASUREMENT_BYTES,
  REPORT_DATA_BYTES,
  SIMULATED_EVIDENCE_FORMAT,
  isSimulatedEvidence,
  newSimulationKey,
  parseSimulatedEvidence,
  produceSimulatedEvidence,
  simulationKeyFromSeed,
  verifySimulated,
  type SimulatedStatement,
  type SimulationKey,
} from './simulated.ts';
export {
  TCB_STATUSES,
  isTcbStatus,
  type AttestationPolicy,
  type CollateralSource,
  type Evidence,
  type QuoteCollateral,
  type TcbStatus,
  type TeeType,
  type Verdict,
  type VerdictReason,
} from './types.ts';
