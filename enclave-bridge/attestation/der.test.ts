import dcap from '@phala/dcap-qvl';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  authenticateCrls,
  collateralBytes,
  collateralValidUntil,
  pemCertificates,
} from './collateral.ts';
import { certificateNames, parseCrl, parseDer } from './der.ts';
import { sgxVector, tdxVector } from './testing.ts';

const sgx = sgxVector();
const tdx = tdxVector();

interface Asn1Crl {
  tbsCertList: { revokedCertificates?: { userCertificate: { toString(base: number): string } }[] };
}

describe('CRL parsing', () => {
  it('reads Intel’s PCK CRL: window, issuer and the same revoked serials as dcap-qvl’s parser', () => {
    const der = collateralBytes(tdx.collateral.pck_crl);
    const crl = parseCrl(der);
    expect(crl.thisUpdate.toISOString()).toBe('2025-08-31T02:55:18.000Z');
    expect(crl.nextUpdate?.toISOString()).toBe('2025-09-30T02:55:18.000Z');
    expect(crl.hash).toBe('sha256');
    const [platformCa] = pemCertificates(tdx.collateral.pck_crl_issuer_chain);
    expect(Buffer.from(crl.issuer).equals(Buffer.from(certificateNames(platformCa!).subject))).toBe(
      true,
    );
    // An independent parser (asn1.js, inside dcap-qvl) must find the same serial numbers.
    const theirs = (dcap.utils.CertificateList as { decode(b: Buffer, e: string): Asn1Crl }).decode(
      Buffer.from(der),
      'der',
    );
    const serials = (theirs.tbsCertList.revokedCertificates ?? []).map((r) =>
      r.userCertificate.toString(16),
    );
    expect(serials.length).toBeGreaterThan(30);
    expect(crl.revokedSerials.map((s) => s.replace(/^0+/, ''))).toEqual(serials);
  });

  it('reads Intel’s root CA CRL (no revoked entries)', () => {
    const crl = parseCrl(collateralBytes(sgx.collateral.root_ca_crl));
    expect(crl.thisUpdate.toISOString()).toBe('2025-03-20T11:21:57.000Z');
    expect(crl.nextUpdate?.toISOString()).toBe('2026-04-03T11:21:57.000Z');
    expect(crl.revokedSerials).toEqual([]);
  });

  it('rejects trailing bytes, truncation and a lying length', () => {
    const der = collateralBytes(sgx.collateral.root_ca_crl);
    expect(() => parseDer(new Uint8Array([...der, 0]))).toThrow(/trailing/);
    expect(() => parseCrl(der.subarray(0, der.length - 1))).toThrow();
    const lying = Uint8Array.from(der);
    lying[3] = (lying[3] as number) + 1;
    expect(() => parseCrl(lying)).toThrow();
  });

  it('collateral validity ends at the earliest nextUpdate of its parts', () => {
    expect(collateralValidUntil(tdx.collateral).toISOString()).toBe('2025-09-30T02:55:18.000Z');
    expect(collateralValidUntil(sgx.collateral).toISOString()).toBe('2025-09-14T04:36:46.000Z');
  });
});

describe('CRL authentication', () => {
  it('accepts the real CRLs at a time inside their windows', () => {
    expect(() => authenticateCrls(sgx.collateral, sgx.now, null)).not.toThrow();
    expect(() => authenticateCrls(tdx.collateral, tdx.now, null)).not.toThrow();
  });

  it('any single flipped bit in either CRL is refused', () => {
    for (const field of ['root_ca_crl', 'pck_crl'] as const) {
      const der = collateralBytes(tdx.collateral[field]);
      fc.assert(
        fc.property(fc.nat(der.length * 8 - 1), (bit) => {
          const mutated = Uint8Array.from(der);
          mutated[bit >> 3] = (mutated[bit >> 3] as number) ^ (1 << (bit & 7));
          const collateral = { ...tdx.collateral, [field]: Buffer.from(mutated).toString('hex') };
          expect(() => authenticateCrls(collateral, tdx.now, null)).toThrow();
        }),
        { numRuns: 300 },
      );
    }
  });

  it('a PCK CRL presented with another CA as its issuer (TCB Signing) is refused', () => {
    const [platformCa] = pemCertificates(tdx.collateral.pck_crl_issuer_chain);
    const tcbSigning = tdx.collateral.tcb_info_issuer_chain.split('-----END CERTIFICATE-----')[0];
    // TCB Signing certificate presented as the issuer of a Platform CA certificate.
    const chain = `${tcbSigning}-----END CERTIFICATE-----\n`;
    expect(platformCa).toBeDefined();
    expect(() =>
      authenticateCrls({ ...tdx.collateral, pck_crl_issuer_chain: chain }, tdx.now, null),
    ).toThrow(/not issued by/);
  });

  it('the PCK CRL must be the one of the CA that issued the quote’s PCK certificate', () => {
    const wrongIssuer = certificateNames(
      pemCertificates(tdx.collateral.tcb_info_issuer_chain)[0]!,
    ).subject;
    expect(() => authenticateCrls(tdx.collateral, tdx.now, wrongIssuer)).toThrow(
      /not the one of the CA that issued/,
    );
  });
});
