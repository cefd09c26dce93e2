import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ContractFactory, NonceManager, Wallet, type JsonRpcProvider } from 'ethers';
import { CustosError } from '../errors/index.ts';
import { custosRegistryAbi, custosRegistryBytecode } from './abi.generated.ts';
import { toChainError } from './errors.ts';
import { providerFor } from './network.ts';

/**
 * anvil's well-known development accounts (mnemonic "test test … junk"). Public keys, funded on
 * every devnet: never use them anywhere else.
 */
export const DEVNET_KEYS = {
  /** Deploys the registry; the default dataset owner on devnet. */
  owner: '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  /** The key-release service's operator key on devnet. */
  operator: '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  /** Relays signed messages and enclave results. */
  relayer: '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
} as const;

export const DEVNET_CHAIN_ID = 31337;

export interface Devnet {
  readonly rpcUrl: string;
  readonly chainId: number;
  /** The registry's address and the block it was deployed in. */
  readonly registry: string;
  readonly startBlock: number;
  readonly provider: JsonRpcProvider;
  /** Stops anvil; the chain's state is gone. */
  stop(): Promise<void>;
}

function anvilBinary(): string {
  const require = createRequire(import.meta.url);
  const platform = `${process.platform === 'win32' ? 'win32' : process.platform}-${process.arch === 'x64' ? 'amd64' : process.arch}`;
  const pkg = require.resolve(`@foundry-rs/anvil-${platform}/package.json`);
  return join(dirname(pkg), 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil');
}

function waitForListening(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      fail(
        new CustosError('RpcUnavailable', 'anvil did not start in time', {
          details: { output: output.slice(-500) },
        }),
      );
    }, timeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const m = /Listening on (\S+:\d+)/.exec(output);
      if (m?.[1]) {
        cleanup();
        resolve(`http://${m[1]}`);
      }
    };
    const onExit = (code: number | null): void => {
      fail(
        new CustosError('RpcUnavailable', `anvil exited (${code}) before listening`, {
          details: { output: output.slice(-500) },
        }),
      );
    };
    const onError = (error: Error): void => {
      fail(
        new CustosError('RpcUnavailable', `anvil could not start: ${error.message}`, {
          cause: error,
        }),
      );
    };
    function cleanup(): void {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
      // keep draining so anvil never blocks on a full pipe
      child.stdout?.resume();
    }
    function fail(error: CustosError): void {
      cleanup();
      child.kill('SIGKILL');
      reject(error);
    }
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

/**
 * anvil must not outlive Custos, even when Custos is killed (SIGKILL, a crash): on POSIX it runs
 * under a shell watchdog that stops it when its stdin closes — which the kernel does when our end
 * of the pipe goes away, however we exit. The watchdog ignores Ctrl-C (the terminal sends it to
 * the whole group) so that Custos's own clean stop still reaches it. Windows: a plain child.
 */
function spawnAnvil(args: readonly string[]): ChildProcess {
  if (process.platform === 'win32') {
    return spawn(anvilBinary(), args, { stdio: ['ignore', 'pipe', 'ignore'] });
  }
  const watchdog =
    // A background job's stdin is /dev/null unless redirected: the reader takes ours as fd 3.
    'trap "" INT; exec 3<&0; "$0" "$@" & pid=$!; (read -r _ <&3; kill "$pid" 2>/dev/null) & wait "$pid"';
  return spawn('/bin/sh', ['-c', watchdog, anvilBinary(), ...args], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
}

/**
 * Starts anvil (from the npm package) on a free 127.0.0.1 port and deploys the registry with the
 * devnet owner key. Takes a few hundred milliseconds.
 * @throws RpcUnavailable when anvil cannot start; TransactionReverted if the deployment fails.
 */
export async function startDevnet(
  options: { chainId?: number; blockTime?: number } = {},
): Promise<Devnet> {
  const chainId = options.chainId ?? DEVNET_CHAIN_ID;
  const args = ['--host', '127.0.0.1', '--port', '0', '--chain-id', String(chainId)];
  if (options.blockTime !== undefined) args.push('--block-time', String(options.blockTime));
  const child = spawnAnvil(args);
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      if (process.platform === 'win32') child.kill('SIGTERM');
      else child.stdin?.end(); // the watchdog stops anvil
    });
  try {
    const rpcUrl = await waitForListening(child, 10_000);
    const provider = providerFor(rpcUrl, chainId);
    const deployer = new NonceManager(new Wallet(DEVNET_KEYS.owner, provider));
    const factory = new ContractFactory(custosRegistryAbi, custosRegistryBytecode, deployer);
    const contract = await factory.deploy();
    const receipt = await contract.deploymentTransaction()?.wait();
    if (!receipt) throw new CustosError('Internal', 'the registry deployment has no receipt');
    return {
      rpcUrl,
      chainId,
      registry: await contract.getAddress(),
      startBlock: receipt.blockNumber,
      provider,
      stop: async () => {
        provider.destroy();
        await stop();
      },
    };
  } catch (error) {
    await stop();
    throw toChainError(error, { step: 'devnet' });
  }
}
