/**
 * `npm start`: runs Custos. With an Electron runtime installed, that is the desktop shell; on a
 * machine without one (CI, servers, these build machines) it starts the loopback web host on
 * embedded defaults and prints the URL (with its capability token) to open in a browser.
 *
 * Environment: CUSTOS_WEB=1 (use the web host even where Electron exists), CUSTOS_VAULT_DIR
 * (default: the user's data folder), CUSTOS_PORT (default: any free port), CUSTOS_KDF
 * (`interactive` | `moderate` | `sensitive`, for new vaults), CUSTOS_SIGNER (`emulated-ledger`, the
 * default, or `dev-key`), CUSTOS_NETWORK: `devnet` (the default), `none` (no network), or the path of a
 * network file (`custos-network/1`: a real chain, the owner's Ledger over USB, a relayer key —
 * docs/networks.md). The Electron shell keeps its vault in Electron's user-data folder.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { explain, isCustosError } from '../app/errors/index.ts';
import { CustosService } from '../app/service/index.ts';
import { devnetBackend, devnetDir } from './devnet.ts';
import { installedElectron } from './electron-runtime.ts';
import { readNetworkFile, rpcNetworkBackend } from './rpc-network.ts';
import { startWebHost } from './web/host.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function defaultVaultDir(): string {
  const base =
    process.platform === 'win32'
      ? (process.env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'))
      : process.platform === 'darwin'
        ? join(homedir(), 'Library', 'Application Support')
        : (process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'));
  return join(base, 'Custos', 'vault');
}

const KDFS = ['interactive', 'moderate', 'sensitive'] as const;

function startElectron(binary: string): void {
  execFileSync(join(ROOT, 'node_modules', '.bin', 'electron-vite'), ['build'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  const child = spawn(binary, [join(ROOT, 'out', 'main', 'main.js')], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
}

async function main(): Promise<void> {
  const binary = process.env.CUSTOS_WEB === '1' ? null : installedElectron(ROOT);
  if (binary) {
    startElectron(binary);
    return;
  }
  const rendererDir = join(ROOT, 'out', 'renderer');
  if (!existsSync(join(rendererDir, 'index.html'))) {
    process.stderr.write('custos: the UI is not built yet — run `npm run build:renderer`.\n');
    process.exit(1);
  }
  const kdf = KDFS.find((k) => k === process.env.CUSTOS_KDF);
  const vaultDir = resolve(process.env.CUSTOS_VAULT_DIR ?? defaultVaultDir());
  // devnet: chain + IPFS + key release start around the unlocked vault (CUSTOS_SIGNER=dev-key signs
  // with the devnet key instead of the emulated Ledger). A network file: that chain, a real Ledger.
  const choice = process.env.CUSTOS_NETWORK ?? 'devnet';
  const network =
    choice === 'none'
      ? undefined
      : choice === 'devnet'
        ? devnetBackend({
            dir: devnetDir(vaultDir),
            signer: process.env.CUSTOS_SIGNER === 'dev-key' ? 'dev-key' : 'emulated-ledger',
          })
        : rpcNetworkBackend({
            file: await readNetworkFile(resolve(choice)),
            dir: join(vaultDir, '..', 'network'),
          });
  const service = new CustosService({
    vaultDir,
    ...(kdf ? { kdf } : {}),
    ...(network ? { network } : {}),
  });
  const port = Number(process.env.CUSTOS_PORT ?? 0);
  const host = await startWebHost({
    handlers: service.handlers,
    events: service,
    rendererDir,
    port: Number.isInteger(port) ? port : 0,
  });
  process.stdout.write(
    [
      'Custos is running (no Electron runtime here: loopback web host).',
      `Vault folder: ${vaultDir}`,
      '',
      `Open: ${host.url}`,
      '',
      'The link carries this session’s access token: do not share it. Press Ctrl+C to stop.',
      '',
    ].join('\n'),
  );
  const stop = (): void => {
    void host
      .close()
      .then(() => service.close())
      .then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

try {
  await main();
} catch (error) {
  // A bad network file, a vault folder that cannot be used: one line, not a stack trace.
  if (!isCustosError(error)) throw error;
  process.stderr.write(`custos: ${error.tag}: ${error.message}\n${explain(error.tag)}\n`);
  process.exit(1);
}
