import dcap, { type Collateral, type Quote, type VerifiedReport } from '@phala/dcap-qvl';
import { CustosError, isCustosError, type ErrorTag } from '../../app/errors/index.ts';
import { authenticateCrls, pemCertificates } from './collateral.ts';
import { certificateNames } from './der.ts';
import {
  isTcbStatus,
  type AttestationPolicy,
  type QuoteCollateral,
  type TcbStatus,
  type Verdict,
} from './types.ts';

const TEE_TYPE_SGX = 0x00;
const TEE_TYPE_TDX = 0x81;
/** SGX ATTRIBUTES.DEBUG (bit 1 of the first byte). */
const SGX_ATTRIBUTE_DEBUG = 0x02;

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** What a quote says about itself, read before (and whatever the outcome of) verification. */
export interface QuoteFields {
  readonly teeType: 'sgx' | 'tdx';
  readonly version: number;
  readonly mrEnclave: string | null;
  readonly mrSigner: string | null;
  readonly mrTd: string | null;
  readonly rtmrs: readonly [string, string, string, string] | null;
  readonly reportData: string;
  readonly debug: boolean;
  /** DER Name of the issuer of the PCK certificate embedded in the quote, when it embeds one. */
  readonly pckIssuer: Uint8Array | null;
}

/**
 * Reads a DCAP quote's header and body. Throws CustosError `AttestationInvalid` when the bytes are
 * not an SGX v3 or TDX v4/v5 ECDSA quote.
 */
export function readQuote(quote: Uint8Array): QuoteFields {
  let parsed: Quote;
  try {
    parsed = dcap.Quote.parse(Buffer.from(quote));
  } catch (error) {
    throw new CustosError('AttestationInvalid', 'the quote does not parse', { cause: error });
  }
  const { header, report } = parsed;
  let pckIssuer: Uint8Array | null = null;
  try {
    const [leaf] = pemCertificates(Buffer.from(parsed.rawCertChain()).toString('latin1'));
    if (leaf) pckIssuer = certificateNames(leaf).issuer;
  } catch {
    pckIssuer = null; // no embedded PCK chain (cert types 2/3): the CRL issuer check is skipped
  }
  if (header.teeType === TEE_TYPE_SGX && header.version === 3) {
    const sgx = report.asSgx();
    if (!sgx) throw new CustosError('AttestationInvalid', 'SGX quote without an enclave report');
    return {
      teeType: 'sgx',
      version: header.version,
      mrEnclave: hex(sgx.mrEnclave),
      mrSigner: hex(sgx.mrSigner),
      mrTd: null,
      rtmrs: null,
      reportData: hex(sgx.reportData),
      debug: ((sgx.attributes[0] ?? 0) & SGX_ATTRIBUTE_DEBUG) !== 0,
      pckIssuer,
    };
  }
  if (header.teeType === TEE_TYPE_TDX && (header.version === 4 || header.version === 5)) {
    const td = report.asTd10() ?? report.asTd15()?.base ?? null;
    if (!td) throw new CustosError('AttestationInvalid', 'TDX quote without a TD report');
    return {
      teeType: 'tdx',
      version: header.version,
      mrEnclave: null,
      mrSigner: null,
      mrTd: hex(td.mrTd),
      rtmrs: [hex(td.rtMr0), hex(td.rtMr1), hex(td.rtMr2), hex(td.rtMr3)],
      reportData: hex(td.reportData),
      // TDATTRIBUTES.TUD (first byte): any bit set means the TD can be inspected by the host.
      debug: (td.tdAttributes[0] ?? 0) !== 0,
      pckIssuer,
    };
  }
  throw new CustosError(
    'AttestationInvalid',
    `unsupported quote: version ${header.version}, TEE type 0x${header.teeType.toString(16)}`,
  );
}

/**
 * `@phala/dcap-qvl` reports failures as plain Errors; this table is the one place that turns its
 * messages into tags. Anything not listed is `AttestationInvalid`, so an unknown failure refuses.
 */
function tagOfDcapFailure(message: string): ErrorTag {
  if (/^(TCBInfo|QE Identity) (expired|issue date is in the future)/.test(message))
    return 'CollateralExpired';
  if (/^TCB status is invalid/.test(message)) return 'TcbNotAllowed';
  if (/^Debug mode is enabled/.test(message)) return 'DebugEnclave';
  return 'AttestationInvalid';
}

function fromFields(fields: QuoteFields | null): Verdict {
  return {
    ok: false,
    reason: null,
    teeType: fields?.teeType ?? null,
    tcbStatus: null,
    advisoryIds: [],
    mrEnclave: fields?.mrEnclave ?? null,
    mrSigner: fields?.mrSigner ?? null,
    mrTd: fields?.mrTd ?? null,
    rtmrs: fields?.rtmrs ?? null,
    reportData: fields?.reportData ?? null,
    debug: fields?.debug ?? null,
    measurement: fields ? (fields.mrEnclave ?? fields.mrTd) : null,
  };
}

function refuse(verdict: Verdict, error: unknown): Verdict {
  const e = isCustosError(error)
    ? error
    : new CustosError('Internal', error instanceof Error ? error.message : String(error));
  return { ...verdict, ok: false, reason: { tag: e.tag, message: e.message } };
}

/**
 * Verifies an Intel SGX (quote v3) or TDX (quote v4/v5) quote against its collateral at `now`:
 * debug refused first, then the collateral's CRLs authenticated (which `@phala/dcap-qvl` does not
 * do), then `@phala/dcap-qvl` for signatures, certificate chains, TCB Info and QE Identity, then the
 * policy's TCB statuses and expected report_data. Never throws: a refusal is a verdict with a reason.
 */
export async function verifyDcap(
  quote: Uint8Array,
  collateral: QuoteCollateral | undefined,
  policy: AttestationPolicy,
  now: Date,
): Promise<Verdict> {
  let fields: QuoteFields;
  try {
    fields = readQuote(quote);
  } catch (error) {
    return refuse(fromFields(null), error);
  }
  let verdict = fromFields(fields);
  if (fields.debug)
    return refuse(
      verdict,
      new CustosError(
        'DebugEnclave',
        `the ${fields.teeType.toUpperCase()} quote has its debug attribute set`,
      ),
    );

  try {
    const source = collateral ?? (await policy.collateral?.collateralFor(quote, now));
    if (!source)
      throw new CustosError('CollateralUnavailable', 'no collateral was given or configured');
    authenticateCrls(source, now, fields.pckIssuer);

    let report: VerifiedReport;
    try {
      report = dcap.verify(
        Buffer.from(quote),
        source as unknown as Collateral,
        Math.floor(now.getTime() / 1000),
      );
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new CustosError(tagOfDcapFailure(message), message, { cause: error });
    }
    const status = report.status;
    if (!isTcbStatus(status))
      throw new CustosError('AttestationInvalid', `unknown TCB status "${status}"`);
    verdict = { ...verdict, tcbStatus: status, advisoryIds: [...report.advisory_ids] };

    const allowed: readonly TcbStatus[] = policy.allowedTcbStatuses ?? ['UpToDate'];
    if (status === 'Revoked' || !allowed.includes(status))
      throw new CustosError(
        'TcbNotAllowed',
        `TCB status ${status} is not allowed (allowed: ${allowed.join(', ')})`,
        { details: { tcbStatus: status } },
      );
    if (policy.expectedReportData && hex(policy.expectedReportData) !== fields.reportData)
      throw new CustosError(
        'ReportDataMismatch',
        'the quote’s report_data is not the expected one',
      );
  } catch (error) {
    return refuse(verdict, error);
  }
  return { ...verdict, ok: true };
}
