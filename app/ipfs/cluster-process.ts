// Running real IPFS Cluster peers (ipfs-cluster-service, built by .ci/setup.d/ipfs-cluster.sh) on
// loopback, each in front of its own kubo daemon: for tests and the bench, like kubo-process.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { CustosError } from '../errors/index.ts';
import { freePort, stopProcess, type KuboDaemon } from './kubo-process.ts';

/** The IPFS Cluster release `.ci/setup.d/ipfs-cluster.sh` builds. */
export const CLUSTER_VERSION = '1.1.5';

/**
 * Where ipfs-cluster-service is: `CUSTOS_CLUSTER_BIN`, else `$HOME/go/bin/ipfs-cluster-service`.
 * @throws CustosError StorageUnavailable naming the path and how to build it, when missing.
 */
export function clusterBinary(
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  const path =
    env['CUSTOS_CLUSTER_BIN'] ??
    join(env['HOME'] ?? homedir(), 'go', 'bin', 'ipfs-cluster-service');
  if (!existsSync(path))
    throw new CustosError(
      'StorageUnavailable',
      `ipfs-cluster-service not found at ${path}: run .ci/setup.d/ipfs-cluster.sh (builds IPFS Cluster ${CLUSTER_VERSION} with Go) or set CUSTOS_CLUSTER_BIN`,
      { details: { path } },
    );
  return path;
}

type Section = Record<string, unknown>;

/** A section of service.json (e.g. `api.restapi`). */
function sectionOf(config: Section, path: readonly string[]): Section {
  let here: unknown = config;
  for (const key of path) here = (here as Section | undefined)?.[key];
  if (typeof here !== 'object' || here === null)
    throw new CustosError('StorageUnavailable', `service.json has no ${path.join('.')} section`);
  return here as Section;
}

const multiaddrOf = (url: string): string => {
  const { hostname, port } = new URL(url);
  return `/ip4/${hostname}/tcp/${port}`;
};

export interface ClusterPeerOptions {
  /** The cluster's shared secret (64 hex characters); the same for every peer of one cluster. */
  readonly secret: string;
  /** Another peer's cluster multiaddr to join through (none for the first peer). */
  readonly bootstrap?: string;
  /** REST API basic-auth user and password (none: the API is open, as by default). */
  readonly basicAuth?: { readonly user: string; readonly password: string };
}

/** One ipfs-cluster-service peer on loopback (crdt consensus, no mDNS), with its kubo. */
export class ClusterPeer {
  /** `http://127.0.0.1:PORT`, the REST API. */
  readonly apiUrl: string;
  readonly peerId: string;
  /** The peer's cluster multiaddr, ending in `/p2p/<peer id>` (for another peer's `bootstrap`). */
  readonly address: string;
  readonly kubo: KuboDaemon;
  readonly #dir: string;
  readonly #child: ChildProcess;
  readonly #headers: Record<string, string>;

  private constructor(
    apiUrl: string,
    peerId: string,
    address: string,
    kubo: KuboDaemon,
    dir: string,
    child: ChildProcess,
    headers: Record<string, string>,
  ) {
    this.apiUrl = apiUrl;
    this.peerId = peerId;
    this.address = address;
    this.kubo = kubo;
    this.#dir = dir;
    this.#child = child;
    this.#headers = headers;
  }

