import { X509Certificate, verify as verifySignature } from 'node:crypto';
import dcap from '@phala/dcap-qvl';
import { z } from 'zod';
import { CustosError } from '../../app/errors/index.ts';
import { certificateNames, DerError, parseCrl, type ParsedCrl } from './der.ts';
import type { QuoteCollateral } from './types.ts';

/** Intel SGX Root CA, the one trust anchor (as shipped inside `@phala/dcap-qvl`). */
export const INTEL_ROOT_CA_DER: Uint8Array = new Uint8Array(dcap.constants.TRUSTED_ROOT_CA_DER);

const bytesField = z.union([
  z.string().regex(/^(0x)?([0-9a-fA-F]{2})*$/, 'hex'),
  z.array(z.number().int().min(0).max(255)),
]);

const collateralSchema = z.object({
  pck_crl_issuer_chain: z.string(),
  root_ca_crl: bytesField,
  pck_crl: bytesField,
  tcb_info_issuer_chain: z.string(),
  tcb_info: z.string(),
  tcb_info_signature: bytesField,
  qe_identity_issuer_chain: z.string(),
  qe_identity: z.string(),
  qe_identity_signature: bytesField,
});

/**
 * Parses collateral JSON in the QuoteCollateralV3 shape; throws CustosError `UsageError` naming the
 * first bad field (it is input from a file or a network answer).
 */
export function parseCollateral(text: string): QuoteCollateral {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CustosError('UsageError', 'collateral is not JSON', { cause: error });
  }
  const parsed = collateralSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CustosError(
      'UsageError',
      `collateral field ${issue?.path.join('.') ?? '?'} is missing or malformed`,
    );
  }
  const c = parsed.data;
  const norm = (v: string | number[]): string =>
    typeof v === 'string' ? v.replace(/^0x/, '').toLowerCase() : Buffer.from(v).toString('hex');
  return {
    ...c,
    root_ca_crl: norm(c.root_ca_crl),
    pck_crl: norm(c.pck_crl),
    tcb_info_signature: norm(c.tcb_info_signature),
    qe_identity_signature: norm(c.qe_identity_signature),
  };
}

/** Bytes of a collateral field given as hex or as a byte array. */
export function collateralBytes(value: string | readonly number[]): Uint8Array {
  return typeof value === 'string'
    ? new Uint8Array(Buffer.from(value.replace(/^0x/, ''), 'hex'))
    : Uint8Array.from(value);
}

