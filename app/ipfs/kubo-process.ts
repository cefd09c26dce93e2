import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustosError } from '../errors/index.ts';

/** The kubo release `.ci/setup.d/kubo.sh` builds; tests compare our CIDs with it. */
export const KUBO_VERSION = '0.39.0';

/**
 * Where the kubo binary is: `CUSTOS_KUBO_BIN`, else `$HOME/go/bin/ipfs` (where `.ci/setup.d/kubo.sh`
 * puts it).
 * @throws CustosError StorageUnavailable naming the path and how to install it, when missing.
 */
export function kuboBinary(
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  const path = env['CUSTOS_KUBO_BIN'] ?? join(env['HOME'] ?? homedir(), 'go', 'bin', 'ipfs');
  if (!existsSync(path)) {
    throw new CustosError(
      'StorageUnavailable',
      `kubo not found at ${path}: run .ci/setup.d/kubo.sh (builds kubo ${KUBO_VERSION} with Go) or set CUSTOS_KUBO_BIN`,
      { details: { path } },
    );
  }
  return path;
}

/** Environment for every kubo process we start: no telemetry, repo in `repo`. */
function kuboEnv(repo: string): NodeJS.ProcessEnv {
  return { ...process.env, IPFS_PATH: repo, IPFS_TELEMETRY: 'off', GOLOG_LOG_LEVEL: 'error' };
}

/** Runs one kubo CLI command and returns its stdout. Throws StorageUnavailable with kubo's stderr. */
export function runKubo(
  binary: string,
  repo: string,
  args: readonly string[],
  input?: Uint8Array,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, [...args], {
      env: kuboEnv(repo),
      stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else
        reject(
          new CustosError(
            'StorageUnavailable',
            `ipfs ${args.join(' ')} failed (${code}): ${Buffer.concat(err).toString().trim()}`,
          ),
        );
    });
    if (input && child.stdin) child.stdin.end(input);
  });
}

/**
 * A fresh, isolated kubo repository: `ipfs init --profile test` (API, gateway and swarm on
 * 127.0.0.1 with OS-chosen ports, no bootstrap, no mDNS, no autoconf) plus no routing at all (no
 * DHT, no delegated routers) and no telemetry. Nothing leaves the machine.
 */
export async function initKuboRepo(binary: string): Promise<string> {
  const repo = await mkdtemp(join(tmpdir(), 'custos-kubo-'));
  await runKubo(binary, repo, ['init', '--profile', 'test', '--empty-repo']);
  await runKubo(binary, repo, ['config', 'Routing.Type', 'none']);
  await runKubo(binary, repo, [
    'config',
    '--json',
    'Plugins.Plugins.telemetry.Config.Mode',
    '"off"',
  ]);
  return repo;
}

/** A TCP port free on 127.0.0.1 right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** Stops a daemon we started: SIGTERM, then SIGKILL after 5 s; resolves once it has exited. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** A running kubo daemon on loopback, with its own temporary repository. */
export class KuboDaemon {
  readonly binary: string;
  readonly repo: string;
  /** `http://127.0.0.1:PORT` — the RPC API. */
  readonly apiUrl: string;
  readonly peerId: string;
  /** Swarm multiaddrs ending in `/p2p/<peerId>`. */
  readonly swarm: readonly string[];
  readonly #child: ChildProcess;

  private constructor(
    binary: string,
    repo: string,
    apiUrl: string,
    peerId: string,
    swarm: string[],
    child: ChildProcess,
  ) {
    this.binary = binary;
    this.repo = repo;
    this.apiUrl = apiUrl;
    this.peerId = peerId;
    this.swarm = swarm;
    this.#child = child;
  }

  /**
   * Initialises a repository and starts `ipfs daemon` on it; resolves once kubo prints
   * "Daemon is ready".
   */
  static async start(binary: string = kuboBinary(), existingRepo?: string): Promise<KuboDaemon> {
    const repo = existingRepo ?? (await initKuboRepo(binary));
    const child = spawn(binary, ['daemon'], {
      env: kuboEnv(repo),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (b: Buffer): void => {
        log += b.toString();
        if (log.includes('Daemon is ready')) {
          child.stdout.off('data', onData);
          resolve();
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', (b: Buffer) => (log += b.toString()));
      child.once('error', reject);
      child.once('exit', (code) =>
        reject(
          new CustosError('StorageUnavailable', `kubo daemon exited (${code}): ${log.trim()}`),
        ),
      );
    });
    child.stdout.resume();
    const api = (await readFile(join(repo, 'api'), 'utf8')).trim(); // /ip4/127.0.0.1/tcp/PORT
    const port = /\/tcp\/(\d+)/.exec(api)?.[1];
    if (!port)
      throw new CustosError('StorageUnavailable', `cannot read kubo's API address: ${api}`);
    const apiUrl = `http://127.0.0.1:${port}`;
    const id = (await (await fetch(`${apiUrl}/api/v0/id`, { method: 'POST' })).json()) as {
      ID: string;
      Addresses: string[] | null;
    };
    const swarm = (id.Addresses ?? []).filter((a) => a.startsWith('/ip4/127.0.0.1/tcp/'));
    return new KuboDaemon(binary, repo, apiUrl, id.ID, swarm, child);
  }

  /** Runs `ipfs ARGS…` against this daemon (through its API). */
  cli(args: readonly string[], input?: Uint8Array): Promise<Buffer> {
    return runKubo(this.binary, this.repo, args, input);
  }

  /** Stops the daemon (SIGTERM, then SIGKILL) and deletes its repository unless `keepRepo`. */
  async stop(options: { keepRepo?: boolean } = {}): Promise<void> {
    await stopProcess(this.#child);
    if (!options.keepRepo) await rm(this.repo, { recursive: true, force: true });
  }
}

/**
 * `ipfs add -Q --only-hash --cid-version=N FILE` with kubo, in an offline throwaway repository.
 * `extra` passes further `ipfs add` flags (e.g. `--chunker=size-1024`).
 */
export async function kuboOnlyHash(
  binary: string,
  repo: string,
  file: string,
  cidVersion: 0 | 1,
  extra: readonly string[] = [],
): Promise<string> {
  const out = await runKubo(binary, repo, [
    'add',
    '-Q',
    '--only-hash',
    `--cid-version=${cidVersion}`,
    ...extra,
    file,
  ]);
  return out.toString().trim();
}
