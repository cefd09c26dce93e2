import { describe, expect, it } from 'vitest';
import { pemCertificates } from './collateral.ts';
import { readQuote } from './dcap.ts';
import { certificateNames } from './der.ts';
import { OFFSETS, flipBit, sgxVector, tdxVector } from './testing.ts';
import type { AttestationPolicy, QuoteCollateral, Verdict } from './types.ts';
import { verify } from './verify.ts';

const MAINNET: AttestationPolicy = { network: 'mainnet' };
const tdx = tdxVector();
const sgx = sgxVector();
const SGX_ALLOW: AttestationPolicy = {
  network: 'mainnet',
  allowedTcbStatuses: ['UpToDate', 'SWHardeningNeeded'],
};

const verifyQuote = (
  quote: Uint8Array,
  collateral: QuoteCollateral | undefined,
  policy: AttestationPolicy,
  now: Date,
): Promise<Verdict> =>
  verify(collateral ? { kind: 'dcap', quote, collateral } : { kind: 'dcap', quote }, policy, now);

function expectRefused(verdict: Verdict, tag: string): void {
  expect(verdict.ok).toBe(false);
  expect(verdict.reason?.tag).toBe(tag);
}

/** Index of the first byte of the PEM certificate chain embedded in the quote. */
function pemStart(quote: Uint8Array): number {
  const at = Buffer.from(quote).indexOf('-----BEGIN CERTIFICATE-----');
  expect(at).toBeGreaterThan(0);
  return at;
}

describe('real Intel quotes verify at a time inside their collateral window', () => {
  it('TDX quote v4 (tee-solver): UpToDate, MRTD, RTMRs and report_data', async () => {
    const v = await verifyQuote(tdx.quote, tdx.collateral, MAINNET, tdx.now);
    expect(v).toMatchObject({
      ok: true,
      reason: null,
      teeType: 'tdx',
      tcbStatus: 'UpToDate',
      advisoryIds: [],
      mrEnclave: null,
      mrSigner: null,
      mrTd: 'c68518a0ebb42136c12b2275164f8c72f25fa9a34392228687ed6e9caeb9c0f1dbd895e9cf475121c029dc47e70e91fd',
      debug: false,
    });
    expect(v.measurement).toBe(v.mrTd);
    expect(v.rtmrs?.[3]).toBe(
      '4ac3c9279570e72ed82275275b3daa645868d24251fd357e6bf6a26a59d864797f42e77bdf034b8ce80e5c5c06c81071',
    );
    // The worker put its NEAR key, "ed25519:…", in report_data.
    expect(Buffer.from(v.reportData ?? '', 'hex').toString('latin1')).toContain(
      'ed25519:gd3c9iGzPy6',
    );
  });

  it('SGX quote v3 (Automata): SWHardeningNeeded with INTEL-SA-00615, accepted when allowed', async () => {
    const v = await verifyQuote(sgx.quote, sgx.collateral, SGX_ALLOW, sgx.now);
    expect(v).toMatchObject({
      ok: true,
      teeType: 'sgx',
      tcbStatus: 'SWHardeningNeeded',
      advisoryIds: ['INTEL-SA-00615'],
      mrEnclave: 'a4f45c39dac622cb1dd32ddb35a52ec92db41d0fa88a1c911c49e59c534f61cd',
      mrSigner: '8f2dbc0f9c5d3378d596974b2deed1f93223cc49242899f83809bcc92546132c',
      mrTd: null,
      rtmrs: null,
      reportData: '00'.repeat(64),
      debug: false,
    });
  });

  it('the default policy admits only UpToDate: the SGX quote is refused with TcbNotAllowed', async () => {
    const v = await verifyQuote(sgx.quote, sgx.collateral, MAINNET, sgx.now);
    expectRefused(v, 'TcbNotAllowed');
    // The verdict still says what was found, for the steward to decide.
    expect(v.tcbStatus).toBe('SWHardeningNeeded');
    expect(v.advisoryIds).toEqual(['INTEL-SA-00615']);
  });

  it('allowing other statuses does not admit one not listed', async () => {
    const v = await verifyQuote(
      sgx.quote,
      sgx.collateral,
      { network: 'mainnet', allowedTcbStatuses: ['UpToDate', 'ConfigurationNeeded'] },
      sgx.now,
    );
    expectRefused(v, 'TcbNotAllowed');
  });
});

describe('quote reading', () => {
  it('finds the PCK certificate’s issuer in both quotes, so the PCK CRL issuer check applies', () => {
    for (const v of [sgx, tdx]) {
      const [platformCa] = pemCertificates(v.collateral.pck_crl_issuer_chain);
      const issuer = readQuote(v.quote).pckIssuer;
      expect(issuer).not.toBeNull();
      expect(Buffer.from(issuer!).equals(Buffer.from(certificateNames(platformCa!).subject))).toBe(
        true,
      );
    }
  });
});

