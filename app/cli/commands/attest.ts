import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  INTEL_PCS_URL,
  PcsCollateralSource,
  TCB_STATUSES,
  isSimulatedEvidence,
  isTcbStatus,
  parseCollateral,
  verify,
  type AttestationPolicy,
  type Evidence,
  type TcbStatus,
  type Verdict,
} from '../../../enclave-bridge/attestation/index.ts';
import { CustosError, fromFsError } from '../../errors/index.ts';
import { parseCommandLine, required, type Command, type Io } from '../command.ts';

const help = `usage: custos attest verify --quote FILE [--collateral FILE] [--now TIME]
                          [--allow-tcb STATUS[,STATUS…]] [--simulation-key HEX] --json

Verifies an Intel SGX (DCAP quote v3) or TDX (quote v4) quote, or simulated-enclave evidence.

  --quote FILE          the quote, as hex (0x optional) or binary; or simulated evidence (JSON)
  --collateral FILE     Intel collateral as JSON (QuoteCollateralV3 fields, as @phala/dcap-qvl takes);
                        without it, collateral is fetched from $CUSTOS_PCCS_URL or Intel PCS and
                        cached (in $CUSTOS_COLLATERAL_CACHE or ~/.cache/custos/collateral)
  --now TIME            verify as of TIME: ISO 8601 or unix seconds (default: now)
  --allow-tcb LIST      TCB statuses accepted besides UpToDate, comma-separated, from:
                        ${TCB_STATUSES.filter((s) => s !== 'UpToDate' && s !== 'Revoked').join(', ')}
  --simulation-key HEX  accept simulated evidence signed by this devnet simulation key (devnet only)
  --json                print one JSON object

Exit status: 0 when the evidence verifies and its TCB status is allowed, 1 when it does not,
2 on usage errors. Debug enclaves are always refused.
`;

/** Parses `--now`: ISO 8601 or unix seconds (default: the current time); throws UsageError. */
export function parseTime(value: string | undefined): Date {
  if (value === undefined) return new Date();
  const date = /^\d+$/.test(value)
    ? new Date(Number(value) * 1000)
    : /^\d{4}-\d{2}-\d{2}/.test(value)
      ? new Date(value)
      : new Date(NaN);
  if (Number.isNaN(date.getTime()))
    throw new CustosError('UsageError', `--now must be ISO 8601 or unix seconds, not "${value}"`);
  return date;
}

/** Parses `--allow-tcb`; UpToDate is always allowed, Revoked never. Throws UsageError. */
export function parseAllowedTcb(value: string | undefined): TcbStatus[] {
  const allowed: TcbStatus[] = ['UpToDate'];
  for (const item of (value ?? '').split(',').map((s) => s.trim())) {
    if (item === '') continue;
    if (!isTcbStatus(item))
      throw new CustosError(
        'UsageError',
        `unknown TCB status "${item}" (known: ${TCB_STATUSES.join(', ')})`,
      );
    if (item === 'Revoked') throw new CustosError('UsageError', 'a Revoked TCB is never accepted');
    if (!allowed.includes(item)) allowed.push(item);
  }
  return allowed;
}

/** The quote file's bytes: hex text (optionally 0x-prefixed, whitespace ignored) or binary. */
export function decodeQuoteFile(bytes: Uint8Array): Uint8Array {
  const text = Buffer.from(bytes).toString('latin1').trim();
  const hex = text.replace(/^0x/i, '').replace(/\s+/g, '');
  if (hex.length > 0 && /^[0-9a-fA-F]+$/.test(hex)) {
    if (hex.length % 2 !== 0)
      throw new CustosError('UsageError', 'the quote file holds hex of odd length');
    return new Uint8Array(Buffer.from(hex, 'hex'));
  }
  return bytes;
}

async function readInput(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(resolve(path)));
  } catch (error) {
    throw fromFsError(error, path);
  }
}