/** The DER certificates of a PEM chain, leaf first. */
export function pemCertificates(pem: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const m of pem.matchAll(
    /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/g,
  )) {
    out.push(new Uint8Array(Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64')));
  }
  return out;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

function invalid(message: string): CustosError {
  return new CustosError('AttestationInvalid', message);
}

function checkWindow(what: string, from: Date, until: Date | null, now: Date): void {
  if (now.getTime() < from.getTime())
    throw new CustosError('CollateralExpired', `${what} is not valid before ${from.toISOString()}`);
  if (until === null) throw new CustosError('CollateralExpired', `${what} has no end of validity`);
  if (now.getTime() >= until.getTime())
    throw new CustosError('CollateralExpired', `${what} expired at ${until.toISOString()}`);
}

function parseCrlOrThrow(what: string, der: Uint8Array): ParsedCrl {
  try {
    return parseCrl(der);
  } catch (error) {
    if (error instanceof DerError) throw invalid(`${what} is not a CRL: ${error.message}`);
    throw error;
  }
}

function checkCrl(what: string, crl: ParsedCrl, issuerDer: Uint8Array, now: Date): void {
  const issuer = new X509Certificate(issuerDer);
  if (!equalBytes(crl.issuer, certificateNames(issuerDer).subject))
    throw invalid(`${what} is not issued by ${issuer.subject.split('\n').join(', ')}`);
  if (!verifySignature(crl.hash, crl.tbs, issuer.publicKey, crl.signature))
    throw invalid(`${what} signature does not verify`);
  checkWindow(what, crl.thisUpdate, crl.nextUpdate, now);
}

function serialHex(der: Uint8Array): string {
  // X509Certificate prints the serial in uppercase hex without the DER sign byte.
  return new X509Certificate(der).serialNumber.toLowerCase().replace(/^0+/, '');
}

/**
 * Authenticates the two CRLs of the collateral, which `@phala/dcap-qvl` 0.3.9 uses without
 * checking: the root CA CRL must be signed by Intel's root, the PCK CRL by the CA of
 * `pck_crl_issuer_chain` (itself chained to Intel's root and not revoked), both valid at `now`
 * (thisUpdate ≤ now < nextUpdate). When `pckIssuer` (the DER Name of the quote's PCK certificate
 * issuer) is given, the PCK CRL must be that CA's.
 *
 * Throws CustosError `AttestationInvalid` (bad signature, wrong issuer, unparsable) or
 * `CollateralExpired` (outside a validity window).
 */
export function authenticateCrls(
  collateral: QuoteCollateral,
  now: Date,
  pckIssuer: Uint8Array | null,
): void {
  const rootCrl = parseCrlOrThrow('root CA CRL', collateralBytes(collateral.root_ca_crl));
  checkCrl('root CA CRL', rootCrl, INTEL_ROOT_CA_DER, now);

  const chain = pemCertificates(collateral.pck_crl_issuer_chain);
  const [pckCa] = chain;
  if (!pckCa) throw invalid('pck_crl_issuer_chain holds no certificate');
  // The chain ends at Intel's root (included or not); every link is signed by the next one.
  const links = equalBytes(chain[chain.length - 1] as Uint8Array, INTEL_ROOT_CA_DER)
    ? chain
    : [...chain, INTEL_ROOT_CA_DER];
  for (let i = 0; i + 1 < links.length; i++) {
    const cert = new X509Certificate(links[i] as Uint8Array);
    const parent = new X509Certificate(links[i + 1] as Uint8Array);
    if (!cert.verify(parent.publicKey))
      throw invalid('pck_crl_issuer_chain does not chain to Intel SGX Root CA');
    checkWindow(
      `certificate ${cert.subject.split('\n').join(', ')}`,
      new Date(cert.validFrom),
      new Date(cert.validTo),
      now,
    );
    if (
      rootCrl.revokedSerials.some((s) => s.replace(/^0+/, '') === serialHex(links[i] as Uint8Array))
    )
      throw invalid('the PCK CRL issuer certificate is revoked');
  }

  const pckCrl = parseCrlOrThrow('PCK CRL', collateralBytes(collateral.pck_crl));
  checkCrl('PCK CRL', pckCrl, pckCa, now);
  if (pckIssuer && !equalBytes(pckCrl.issuer, pckIssuer))
    throw invalid('the PCK CRL is not the one of the CA that issued the quote’s PCK certificate');
}

/**
 * The end of the collateral's validity: the earliest of TCB Info's and QE Identity's nextUpdate and
 * the CRLs' nextUpdate. Throws CustosError `AttestationInvalid` when a part cannot be read.
 */
export function collateralValidUntil(collateral: QuoteCollateral): Date {
  const dates: number[] = [];
  try {
    for (const text of [collateral.tcb_info, collateral.qe_identity]) {
      const next = (JSON.parse(text) as { nextUpdate?: unknown }).nextUpdate;
      if (typeof next !== 'string') throw new Error('no nextUpdate');
      dates.push(Date.parse(next));
    }
    for (const crl of [collateral.root_ca_crl, collateral.pck_crl]) {
      const next = parseCrl(collateralBytes(crl)).nextUpdate;
      if (!next) throw new Error('CRL without nextUpdate');
      dates.push(next.getTime());
    }
  } catch (error) {
    throw new CustosError('AttestationInvalid', 'collateral cannot be read', { cause: error });
  }
  if (dates.some((d) => Number.isNaN(d)))
    throw new CustosError('AttestationInvalid', 'collateral has an unreadable date');
  return new Date(Math.min(...dates));
}