describe('mutated quotes fail with a named reason', () => {
  const cases: {
    name: string;
    vector: typeof sgx;
    offset: (q: Uint8Array) => number;
    message: RegExp;
  }[] = [
    {
      name: 'SGX: a bit of MRENCLAVE (report body)',
      vector: sgx,
      offset: () => OFFSETS.sgx.mrEnclave + 5,
      message: /ISV enclave report signature is invalid/,
    },
    {
      name: 'SGX: a bit of MRSIGNER (report body)',
      vector: sgx,
      offset: () => OFFSETS.sgx.mrSigner,
      message: /ISV enclave report signature is invalid/,
    },
    {
      name: 'SGX: a bit of report_data',
      vector: sgx,
      offset: () => OFFSETS.sgx.reportData + 63,
      message: /ISV enclave report signature is invalid/,
    },
    {
      name: 'SGX: a bit of the quote signature',
      vector: sgx,
      offset: () => OFFSETS.sgx.signatureLength + 4 + 10,
      message: /ISV enclave report signature is invalid/,
    },
    {
      name: 'SGX: a bit of the attestation key',
      vector: sgx,
      offset: () => OFFSETS.sgx.signatureLength + 4 + 64 + 3,
      message: /QE report hash mismatch/,
    },
    {
      name: 'SGX: a bit of the QE report',
      vector: sgx,
      offset: () => OFFSETS.sgx.signatureLength + 4 + 128 + 100,
      message: /Signature is invalid for qe_report/,
    },
    {
      name: 'SGX: a bit of the PCK certificate',
      vector: sgx,
      offset: (q) => pemStart(q) + 400,
      message: /leaf signature invalid/,
    },
    {
      name: 'SGX: a bit of the PCK Platform CA certificate',
      vector: sgx,
      offset: (q) => pemStart(q) + 2100,
      message: /intermediate signature invalid/,
    },
    {
      name: 'TDX: a bit of MRTD (report body)',
      vector: tdx,
      offset: () => OFFSETS.tdx.mrTd + 7,
      message: /ISV enclave report signature is invalid/,
    },
    {
      name: 'TDX: a bit of report_data',
      vector: tdx,
      offset: () => OFFSETS.tdx.reportData,
      message: /ISV enclave report signature is invalid/,
    },
    {
      name: 'TDX: a bit of the quote signature',
      vector: tdx,
      offset: () => OFFSETS.tdx.signatureLength + 4 + 30,
      message: /ISV enclave report signature is invalid/,
    },
    {
      name: 'TDX: a bit of the PCK certificate',
      vector: tdx,
      offset: (q) => pemStart(q) + 600,
      message: /leaf signature invalid/,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const { quote, collateral, now } = c.vector;
      const mutated = flipBit(quote, c.offset(quote), 1);
      const v = await verifyQuote(mutated, collateral, SGX_ALLOW, now);
      expectRefused(v, 'AttestationInvalid');
      expect(v.reason?.message).toMatch(c.message);
    });
  }

  it('a quote for another report_data: ReportDataMismatch; the right one passes', async () => {
    const other = new Uint8Array(64).fill(7);
    const refused = await verifyQuote(
      tdx.quote,
      tdx.collateral,
      { network: 'mainnet', expectedReportData: other },
      tdx.now,
    );
    expectRefused(refused, 'ReportDataMismatch');
    const expected = new Uint8Array(
      Buffer.from(tdx.quote.subarray(OFFSETS.tdx.reportData, OFFSETS.tdx.reportData + 64)),
    );
    const ok = await verifyQuote(
      tdx.quote,
      tdx.collateral,
      { network: 'mainnet', expectedReportData: expected },
      tdx.now,
    );
    expect(ok.ok).toBe(true);
  });

  it('garbage and truncated quotes: AttestationInvalid', async () => {
    expectRefused(
      await verifyQuote(new Uint8Array(100), tdx.collateral, MAINNET, tdx.now),
      'AttestationInvalid',
    );
    expectRefused(
      await verifyQuote(tdx.quote.subarray(0, 1000), tdx.collateral, MAINNET, tdx.now),
      'AttestationInvalid',
    );
  });

  it('the collateral of another TEE type does not verify a quote', async () => {
    const v = await verifyQuote(sgx.quote, tdx.collateral, SGX_ALLOW, tdx.now);
    expectRefused(v, 'AttestationInvalid');
  });
});