/** The verdict as the CLI prints it: the issue's fields, lowercase hex, null when absent. */
export function verdictJson(
  verdict: Verdict,
): Record<string, string | boolean | null | readonly string[]> {
  return {
    ok: verdict.ok,
    teeType: verdict.teeType,
    tcbStatus: verdict.tcbStatus,
    advisoryIds: verdict.advisoryIds,
    mrEnclave: verdict.mrEnclave,
    mrSigner: verdict.mrSigner,
    mrTd: verdict.mrTd,
    rtmrs: verdict.rtmrs,
    reportData: verdict.reportData,
    debug: verdict.debug,
    measurement: verdict.measurement,
    ...(verdict.ok ? {} : { reason: verdict.reason?.tag ?? 'AttestationInvalid' }),
    ...(verdict.ok ? {} : { message: verdict.reason?.message ?? '' }),
  };
}

function verdictText(verdict: Verdict): string {
  const lines = [
    verdict.ok
      ? `OK: ${verdict.teeType === 'simulated' ? 'SIMULATED enclave (devnet only)' : 'genuine enclave'}`
      : `REFUSED: ${verdict.reason?.tag ?? ''}: ${verdict.reason?.message ?? ''}`,
  ];
  for (const [k, v] of Object.entries(verdictJson(verdict))) {
    if (k === 'ok' || k === 'reason' || k === 'message' || v === null) continue;
    lines.push(`  ${k}: ${typeof v === 'object' ? v.join(', ') || '-' : String(v)}`);
  }
  return `${lines.join('\n')}\n`;
}

async function verifyCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandLine(
    argv,
    {
      quote: { type: 'string' },
      collateral: { type: 'string' },
      now: { type: 'string' },
      'allow-tcb': { type: 'string' },
      'simulation-key': { type: 'string' },
      json: { type: 'boolean' },
    },
    help,
  );
  if (positionals.length > 0)
    throw new CustosError('UsageError', `unexpected argument "${positionals[0]}"\n${help}`);
  const now = parseTime(values.now);
  const allowedTcbStatuses = parseAllowedTcb(values['allow-tcb']);
  const simulationKey = values['simulation-key'];
  if (simulationKey !== undefined && !/^(0x)?[0-9a-fA-F]{64}$/.test(simulationKey))
    throw new CustosError('UsageError', '--simulation-key is 32 bytes of hex');

  const raw = await readInput(required(values.quote, 'quote'));
  let evidence: Evidence;
  if (isSimulatedEvidence(raw)) {
    evidence = { kind: 'simulated', evidence: raw };
  } else {
    const quote = decodeQuoteFile(raw);
    const collateralPath = values.collateral;
    evidence =
      collateralPath === undefined
        ? { kind: 'dcap', quote }
        : {
            kind: 'dcap',
            quote,
            collateral: parseCollateral(new TextDecoder().decode(await readInput(collateralPath))),
          };
  }
  const policy: AttestationPolicy = {
    network: simulationKey === undefined ? 'mainnet' : 'devnet',
    allowedTcbStatuses,
    ...(simulationKey === undefined
      ? {}
      : {
          simulationKeys: [new Uint8Array(Buffer.from(simulationKey.replace(/^0x/, ''), 'hex'))],
        }),
    collateral: new PcsCollateralSource({
      baseUrl: io.env['CUSTOS_PCCS_URL'] ?? INTEL_PCS_URL,
      cacheDir:
        io.env['CUSTOS_COLLATERAL_CACHE'] ?? join(homedir(), '.cache', 'custos', 'collateral'),
    }),
  };
  const verdict = await verify(evidence, policy, now);
  io.stdout.write(values.json ? `${JSON.stringify(verdictJson(verdict))}\n` : verdictText(verdict));
  return verdict.ok ? 0 : 1;
}

export const attest: Command = {
  help,
  async run(argv, io) {
    const [sub, ...rest] = argv;
    if (sub !== 'verify')
      throw new CustosError(
        'UsageError',
        `${sub === undefined ? 'missing' : `unknown`} subcommand${sub === undefined ? '' : ` "${sub}"`}\n${help}`,
      );
    return verifyCommand(rest, io);
  },
};
