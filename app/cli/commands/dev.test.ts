import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SPECULOS_SEED } from '../../signer/emulator/index.ts';
import { main } from '../main.ts';
import { bufferIo } from '../testing.ts';

const BIN = join(import.meta.dirname, '../../../bin/custos.js');

interface Vectors {
  cases: { name: string; device?: object; apdus: string[]; responses: string[] }[];
}

describe('custos dev apdu', () => {
  const vectors = JSON.parse(
    readFileSync(
      new URL('../../signer/emulator/vectors/speculos-app-ethereum.json', import.meta.url),
      'utf8',
    ),
  ) as Vectors;

  it('answers the Speculos vectors that need default settings, one line per APDU', async () => {
    const cases = vectors.cases.filter((c) => c.device === undefined);
    expect(cases.length).toBeGreaterThan(8);
    for (const c of cases) {
      const io = bufferIo();
      expect(await main(['dev', 'apdu', '--mnemonic', SPECULOS_SEED, ...c.apdus], io)).toBe(0);
      expect(io.out()).toBe(c.responses.map((r) => `${r}\n`).join(''));
    }
  });

  it('runs as the real command: b0 01, configuration, then an unknown INS', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      BIN,
      'dev',
      'apdu',
      '--mnemonic',
      SPECULOS_SEED,
      'b001000000',
      'e006000000',
      'e0ff000000',
    ]);
    expect(stdout).toBe('0108457468657265756d06312e31322e3001009000\n0e010c009000\n6d00\n');
  });

  it('refuses a bad mnemonic and bad hex with a usage error (exit 2)', async () => {
    const bad = bufferIo();
    expect(await main(['dev', 'apdu', '--mnemonic', 'not a mnemonic', 'e006000000'], bad)).toBe(2);
    expect(bad.err()).toMatch(/UsageError: --mnemonic/);
    const hex = bufferIo();
    expect(await main(['dev', 'apdu', '--mnemonic', SPECULOS_SEED, 'zz'], hex)).toBe(2);
    expect(hex.err()).toMatch(/not an APDU in hex/);
    const none = bufferIo();
    expect(await main(['dev', 'apdu', '--mnemonic', SPECULOS_SEED], none)).toBe(2);
  });
});
