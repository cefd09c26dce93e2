import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  newSimulationKey,
  produceSimulatedEvidence,
} from '../../../enclave-bridge/attestation/index.ts';
import {
  OFFSETS,
  flipBit,
  sgxVector,
  tdxVector,
} from '../../../enclave-bridge/attestation/testing.ts';
import { main } from '../main.ts';
import { decodeQuoteFile, parseAllowedTcb, parseTime } from './attest.ts';
import { bufferIo } from '../testing.ts';

const BIN = join(import.meta.dirname, '../../../bin/custos.js');
const tdx = tdxVector();
const sgx = sgxVector();
const TDX_NOW = '2025-09-15T00:00:00Z';
const SGX_NOW = String(sgx.now.getTime() / 1000); // unix seconds

let dir = '';
const file = (name: string) => join(dir, name);
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custos-attest-'));
  await writeFile(file('sgx.bin'), sgx.quote);
  await writeFile(file('sgx-debug.bin'), flipBit(sgx.quote, OFFSETS.sgx.attributes, 1));
  await writeFile(
    file('tdx-sig.hex'),
    `0x${Buffer.from(flipBit(tdx.quote, OFFSETS.tdx.signatureLength + 40)).toString('hex')}\n`,
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const TDX_QUOTE = join(tdx.dir, 'quote.hex');
const TDX_COLLATERAL = join(tdx.dir, 'collateral.json');
const SGX_COLLATERAL = join(sgx.dir, 'collateral.json');

async function run(args: string[]): Promise<{ code: number; json: Record<string, unknown> }> {
  const io = bufferIo();
  const code = await main(['attest', 'verify', ...args, '--json'], io);
  return { code, json: JSON.parse(io.out()) as Record<string, unknown> };
}

describe('custos attest verify --json on the real vectors', () => {
  it('TDX quote (hex file): ok, exit 0, every field of the issue', async () => {
    const { code, json } = await run([
      '--quote',
      TDX_QUOTE,
      '--collateral',
      TDX_COLLATERAL,
      '--now',
      TDX_NOW,
    ]);
    expect(code).toBe(0);
    expect(json).toMatchObject({
      ok: true,
      teeType: 'tdx',
      tcbStatus: 'UpToDate',
      advisoryIds: [],
      mrEnclave: null,
      mrSigner: null,
      mrTd: 'c68518a0ebb42136c12b2275164f8c72f25fa9a34392228687ed6e9caeb9c0f1dbd895e9cf475121c029dc47e70e91fd',
      reportData:
        '00000000000000000000000000656432353531393a676433633969477a5079366672326331487a6b4a506752457336644d43485a4261334d5a64575068726253',
      debug: false,
    });
    expect(json).not.toHaveProperty('reason');
  });

  it('SGX quote (binary file), unix-seconds time: refused by default, accepted with --allow-tcb', async () => {
    const refused = await run([
      '--quote',
      file('sgx.bin'),
      '--collateral',
      SGX_COLLATERAL,
      '--now',
      SGX_NOW,
    ]);
    expect(refused.code).toBe(1);
    expect(refused.json).toMatchObject({
      ok: false,
      reason: 'TcbNotAllowed',
      teeType: 'sgx',
      tcbStatus: 'SWHardeningNeeded',
      advisoryIds: ['INTEL-SA-00615'],
      mrEnclave: 'a4f45c39dac622cb1dd32ddb35a52ec92db41d0fa88a1c911c49e59c534f61cd',
      mrSigner: '8f2dbc0f9c5d3378d596974b2deed1f93223cc49242899f83809bcc92546132c',
      mrTd: null,
      reportData: '00'.repeat(64),
      debug: false,
    });
    const allowed = await run([
      '--quote',
      file('sgx.bin'),
      '--collateral',
      SGX_COLLATERAL,
      '--now',
      SGX_NOW,
      '--allow-tcb',
      'SWHardeningNeeded,ConfigurationNeeded',
    ]);
    expect(allowed.code).toBe(0);
    expect(allowed.json['ok']).toBe(true);
  });

  it('a mutated signature (0x-prefixed hex): exit 1, AttestationInvalid', async () => {
    const { code, json } = await run([
      '--quote',
      file('tdx-sig.hex'),
      '--collateral',
      TDX_COLLATERAL,
      '--now',
      TDX_NOW,
    ]);
    expect(code).toBe(1);
    expect(json).toMatchObject({ ok: false, reason: 'AttestationInvalid', teeType: 'tdx' });
  });

  it('a debug enclave: exit 1, DebugEnclave, debug true', async () => {
    const { code, json } = await run([
      '--quote',
      file('sgx-debug.bin'),
      '--collateral',
      SGX_COLLATERAL,
      '--now',
      SGX_NOW,
      '--allow-tcb',
      'SWHardeningNeeded',
    ]);
    expect(code).toBe(1);
    expect(json).toMatchObject({ ok: false, reason: 'DebugEnclave', debug: true });
  });

  it('expired collateral: exit 1, CollateralExpired', async () => {
    const { code, json } = await run([
      '--quote',
      TDX_QUOTE,
      '--collateral',
      TDX_COLLATERAL,
      '--now',
      '2026-01-01T00:00:00Z',
    ]);
    expect(code).toBe(1);
    expect(json['reason']).toBe('CollateralExpired');
  });

  it('simulated evidence: SimulatedNotAllowed, unless given the devnet simulation key', async () => {
    const key = await newSimulationKey();
    const evidence = await produceSimulatedEvidence(
      { measurement: new Uint8Array(32).fill(1), reportData: new Uint8Array(64).fill(2) },
      key,
    );
    await writeFile(file('sim.json'), evidence);
    const refused = await run(['--quote', file('sim.json')]);
    expect(refused.code).toBe(1);
    expect(refused.json).toMatchObject({
      ok: false,
      reason: 'SimulatedNotAllowed',
      teeType: 'simulated',
    });
    const accepted = await run([
      '--quote',
      file('sim.json'),
      '--simulation-key',
      Buffer.from(key.publicKey).toString('hex'),
    ]);
    expect(accepted.code).toBe(0);
    expect(accepted.json).toMatchObject({
      ok: true,
      teeType: 'simulated',
      tcbStatus: null,
      measurement: '01'.repeat(32),
      reportData: '02'.repeat(64),
    });
  });

  it('runs as the real command (bin/custos.js): exit status and one JSON line', async () => {
    const result = await new Promise<{ code: number; stdout: string }>((done) => {
      execFile(
        process.execPath,
        [
          BIN,
          'attest',
          'verify',
          '--quote',
          TDX_QUOTE,
          '--collateral',
          TDX_COLLATERAL,
          '--now',
          '2025-10-01',
          '--json',
        ],
        (error, stdout) => done({ code: error ? Number(error.code) : 0, stdout }),
      );
    });
    expect(result.code).toBe(1);
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      ok: false,
      reason: 'CollateralExpired',
      teeType: 'tdx',
    });
  });
});

