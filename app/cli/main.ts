import { CustosError, isCustosError } from '../errors/index.ts';
import type { Command, Io } from './command.ts';
import { processIo } from './io.ts';

/**
 * Every `custos` sub-command, loaded on demand so that `custos decrypt` does not pay for libp2p or
 * ethers. Each area adds its own line here and its own file under commands/.
 */
const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  init: { summary: 'create a vault', load: async () => (await import('./commands/init.ts')).init },
  encrypt: {
    summary: 'encrypt a file into a container',
    load: async () => (await import('./commands/encrypt.ts')).encrypt,
  },
  decrypt: {
    summary: 'decrypt a container',
    load: async () => (await import('./commands/decrypt.ts')).decrypt,
  },
  passphrase: {
    summary: 'change the vault passphrase',
    load: async () => (await import('./commands/passphrase.ts')).passphrase,
  },
  recovery: {
    summary: 'export or restore the recovery kit',
    load: async () => (await import('./commands/recovery.ts')).recovery,
  },
  cid: {
    summary: 'print the IPFS CID of a file (as kubo)',
    load: async () => (await import('./commands/cid.ts')).cid,
  },
  ipfs: {
    summary: 'the vault’s IPFS node: add, cat, verify, pin, push to kubo, pinning services',
    load: async () => (await import('./commands/ipfs.ts')).ipfs,
  },
  demo: {
    summary: 'run the whole story on embedded defaults',
    load: async () => (await import('./commands/demo.ts')).demo,
  },
  chain: {
    summary: 'the chain: `chain devnet` starts the embedded development chain',
    load: async () => (await import('./commands/chain.ts')).chain,
  },
  attest: {
    summary: 'verify an Intel SGX/TDX quote (or simulated evidence) against its collateral',
    load: async () => (await import('./commands/attest.ts')).attest,
  },
  audit: {
    summary: 'a dataset’s audit trail: chain events, key releases, anomalies',
    load: async () => (await import('./commands/audit.ts')).audit,
  },
  proof: {
    summary: 'export or verify a usage-proof bundle (JSON + PDF report)',
    load: async () => (await import('./commands/proof.ts')).proof,
  },
  dev: {
    summary: 'developer tools (dev apdu: talk to an emulated Ledger)',
    load: async () => (await import('./commands/dev.ts')).dev,
  },
  devnet: {
    summary: 'run a whole devnet: chain, IPFS, key release (simulated enclaves)',
    load: async () => (await import('./commands/devnet.ts')).devnet,
  },
  enclave: {
    summary: 'run an enclave app in the simulated enclave; print an app measurement',
    load: async () => (await import('./commands/enclave.ts')).enclave,
  },
  'serve-keys': {
    summary: 'run the key-release service headless (for a server)',
    load: async () => (await import('./commands/serve-keys.ts')).serveKeys,
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(
    ([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`,
  );
  return `usage: custos <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun \`custos <command> --help\` for a command's options.\n`;
}

/**
 * Runs the CLI and returns its exit code: 0 success, 1 a typed failure (one line on stderr:
 * `custos: <Tag>: <message>`), 2 a usage error.
 */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    io.stderr.write(`custos: UsageError: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    const command = await entry.load();
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout.write(command.help);
      return 0;
    }
    return await command.run(rest, io);
  } catch (error) {
    const e = isCustosError(error)
      ? error
      : new CustosError('Internal', error instanceof Error ? error.message : String(error), {
          cause: error,
        });
    io.stderr.write(`custos: ${e.tag}: ${e.message}\n`);
    if (e.tag === 'Internal' && io.env['CUSTOS_DEBUG'] && error instanceof Error)
      io.stderr.write(`${error.stack}\n`);
    return e.tag === 'UsageError' ? 2 : 1;
  }
}