describe('debug enclaves are always refused', () => {
  it('SGX: ATTRIBUTES.DEBUG set → DebugEnclave, whatever the policy allows', async () => {
    const debug = flipBit(sgx.quote, OFFSETS.sgx.attributes, 1);
    const v = await verifyQuote(debug, sgx.collateral, SGX_ALLOW, sgx.now);
    expectRefused(v, 'DebugEnclave');
    expect(v.debug).toBe(true);
  });

  it('TDX: TDATTRIBUTES.DEBUG set → DebugEnclave', async () => {
    const debug = flipBit(tdx.quote, OFFSETS.tdx.tdAttributes, 0);
    const v = await verifyQuote(debug, tdx.collateral, MAINNET, tdx.now);
    expectRefused(v, 'DebugEnclave');
    expect(v.debug).toBe(true);
  });
});

describe('collateral', () => {
  it('expired (after nextUpdate) → CollateralExpired', async () => {
    expectRefused(
      await verifyQuote(tdx.quote, tdx.collateral, MAINNET, new Date('2025-10-01T00:00:00Z')),
      'CollateralExpired',
    );
    expectRefused(
      await verifyQuote(sgx.quote, sgx.collateral, SGX_ALLOW, new Date('2025-09-14T04:36:47Z')),
      'CollateralExpired',
    );
  });

  it('not yet valid (before issue) → CollateralExpired', async () => {
    expectRefused(
      await verifyQuote(tdx.quote, tdx.collateral, MAINNET, new Date('2025-08-30T00:00:00Z')),
      'CollateralExpired',
    );
  });

  it('an authentic PCK CRL outside its window is refused, though dcap-qvl would not look', async () => {
    // The TDX collateral's PCK CRL (same CA, issued 2025-08-31) with the SGX quote at 2025-08-15.
    const collateral = { ...sgx.collateral, pck_crl: tdx.collateral.pck_crl };
    const v = await verifyQuote(sgx.quote, collateral, SGX_ALLOW, sgx.now);
    expectRefused(v, 'CollateralExpired');
    expect(v.reason?.message).toMatch(/PCK CRL is not valid before 2025-08-31/);
  });

  it('a PCK CRL with a flipped bit is refused (signature), though dcap-qvl would not look', async () => {
    const crl = Buffer.from(sgx.collateral.pck_crl as string, 'hex');
    crl[300] = (crl[300] as number) ^ 1; // inside a revoked serial number
    const v = await verifyQuote(
      sgx.quote,
      { ...sgx.collateral, pck_crl: crl.toString('hex') },
      SGX_ALLOW,
      sgx.now,
    );
    expectRefused(v, 'AttestationInvalid');
    expect(v.reason?.message).toMatch(/PCK CRL signature does not verify/);
  });

  it('a CRL from the wrong issuer is refused', async () => {
    const collateral = { ...sgx.collateral, root_ca_crl: sgx.collateral.pck_crl };
    const v = await verifyQuote(sgx.quote, collateral, SGX_ALLOW, sgx.now);
    expectRefused(v, 'AttestationInvalid');
    expect(v.reason?.message).toMatch(/root CA CRL is not issued by/);
  });

  it('TCB Info edited to upgrade a level → AttestationInvalid (signature)', async () => {
    const tcbInfo = sgx.collateral.tcb_info.replace('"SWHardeningNeeded"', '"UpToDate"');
    expect(tcbInfo).not.toBe(sgx.collateral.tcb_info);
    const v = await verifyQuote(
      sgx.quote,
      { ...sgx.collateral, tcb_info: tcbInfo },
      MAINNET,
      sgx.now,
    );
    expectRefused(v, 'AttestationInvalid');
  });

  it('QE Identity edited → AttestationInvalid (signature)', async () => {
    const qe = tdx.collateral.qe_identity.replace('"isvsvn":4', '"isvsvn":3');
    expect(qe).not.toBe(tdx.collateral.qe_identity);
    const v = await verifyQuote(
      tdx.quote,
      { ...tdx.collateral, qe_identity: qe },
      MAINNET,
      tdx.now,
    );
    expectRefused(v, 'AttestationInvalid');
  });

  it('no collateral given or configured → CollateralUnavailable', async () => {
    expectRefused(
      await verifyQuote(tdx.quote, undefined, MAINNET, tdx.now),
      'CollateralUnavailable',
    );
  });

  it('collateral from the policy’s source is used when the evidence has none', async () => {
    const v = await verifyQuote(
      tdx.quote,
      undefined,
      { network: 'mainnet', collateral: { collateralFor: () => Promise.resolve(tdx.collateral) } },
      tdx.now,
    );
    expect(v.ok).toBe(true);
  });
});