describe('custos attest usage errors exit 2', () => {
  const cases: [string, string[]][] = [
    ['no subcommand', []],
    ['unknown subcommand', ['check']],
    ['no --quote', ['verify', '--json']],
    ['bad --now', ['verify', '--quote', TDX_QUOTE, '--now', 'yesterday', '--json']],
    ['unknown TCB status', ['verify', '--quote', TDX_QUOTE, '--allow-tcb', 'Fine', '--json']],
    ['Revoked allowed', ['verify', '--quote', TDX_QUOTE, '--allow-tcb', 'Revoked', '--json']],
    ['unknown option', ['verify', '--quote', TDX_QUOTE, '--pretty']],
  ];
  for (const [name, args] of cases) {
    it(name, async () => {
      const io = bufferIo();
      expect(await main(['attest', ...args], io)).toBe(2);
      expect(io.err()).toMatch(/^custos: UsageError: /);
      expect(io.out()).toBe('');
    });
  }

  it('collateral that is not QuoteCollateralV3 JSON', async () => {
    await writeFile(file('bad.json'), '{"tcb_info":"{}"}');
    const io = bufferIo();
    expect(
      await main(
        ['attest', 'verify', '--quote', TDX_QUOTE, '--collateral', file('bad.json'), '--json'],
        io,
      ),
    ).toBe(2);
    expect(io.err()).toMatch(/collateral field/);
  });
});

describe('argument parsing', () => {
  it('--now takes ISO 8601 and unix seconds', () => {
    expect(parseTime('1755236700').toISOString()).toBe('2025-08-15T05:45:00.000Z');
    expect(parseTime('2025-08-15T05:45:00Z').toISOString()).toBe('2025-08-15T05:45:00.000Z');
    expect(() => parseTime('15/08/2025')).toThrow(/ISO 8601/);
  });

  it('--allow-tcb always includes UpToDate, never Revoked', () => {
    expect(parseAllowedTcb(undefined)).toEqual(['UpToDate']);
    expect(parseAllowedTcb('OutOfDate, SWHardeningNeeded')).toEqual([
      'UpToDate',
      'OutOfDate',
      'SWHardeningNeeded',
    ]);
    expect(() => parseAllowedTcb('Revoked')).toThrow(/never/);
  });

  it('quote files: hex with or without 0x and line breaks, or binary as is', () => {
    const bytes = tdx.quote.subarray(0, 48);
    const hex = Buffer.from(bytes).toString('hex');
    expect(
      decodeQuoteFile(new TextEncoder().encode(`0x${hex.slice(0, 40)}\n${hex.slice(40)}\n`)),
    ).toEqual(bytes);
    expect(decodeQuoteFile(tdx.quote)).toBe(tdx.quote);
    expect(() => decodeQuoteFile(new TextEncoder().encode('abc'))).toThrow(/odd length/);
  });
});
