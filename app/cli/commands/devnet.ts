import { resolve, join } from 'node:path';
import { CustosError } from '../../errors/index.ts';
import { Vault } from '../../vault/index.ts';
import { enclaveApp } from '../../../enclave-bridge/apps/index.ts';
import {
  grantAccess,
  publishDataset,
  startDevnetEnvironment,
} from '../../../enclave-bridge/simulator/index.ts';
import { parseCommandLine, required, type Command } from '../command.ts';
import { openVault, passphraseFrom } from '../vault-access.ts';

const help = `usage: custos devnet --vault DIR [--dir DIR] [--publish FILE [--grant APP] [--runs N] [--days N]]

Starts a whole development network on this machine and runs until interrupted: the chain (anvil
with the Custos registry), the vault's IPFS node, and the key-release service (operator key,
journal, SIMULATED enclaves accepted because this is devnet). Writes DIR/devnet.json (default
./custos-devnet) for \`custos enclave run\`. The vault is created if missing (passphrase from
CUSTOS_PASSPHRASE). --publish encrypts FILE into the vault, publishes and registers it;
--grant APP then grants that enclave app N runs (default 3) for N days (default 30).
Everything here uses the public development keys: never real data.
`;

export const devnet: Command = {
  help,
  async run(argv, io) {
    const { values, positionals } = parseCommandLine(
      argv,
      {
        vault: { type: 'string' },
        dir: { type: 'string' },
        publish: { type: 'string' },
        grant: { type: 'string' },
        runs: { type: 'string' },
        days: { type: 'string' },
      },
      help,
    );
    if (positionals.length > 0) throw new CustosError('UsageError', help);
    const vaultDir = resolve(required(values.vault, 'vault'));
    const dir = resolve(values.dir ?? 'custos-devnet');
    const runs = Number(values.runs ?? 3);
    const days = Number(values.days ?? 30);
    if (!Number.isInteger(runs) || runs < 1 || !(days > 0))
      throw new CustosError('UsageError', '--runs and --days are positive numbers');
    if (values.grant && !values.publish)
      throw new CustosError('UsageError', '--grant needs --publish');
    const vault = await openVault(io, vaultDir).catch(async (error: unknown) => {
      if (!(error instanceof CustosError) || error.tag !== 'VaultNotFound') throw error;
      return Vault.create(
        vaultDir,
        await passphraseFrom(io, 'CUSTOS_PASSPHRASE', 'New vault passphrase', true),
      );
    });
    const env = await startDevnetEnvironment(dir, vault);
    try {
      const summary: Record<string, unknown> = {
        devnet: join(dir, 'devnet.json'),
        ...env.descriptor,
      };
      if (values.publish) {
        const published = await publishDataset(env, resolve(values.publish), {
          label: values.publish,
        });
        summary['dataset'] = published;
        if (values.grant) {
          const app = enclaveApp(values.grant);
          const now = Math.floor(Date.now() / 1000);
          summary['grant'] = {
            grantId: await grantAccess(env, published.datasetId, {
              measurements: [await app.measurement()],
              notBefore: now - 60,
              notAfter: now + Math.round(days * 86400),
              maxRuns: runs,
            }),
            app: app.name,
          };
        }
      }
      io.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      io.stderr.write('devnet running — development keys, SIMULATED enclaves; Ctrl-C stops it\n');
      await new Promise<void>((done) => {
        if (io.signal.aborted) return done();
        io.signal.addEventListener('abort', () => done(), { once: true });
      });
    } finally {
      await env.close();
      vault.lock();
    }
    return 0;
  },
};
