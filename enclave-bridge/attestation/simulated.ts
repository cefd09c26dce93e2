/**
 * The simulated enclave's evidence: a small statement (measurement, report_data, debug flag,
 * `simulated: true`) signed with Ed25519 by the devnet's simulation key. It proves only that the
 * devnet's simulator produced it — never that anything ran in a TEE — so the verifier accepts it
 * only on `devnet`, and every verdict says `simulated`.
 */
import { CustosError, isCustosError } from '../../app/errors/index.ts';
import { sodium } from '../../app/crypto/index.ts';
import type { AttestationPolicy, Verdict } from './types.ts';

export const SIMULATED_EVIDENCE_FORMAT = 'custos-simulated-evidence/1';
export const MEASUREMENT_BYTES = 32;
export const REPORT_DATA_BYTES = 64;
const SEED_BYTES = 32;
/** Domain separation: these signatures can never be mistaken for another Custos signature. */
const SIGNING_CONTEXT = new TextEncoder().encode('custos/simulated-evidence/1\n');

/** The devnet's simulation key: the simulated enclave runner signs with it, verifiers trust it. */
export interface SimulationKey {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

/** What the simulated enclave states about itself. */
export interface SimulatedStatement {
  /** Hash of the enclave app's code bundle, 32 bytes. */
  readonly measurement: Uint8Array;
  /** 64 bytes chosen by the enclave (for key release: H(enclave public key ‖ nonce)). */
  readonly reportData: Uint8Array;
  readonly debug?: boolean;
}

export interface ParsedSimulatedEvidence {
  readonly measurement: Uint8Array;
  readonly reportData: Uint8Array;
  readonly debug: boolean;
  readonly signer: Uint8Array;
  readonly signature: Uint8Array;
}

/** Derives the simulation key from a 32-byte seed (kept with the devnet's configuration). */
export async function simulationKeyFromSeed(seed: Uint8Array): Promise<SimulationKey> {
  if (seed.length !== SEED_BYTES)
    throw new CustosError('UsageError', `a simulation key seed is ${SEED_BYTES} bytes`);
  return (await sodium()).signSeedKeypair(seed);
}

/** Makes a fresh simulation key for a new devnet; returns its seed too, to store. */
export async function newSimulationKey(): Promise<SimulationKey & { readonly seed: Uint8Array }> {
  const seed = (await sodium()).randomBytes(SEED_BYTES);
  return { seed, ...(await simulationKeyFromSeed(seed)) };
}

function signedMessage(
  measurement: Uint8Array,
  reportData: Uint8Array,
  debug: boolean,
): Uint8Array {
  const out = new Uint8Array(SIGNING_CONTEXT.length + MEASUREMENT_BYTES + REPORT_DATA_BYTES + 1);
  out.set(SIGNING_CONTEXT, 0);
  out.set(measurement, SIGNING_CONTEXT.length);
  out.set(reportData, SIGNING_CONTEXT.length + MEASUREMENT_BYTES);
  out[out.length - 1] = debug ? 1 : 0;
  return out;
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/**
 * Produces simulated evidence (UTF-8 JSON) for the simulated enclave runner. Throws CustosError
 * `UsageError` when the measurement or report_data has the wrong length.
 */
export async function produceSimulatedEvidence(
  statement: SimulatedStatement,
  key: SimulationKey,
): Promise<Uint8Array> {
  const { measurement, reportData } = statement;
  const debug = statement.debug ?? false;
  if (measurement.length !== MEASUREMENT_BYTES)
    throw new CustosError('UsageError', `a measurement is ${MEASUREMENT_BYTES} bytes`);
  if (reportData.length !== REPORT_DATA_BYTES)
    throw new CustosError('UsageError', `report_data is ${REPORT_DATA_BYTES} bytes`);
  const signature = (await sodium()).signDetached(
    signedMessage(measurement, reportData, debug),
    key.secretKey,
  );
  const json = {
    format: SIMULATED_EVIDENCE_FORMAT,
    simulated: true,
    measurement: hex(measurement),
    reportData: hex(reportData),
    debug,
    signer: hex(key.publicKey),
    signature: hex(signature),
  };
  return new TextEncoder().encode(JSON.stringify(json));
}

/** True when the bytes look like simulated evidence (rather than a binary or hex quote). */
export function isSimulatedEvidence(bytes: Uint8Array): boolean {
  const head = new TextDecoder().decode(bytes.subarray(0, 256));
  return /^\s*\{/.test(head) && head.includes(SIMULATED_EVIDENCE_FORMAT);
}

function hexField(json: Record<string, unknown>, name: string, length: number): Uint8Array {
  const value = json[name];
  if (typeof value !== 'string' || !/^[0-9a-f]*$/.test(value) || value.length !== length * 2)
    throw new CustosError(
      'AttestationInvalid',
      `simulated evidence: ${name} is not ${length} bytes of lowercase hex`,
    );
  return new Uint8Array(Buffer.from(value, 'hex'));
}

/** Parses simulated evidence; throws CustosError `AttestationInvalid` when malformed. */
export function parseSimulatedEvidence(bytes: Uint8Array): ParsedSimulatedEvidence {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new CustosError('AttestationInvalid', 'simulated evidence is not JSON', { cause: error });
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new CustosError('AttestationInvalid', 'simulated evidence is not an object');
  const o = json as Record<string, unknown>;
  if (o['format'] !== SIMULATED_EVIDENCE_FORMAT || o['simulated'] !== true)
    throw new CustosError('AttestationInvalid', 'not simulated evidence of a known format');
  if (typeof o['debug'] !== 'boolean')
    throw new CustosError('AttestationInvalid', 'simulated evidence: debug is not a boolean');
  return {
    measurement: hexField(o, 'measurement', MEASUREMENT_BYTES),
    reportData: hexField(o, 'reportData', REPORT_DATA_BYTES),
    debug: o['debug'],
    signer: hexField(o, 'signer', 32),
    signature: hexField(o, 'signature', 64),
  };
}

/**
 * Verifies simulated evidence under a policy: refused (`SimulatedNotAllowed`) unless the policy's
 * network is `devnet`; the signer must be one of the policy's simulation keys and the signature
 * must verify (`AttestationInvalid`); debug is refused (`DebugEnclave`); report_data must match the
 * policy's expectation when it has one (`ReportDataMismatch`). Never throws.
 */
export async function verifySimulated(
  bytes: Uint8Array,
  policy: AttestationPolicy,
): Promise<Verdict> {
  let verdict: Verdict = {
    ok: false,
    reason: null,
    teeType: 'simulated',
    tcbStatus: null,
    advisoryIds: [],
    mrEnclave: null,
    mrSigner: null,
    mrTd: null,
    rtmrs: null,
    reportData: null,
    debug: null,
    measurement: null,
  };
  try {
    const e = parseSimulatedEvidence(bytes);
    verdict = {
      ...verdict,
      reportData: hex(e.reportData),
      debug: e.debug,
      measurement: hex(e.measurement),
    };
    if (policy.network !== 'devnet')
      throw new CustosError(
        'SimulatedNotAllowed',
        `simulated evidence is accepted only on devnet, not on ${policy.network}`,
      );
    const trusted = (policy.simulationKeys ?? []).some((k) => hex(k) === hex(e.signer));
    if (!trusted)
      throw new CustosError(
        'AttestationInvalid',
        'simulated evidence is not signed by this devnet’s simulation key',
      );
    const s = await sodium();
    if (
      !s.signVerifyDetached(
        e.signature,
        signedMessage(e.measurement, e.reportData, e.debug),
        e.signer,
      )
    )
      throw new CustosError('AttestationInvalid', 'simulated evidence signature does not verify');
    if (e.debug)
      throw new CustosError('DebugEnclave', 'the simulated enclave says it runs in debug mode');
    if (policy.expectedReportData && hex(policy.expectedReportData) !== hex(e.reportData))
      throw new CustosError(
        'ReportDataMismatch',
        'the evidence’s report_data is not the expected one',
      );
  } catch (error) {
    const e = isCustosError(error)
      ? error
      : new CustosError('Internal', error instanceof Error ? error.message : String(error));
    return { ...verdict, reason: { tag: e.tag, message: e.message } };
  }
  return { ...verdict, ok: true };
}
