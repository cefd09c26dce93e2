import { describe, expect, it } from 'vitest';
import {
  isSimulatedEvidence,
  newSimulationKey,
  parseSimulatedEvidence,
  produceSimulatedEvidence,
  simulationKeyFromSeed,
} from './simulated.ts';
import type { AttestationPolicy, Verdict } from './types.ts';
import { verify } from './verify.ts';

const measurement = new Uint8Array(32).map((_, i) => i + 1);
const reportData = new Uint8Array(64).map((_, i) => 255 - i);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

async function devnet() {
  const key = await newSimulationKey();
  const policy: AttestationPolicy = { network: 'devnet', simulationKeys: [key.publicKey] };
  return { key, policy };
}

const check = (evidence: Uint8Array, policy: AttestationPolicy): Promise<Verdict> =>
  verify({ kind: 'simulated', evidence }, policy, new Date());

describe('simulated evidence', () => {
  it('the simulation key is Ed25519 from its seed (RFC 8032 test 1)', async () => {
    const seed = Buffer.from(
      '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
      'hex',
    );
    const key = await simulationKeyFromSeed(new Uint8Array(seed));
    expect(hex(key.publicKey)).toBe(
      'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    );
  });

  it('verifies on devnet with its key: teeType simulated, measurement and report_data', async () => {
    const { key, policy } = await devnet();
    const evidence = await produceSimulatedEvidence({ measurement, reportData }, key);
    expect(isSimulatedEvidence(evidence)).toBe(true);
    const v = await check(evidence, { ...policy, expectedReportData: reportData });
    expect(v).toEqual({
      ok: true,
      reason: null,
      teeType: 'simulated',
      tcbStatus: null,
      advisoryIds: [],
      mrEnclave: null,
      mrSigner: null,
      mrTd: null,
      rtmrs: null,
      reportData: hex(reportData),
      debug: false,
      measurement: hex(measurement),
    });
  });

  it('is refused with SimulatedNotAllowed on any network but devnet', async () => {
    const { key, policy } = await devnet();
    const evidence = await produceSimulatedEvidence({ measurement, reportData }, key);
    for (const network of ['mainnet', 'sepolia', 'testnet']) {
      const v = await check(evidence, { ...policy, network });
      expect(v.ok).toBe(false);
      expect(v.reason?.tag).toBe('SimulatedNotAllowed');
      expect(v.teeType).toBe('simulated');
    }
  });

  it('signed by another devnet’s key: AttestationInvalid', async () => {
    const { policy } = await devnet();
    const other = await newSimulationKey();
    const v = await check(
      await produceSimulatedEvidence({ measurement, reportData }, other),
      policy,
    );
    expect(v.reason?.tag).toBe('AttestationInvalid');
    expect(v.reason?.message).toMatch(/not signed by this devnet/);
  });

  it('a changed measurement or report_data breaks the signature: AttestationInvalid', async () => {
    const { key, policy } = await devnet();
    const evidence = await produceSimulatedEvidence({ measurement, reportData }, key);
    const json = JSON.parse(new TextDecoder().decode(evidence)) as Record<string, unknown>;
    for (const field of ['measurement', 'reportData'] as const) {
      const value = json[field] as string;
      const changed = { ...json, [field]: `${value[0] === '0' ? '1' : '0'}${value.slice(1)}` };
      const v = await check(new TextEncoder().encode(JSON.stringify(changed)), policy);
      expect(v.reason?.tag).toBe('AttestationInvalid');
      expect(v.reason?.message).toMatch(/signature does not verify/);
    }
    const flippedDebug = { ...json, debug: true };
    const v = await check(new TextEncoder().encode(JSON.stringify(flippedDebug)), policy);
    expect(v.reason?.tag).toBe('AttestationInvalid');
  });

  it('a debug simulated enclave is refused: DebugEnclave', async () => {
    const { key, policy } = await devnet();
    const v = await check(
      await produceSimulatedEvidence({ measurement, reportData, debug: true }, key),
      policy,
    );
    expect(v.reason?.tag).toBe('DebugEnclave');
    expect(v.debug).toBe(true);
  });

  it('evidence for another report_data: ReportDataMismatch', async () => {
    const { key, policy } = await devnet();
    const evidence = await produceSimulatedEvidence({ measurement, reportData }, key);
    const v = await check(evidence, { ...policy, expectedReportData: new Uint8Array(64) });
    expect(v.reason?.tag).toBe('ReportDataMismatch');
  });

  it('malformed evidence is AttestationInvalid; wrong lengths cannot be produced', async () => {
    const { key, policy } = await devnet();
    for (const text of ['', 'null', '[]', '{"format":"custos-simulated-evidence/1"}', '{"x":1}']) {
      const v = await check(new TextEncoder().encode(text), policy);
      expect(v.reason?.tag).toBe('AttestationInvalid');
    }
    expect(() => parseSimulatedEvidence(new Uint8Array([0xff, 0xfe]))).toThrow(/not JSON/);
    await expect(
      produceSimulatedEvidence({ measurement: new Uint8Array(31), reportData }, key),
    ).rejects.toThrow(/32 bytes/);
    await expect(
      produceSimulatedEvidence({ measurement, reportData: new Uint8Array(32) }, key),
    ).rejects.toThrow(/64 bytes/);
  });
});
