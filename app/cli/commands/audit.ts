import { auditDataset, type ChainSource, type TimelineEntry } from '../../audit/index.ts';
import { checkChain, providerFor, toChainError } from '../../chain/index.ts';
import { CustosError } from '../../errors/index.ts';
import { parseCommandLine, required, type Command, type Io } from '../command.ts';

/** The options every audit/proof command takes to find the chain and the journal. */
export const CHAIN_OPTIONS = {
  rpc: { type: 'string' },
  registry: { type: 'string' },
  'start-block': { type: 'string' },
  confirmations: { type: 'string' },
  journal: { type: 'string' },
} as const;

export const CHAIN_HELP = `Chain and journal (an option wins over its environment variable):
  --rpc URL            JSON-RPC node of the chain                     (CUSTOS_RPC_URL)
  --registry ADDR      CustosRegistry contract address                (CUSTOS_REGISTRY)
  --start-block N      block the registry was deployed in (default 0) (CUSTOS_START_BLOCK)
  --confirmations N    blocks before an event counts (default 1)      (CUSTOS_CONFIRMATIONS)
  --journal FILE       the key-release service's journal (JSONL)      (CUSTOS_JOURNAL)
The chain id is read from the node.`;

function count(value: string | undefined, name: string, min: number): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min)
    throw new CustosError('UsageError', `--${name} must be an integer ≥ ${min}`);
  return Number(value);
}

/**
 * The chain source from options and environment; asks the node for its chain id.
 * @throws UsageError (missing --rpc/--registry), RpcUnavailable
 */
export async function chainSourceFrom(
  values: Partial<Record<keyof typeof CHAIN_OPTIONS, string | boolean>>,
  io: Io,
): Promise<{ source: ChainSource; journalPath: string | undefined; close(): void }> {
  const pick = (k: keyof typeof CHAIN_OPTIONS, env: string): string | undefined => {
    const v = values[k];
    return typeof v === 'string' ? v : io.env[env];
  };
  const rpcUrl = pick('rpc', 'CUSTOS_RPC_URL');
  const registry = pick('registry', 'CUSTOS_REGISTRY');
  if (!rpcUrl) throw new CustosError('UsageError', '--rpc URL (or CUSTOS_RPC_URL) is required');
  if (!registry || !/^0x[0-9a-fA-F]{40}$/.test(registry))
    throw new CustosError(
      'UsageError',
      '--registry ADDR (or CUSTOS_REGISTRY) is required: the registry contract address',
    );
  const startBlock = count(pick('start-block', 'CUSTOS_START_BLOCK'), 'start-block', 0) ?? 0;
  const confirmations =
    count(pick('confirmations', 'CUSTOS_CONFIRMATIONS'), 'confirmations', 1) ?? 1;
  const journalPath = pick('journal', 'CUSTOS_JOURNAL') || undefined;
  const probe = providerFor(rpcUrl, 1);
  let chainId: number;
  try {
    chainId = Number(BigInt((await probe.send('eth_chainId', [])) as string));
  } catch (error) {
    throw toChainError(error, { step: 'eth_chainId' });
  } finally {
    probe.destroy();
  }
  const provider = providerFor(rpcUrl, chainId);
  await checkChain(provider, chainId);
  return {
    source: { provider, chainId, registry, startBlock, confirmations },
    journalPath,
    close: () => provider.destroy(),
  };
}

/** A dataset id: 32 bytes of hex. @throws UsageError */
export function datasetIdOption(value: string | boolean | undefined): string {
  const id = required(value, 'dataset');
  if (!/^0x[0-9a-fA-F]{64}$/.test(id))
    throw new CustosError('UsageError', '--dataset must be a dataset id (0x and 64 hex digits)');
  return id.toLowerCase();
}

const help = `usage: custos audit list --dataset ID [--json] [--expected-run SECONDS] [chain options]

  Shows one dataset's audit trail: every registry event (registration, grants, revocations,
  freezes, operator and owner changes, runs opened and closed) and every key release or refusal
  in the key-release journal, in order, with who, when (block time and wall time), grant,
  measurement, TEE type (SIMULATED shown as such) and evidence; a run names the runs of other
  datasets in the same enclave run (same enclave key and/or result) — and the anomalies found:
  runs not closed in time (--expected-run, default 86400 s), runs closed after revocation,
  releases without an on-chain run and the reverse, simulated evidence outside the devnet,
  a broken journal hash chain.

  --json   one JSON object: { datasetId, chainId, registry, entries: [...], anomalies: [...] }

${CHAIN_HELP}
`;

function line(e: TimelineEntry): string {
  const when = e.blockTime ?? e.wallTime ?? '?';
  const tee = e.simulated ? ' [SIMULATED]' : e.teeType ? ` [${e.teeType.toUpperCase()}]` : '';
  const flags = e.anomalies.length ? `  ! ${e.anomalies.join(', ')}` : '';
  return `${when}  ${e.kind.padEnd(20)} ${e.what}${tee}${e.who ? `  by ${e.who}` : ''}${flags}`;
}

async function list(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandLine(
    argv,
    {
      ...CHAIN_OPTIONS,
      dataset: { type: 'string' },
      json: { type: 'boolean' },
      'expected-run': { type: 'string' },
    },
    help,
  );
  if (positionals.length > 0)
    throw new CustosError('UsageError', `unexpected "${positionals[0]}"\n${help}`);
  const datasetId = datasetIdOption(values.dataset);
  const expected = count(values['expected-run'], 'expected-run', 1);
  const chain = await chainSourceFrom(values, io);
  try {
    const timeline = await auditDataset(chain.source, datasetId, {
      ...(chain.journalPath === undefined ? {} : { journalPath: chain.journalPath }),
      ...(expected === undefined ? {} : { expectedRunSeconds: expected }),
    });
    if (values.json) {
      io.stdout.write(`${JSON.stringify(timeline)}\n`);
      return 0;
    }
    io.stdout.write(
      `Dataset ${timeline.datasetId} on chain ${timeline.chainId} (registry ${timeline.registry}), up to block ${timeline.finalBlock}${timeline.devnet ? ' — development network' : ''}\n`,
    );
    if (!timeline.journalRead)
      io.stdout.write(
        'No key-release journal given (--journal): releases and refusals are not shown.\n',
      );
    io.stdout.write('\n');
    for (const e of timeline.entries) io.stdout.write(`${line(e)}\n`);
    io.stdout.write(
      `\n${timeline.anomalies.length} anomal${timeline.anomalies.length === 1 ? 'y' : 'ies'}\n`,
    );
    for (const a of timeline.anomalies) io.stdout.write(`  ! ${a.kind}: ${a.message}\n`);
    return 0;
  } finally {
    chain.close();
  }
}

export const audit: Command = {
  help,
  async run(argv, io) {
    const [sub, ...rest] = argv;
    if (sub === 'list') return list(rest, io);
    throw new CustosError('UsageError', `unknown audit command "${sub ?? ''}"\n${help}`);
  },
};
