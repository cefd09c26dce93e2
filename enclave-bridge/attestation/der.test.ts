import { generateKeyPairSync, sign } from 'node:crypto';
import dcap, { type Collateral } from '@phala/dcap-qvl';
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

  it('a forged, empty PCK CRL under the real issuer name is refused — dcap-qvl alone takes it', () => {
    // What an attacker hiding a revoked PCK would send: same issuer Name, fresh dates, no entries,
    // signed with a key of their own.
    const tlv = (tag: number, content: Uint8Array): Uint8Array => {
      const n = content.length;
      const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
      return new Uint8Array([tag, ...len, ...content]);
    };
    const cat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
    const utc = (iso: string) =>
      tlv(0x17, new TextEncoder().encode(`${iso.replace(/[-:T]/g, '').slice(2, 14)}Z`));
    const ecdsaSha256 = tlv(
      0x30,
      tlv(0x06, new Uint8Array([0x2a, 0x86, 0x48, 0xce, 0x3d, 4, 3, 2])),
    );
    const [platformCa] = pemCertificates(tdx.collateral.pck_crl_issuer_chain);
    const tbs = tlv(
      0x30,
      cat(
        tlv(0x02, new Uint8Array([1])),
        ecdsaSha256,
        certificateNames(platformCa!).subject,
        utc('2025-09-01T00:00:00Z'),
        utc('2025-10-01T00:00:00Z'),
      ),
    );
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const signature = sign('sha256', tbs, privateKey);
    const forged = tlv(0x30, cat(tbs, ecdsaSha256, tlv(0x03, cat(new Uint8Array([0]), signature))));
    expect(parseCrl(forged).revokedSerials).toEqual([]);
    const collateral = { ...tdx.collateral, pck_crl: Buffer.from(forged).toString('hex') };
    expect(() => authenticateCrls(collateral, tdx.now, null)).toThrow(
      /PCK CRL signature does not verify/,
    );
    // The gap this closes: the library verifies the quote with the forged CRL in place.
    const report = dcap.verify(
      Buffer.from(tdx.quote),
      collateral as unknown as Collateral,
      Math.floor(tdx.now.getTime() / 1000),
    );
    expect(report.status).toBe('UpToDate');
  });
});
