import { Wallet } from 'ethers';
import { CustosError } from '../../errors/index.ts';
import { DEVNET_KEYS, startDevnet } from '../../chain/index.ts';
import { parseCommandLine, type Command, type Io } from '../command.ts';

const help = `usage: custos chain devnet [--chain-id N] [--block-time SECONDS]

  devnet   Starts the embedded development chain (anvil on a free 127.0.0.1 port), deploys the
           Custos registry, prints one JSON line — rpcUrl, chainId, contracts, startBlock and the
           development accounts — and runs until interrupted (Ctrl-C). The chain is discarded
           when it stops. The development keys are public: use them on devnet only.
`;

function positiveInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new CustosError('UsageError', `--${name} must be a positive integer`);
  }
  return Number(value);
}

async function devnet(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandLine(
    argv,
    { 'chain-id': { type: 'string' }, 'block-time': { type: 'string' } },
    help,
  );
  if (positionals.length > 0)
    throw new CustosError('UsageError', `unexpected "${positionals[0]}"\n${help}`);
  const chainId = positiveInt(values['chain-id'], 'chain-id');
  const blockTime = positiveInt(values['block-time'], 'block-time');
  const chain = await startDevnet({
    ...(chainId === undefined ? {} : { chainId }),
    ...(blockTime === undefined ? {} : { blockTime }),
  });
  try {
    const accounts = Object.fromEntries(
      Object.entries(DEVNET_KEYS).map(([role, key]) => [
        role,
        { address: new Wallet(key).address, privateKey: key },
      ]),
    );
    io.stdout.write(
      `${JSON.stringify({
        rpcUrl: chain.rpcUrl,
        chainId: chain.chainId,
        contracts: { registry: chain.registry },
        startBlock: chain.startBlock,
        accounts,
      })}\n`,
    );
    await new Promise<void>((resolve) => {
      if (io.signal.aborted) return resolve();
      io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    await chain.stop();
  }
  return 0;
}

export const chain: Command = {
  help,
  async run(argv, io) {
    const [sub, ...rest] = argv;
    if (sub === 'devnet') return devnet(rest, io);
    throw new CustosError('UsageError', `unknown chain command "${sub ?? ''}"\n${help}`);
  },
};