  /**
   * Waits until this peer has every metric (free space, tags, pin queue, ping) from `count` peers:
   * only then can it allocate a pin to that many.
   * @throws StorageUnavailable after `timeoutMs`.
   */
  async waitForPeers(count: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const get = async (path: string): Promise<unknown> =>
      (await fetch(`${this.apiUrl}${path}`, { headers: this.#headers })).json();
    for (;;) {
      const names = (await get('/monitor/metrics')) as string[];
      const counts = await Promise.all(
        names.map(async (name) => ((await get(`/monitor/metrics/${name}`)) as unknown[]).length),
      );
      if (names.length > 0 && Math.min(...counts) >= count) return;
      if (Date.now() > deadline)
        throw new CustosError(
          'StorageUnavailable',
          `IPFS Cluster peer ${this.peerId} saw metrics from ${Math.min(...counts)} of ${count} peers`,
        );
      await delay(200);
    }
  }

  /** A new cluster secret. */
  static secret(): string {
    return randomBytes(32).toString('hex');
  }

  /**
   * Initialises a peer in a temporary folder, pointed at `kubo`, and starts it; resolves once it
   * reports "IPFS Cluster is READY".
   */
  static async start(
    kubo: KuboDaemon,
    options: ClusterPeerOptions,
    binary: string = clusterBinary(),
  ): Promise<ClusterPeer> {
    const dir = await mkdtemp(join(tmpdir(), 'custos-cluster-'));
    const env = { ...process.env, CLUSTER_SECRET: options.secret, GOLOG_LOG_LEVEL: 'error' };
    await new Promise<void>((resolve, reject) => {
      const init = spawn(
        binary,
        ['-c', dir, 'init', '--consensus', 'crdt', '--datastore', 'leveldb'],
        {
          env,
          stdio: 'ignore',
        },
      );
      init.once('error', reject);
      init.once('exit', (code) =>
        code === 0
          ? resolve()
          : reject(
              new CustosError('StorageUnavailable', `ipfs-cluster-service init exited ${code}`),
            ),
      );
    });
    const [apiPort, proxyPort, pinsvcPort, swarmPort] = await Promise.all(
      [0, 1, 2, 3].map(() => freePort()),
    );
    const file = join(dir, 'service.json');
    const config = JSON.parse(await readFile(file, 'utf8')) as Section;
    const at = (...path: string[]): Section => sectionOf(config, path);
    const kuboAddress = multiaddrOf(kubo.apiUrl);
    Object.assign(at('cluster'), {
      listen_multiaddress: [`/ip4/127.0.0.1/tcp/${swarmPort}`],
      enable_relay_hop: false,
      mdns_interval: '0s',
      monitor_ping_interval: '1s',
      peer_watch_interval: '1s',
    });
    Object.assign(at('api', 'restapi'), {
      http_listen_multiaddress: `/ip4/127.0.0.1/tcp/${apiPort}`,
      basic_auth_credentials: options.basicAuth
        ? { [options.basicAuth.user]: options.basicAuth.password }
        : null,
    });
    Object.assign(at('api', 'ipfsproxy'), {
      listen_multiaddress: `/ip4/127.0.0.1/tcp/${proxyPort}`,
      node_multiaddress: kuboAddress,
    });
    at('api', 'pinsvcapi')['http_listen_multiaddress'] = `/ip4/127.0.0.1/tcp/${pinsvcPort}`;
    Object.assign(at('ipfs_connector', 'ipfshttp'), {
      node_multiaddress: kuboAddress,
      connect_swarms_delay: '0s',
    });
    // every metric (free space, tags, pin queue) renewed within a second or two, so allocations
    // see a peer that just joined (the defaults take up to 30 s)
    for (const name of Object.keys(at('informer'))) at('informer', name)['metric_ttl'] = '2s';
    await writeFile(file, JSON.stringify(config, null, 2));
    const identity = JSON.parse(await readFile(join(dir, 'identity.json'), 'utf8')) as {
      id: string;
    };
    const args = [
      '-c',
      dir,
      'daemon',
      ...(options.bootstrap ? ['--bootstrap', options.bootstrap] : []),
    ];
    const child = spawn(binary, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (b: Buffer): void => {
        log += b.toString();
        if (log.includes('IPFS Cluster is READY')) resolve();
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('error', reject);
      child.once('exit', (code) =>
        reject(
          new CustosError(
            'StorageUnavailable',
            `ipfs-cluster-service exited (${code}): ${log.trim().slice(-2000)}`,
          ),
        ),
      );
    });
    child.stdout.resume();
    child.stderr.resume();
    return new ClusterPeer(
      `http://127.0.0.1:${apiPort}`,
      identity.id,
      `/ip4/127.0.0.1/tcp/${swarmPort}/p2p/${identity.id}`,
      kubo,
      dir,
      child,
      options.basicAuth
        ? {
            authorization: `Basic ${Buffer.from(`${options.basicAuth.user}:${options.basicAuth.password}`).toString('base64')}`,
          }
        : {},
    );
  }

  /** Stops the peer (SIGTERM, then SIGKILL) and deletes its folder. Its kubo keeps running. */
  async stop(): Promise<void> {
    await stopProcess(this.#child);
    await rm(this.#dir, { recursive: true, force: true });
  }
}
