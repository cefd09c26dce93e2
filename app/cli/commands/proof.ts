import { readFile, writeFile } from 'node:fs/promises';
import { providerFor, toChainError } from '../../chain/index.ts';
import { CustosError, fromFsError } from '../../errors/index.ts';
import {
  TrustedBlocksSchema,
  bundleFromPdf,
  exportUsageProof,
  usageProofPdf,
  verifyUsageProof,
  type VerifyReport,
} from '../../proofs/index.ts';
import { parseCommandLine, required, type Command, type Io } from '../command.ts';
import { CHAIN_HELP, CHAIN_OPTIONS, chainSourceFrom, datasetIdOption } from './audit.ts';

const help = `usage:
  custos proof export --dataset ID [--from TIME] [--to TIME] --out FILE.json [--pdf FILE.pdf]
                      [--evidence DIR] [chain options]
  custos proof verify FILE.json|FILE.pdf [--rpc URL] [--trusted-blocks FILE] [--json]

  export   Writes the usage-proof bundle of a dataset for a period (block times; TIME is ISO 8601
           or unix seconds): each registry event with its receipt, the receipt's Merkle-Patricia
           proof and its block header, the runs' enclave signatures, the runs of other datasets
           in the same enclave run (linked runs, with their own proofs), the attestation evidence
           hashes (and the evidence files found in --evidence DIR, named by their SHA-256), and
           the key-release journal excerpt. --pdf also writes a report that embeds the bundle.
           Existing files are not overwritten.
  verify   Recomputes everything in a bundle (or the one attached to a PDF report) and anchors its block hashes to a node (--rpc, which
           also checks that no event of the dataset is missing) or to a JSON file of block hashes
           you trust (--trusted-blocks: {"chainId": N, "blocks": {"<number>": "0x<hash>"}}).
           --json prints one object: { ok, events, checks, failures: [{ check, subject, event,
           reason }], anchor }. Exit 0 only when ok.

${CHAIN_HELP}
`;

/** ISO 8601 or unix seconds. @throws UsageError */
function time(value: string | undefined, name: string): Date | undefined {
  if (value === undefined) return undefined;
  const date = /^\d+$/.test(value) ? new Date(Number(value) * 1000) : new Date(value);
  if (Number.isNaN(date.getTime()))
    throw new CustosError('UsageError', `--${name} must be an ISO 8601 time or unix seconds`);
  return date;
}

async function writeNew(path: string, data: string | Uint8Array): Promise<void> {
  try {
    await writeFile(path, data, { flag: 'wx' });
  } catch (error) {
    throw fromFsError(error, path);
  }
}

async function exportCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandLine(
    argv,
    {
      ...CHAIN_OPTIONS,
      dataset: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      out: { type: 'string' },
      pdf: { type: 'string' },
      evidence: { type: 'string' },
    },
    help,
  );
  if (positionals.length > 0)
    throw new CustosError('UsageError', `unexpected "${positionals[0]}"\n${help}`);
  const datasetId = datasetIdOption(values.dataset);
  const out = required(values.out, 'out');
  const from = time(values.from, 'from');
  const to = time(values.to, 'to');
  if (from && to && from > to) throw new CustosError('UsageError', '--from is after --to');
  const chain = await chainSourceFrom(values, io);
  try {
    const bundle = await exportUsageProof(chain.source, datasetId, {
      ...(from ? { from } : {}),
      ...(to ? { to } : {}),
      ...(chain.journalPath === undefined ? {} : { journalPath: chain.journalPath }),
      ...(values.evidence === undefined ? {} : { evidenceDir: values.evidence }),
    });
    const json = `${JSON.stringify(bundle, null, 2)}\n`;
    await writeNew(out, json);
    if (values.pdf !== undefined) await writeNew(values.pdf, await usageProofPdf(bundle, json));
    io.stderr.write(
      `wrote ${out}: ${bundle.events.length} events in ${bundle.blocks.length} blocks, ${bundle.runs.length} runs, ${bundle.anomalies.length} anomalies${values.pdf === undefined ? '' : `; report ${values.pdf}`}\n`,
    );
    return 0;
  } finally {
    chain.close();
  }
}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw fromFsError(error, path);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CustosError('BundleMalformed', `${path} is not JSON (${what})`);
  }
}

/** A bundle file, or a PDF report carrying one. */
async function readBundle(path: string): Promise<unknown> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (error) {
    throw fromFsError(error, path);
  }
  const text =
    data.subarray(0, 5).toString('latin1') === '%PDF-'
      ? await bundleFromPdf(data)
      : data.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CustosError('BundleMalformed', `${path} is not JSON (a usage-proof bundle)`);
  }
}

function human(report: VerifyReport): string {
  const lines = [
    report.ok
      ? `OK: ${report.events} events verified (block hashes anchored to ${report.anchor === 'rpc' ? 'the node' : 'the trusted blocks'})`
      : `FAILED: ${report.failures.length} failure(s) in ${report.events} events`,
  ];
  for (const f of report.failures) lines.push(`  ✗ ${f.check}: ${f.subject}: ${f.reason}`);
  return `${lines.join('\n')}\n`;
}

async function verifyCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandLine(
    argv,
    { rpc: { type: 'string' }, 'trusted-blocks': { type: 'string' }, json: { type: 'boolean' } },
    help,
  );
  if (positionals.length !== 1)
    throw new CustosError('UsageError', `give one bundle file\n${help}`);
  const bundle = await readBundle(positionals[0]!);
  let trustedBlocks;
  if (values['trusted-blocks'] !== undefined) {
    const parsed = TrustedBlocksSchema.safeParse(
      await readJson(values['trusted-blocks'], 'trusted blocks'),
    );
    if (!parsed.success)
      throw new CustosError(
        'UsageError',
        `${values['trusted-blocks']} is not {"chainId": N, "blocks": {"<number>": "0x<hash>"}}`,
      );
    trustedBlocks = parsed.data;
  }
  let provider;
  if (values.rpc !== undefined) {
    const probe = providerFor(values.rpc, 1);
    try {
      provider = providerFor(
        values.rpc,
        Number(BigInt((await probe.send('eth_chainId', [])) as string)),
      );
    } catch (error) {
      throw toChainError(error, { step: 'eth_chainId' });
    } finally {
      probe.destroy();
    }
  }
  try {
    const report = await verifyUsageProof(bundle, {
      ...(provider ? { provider } : {}),
      ...(trustedBlocks ? { trustedBlocks } : {}),
    });
    io.stdout.write(values.json ? `${JSON.stringify(report)}\n` : human(report));
    return report.ok ? 0 : 1;
  } finally {
    provider?.destroy();
  }
}

export const proof: Command = {
  help,
  async run(argv, io) {
    const [sub, ...rest] = argv;
    if (sub === 'export') return exportCommand(rest, io);
    if (sub === 'verify') return verifyCommand(rest, io);
    throw new CustosError('UsageError', `unknown proof command "${sub ?? ''}"\n${help}`);
  },
};
