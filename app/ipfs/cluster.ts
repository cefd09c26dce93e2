import { setTimeout as delay } from 'node:timers/promises';
import type { CID } from 'multiformats/cid';
import { z } from 'zod';
import { CustosError } from '../errors/index.ts';
import { apiRoot, carUpload, unreachable } from './http.ts';

/**
 * An IPFS Cluster (a hospital network's pinset replicated across sites), reached over its REST
 * API. Our blocks go in as a CAR (`POST /add?format=car`), so the CID cannot change, with the
 * replication factor the steward chose; the cluster allocates the pin to that many peers, each
 * of which pins it on its own IPFS daemon. A copy counts only once the cluster reports it
 * `pinned` on at least `replicationMin` peers.
 */
export interface ClusterOptions {
  /** The REST API root, e.g. `http://cluster.hospital.example:9094`. */
  readonly apiUrl: string;
  /** REST API basic-auth credentials, when the cluster sets `basic_auth_credentials`. */
  readonly auth?: { readonly user: string; readonly password: string };
  /** Time between status polls. Default 1 s. */
  readonly pollIntervalMs?: number;
  /** Per-request timeout for small calls (not the CAR upload). Default 30 s. */
  readonly requestTimeoutMs?: number;
}

export interface Replication {
  /** Peers that must hold a pinned copy before the publish counts (≥ 1). */
  readonly min: number;
  /** Peers the cluster may allocate the pin to (≥ min). */
  readonly max: number;
}

export interface ClusterPublishOptions {
  readonly replication: Replication;
  /** The pin's name in the cluster (the dataset's, not personal data). */
  readonly name?: string;
  /** Give up (PinTimeout) after this long. Default 10 minutes. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Called on every status seen (for progress display). */
  readonly onStatus?: (status: ClusterPinStatus) => void;
}

/** Where a CID stands in the cluster: one entry per cluster peer. */
export interface ClusterPinStatus {
  readonly cid: string;
  /** Peers the cluster allocated the pin to (empty: pinned everywhere, or not pinned). */
  readonly allocations: readonly string[];
  readonly peers: readonly {
    readonly peerId: string;
    readonly peerName: string;
    /** `pinned`, `pinning`, `pin_queued`, `pin_error`, `remote` (not allocated here), … */
    readonly status: string;
    readonly error: string;
  }[];
}

const PinInfo = z.object({
  cid: z.string(),
  allocations: z.array(z.string()).nullable().optional(),
  peer_map: z
    .record(
      z.string(),
      z.object({
        peername: z.string().optional(),
        status: z.string(),
        error: z.string().optional(),
      }),
    )
    .nullable()
    .optional(),
});

const Added = z.object({ cid: z.string(), allocations: z.array(z.string()).nullable().optional() });

const PeerId = z.object({
  id: z.string(),
  version: z.string(),
  peername: z.string().optional(),
  cluster_peers: z.array(z.string()).nullable().optional(),
  error: z.string().optional(),
  ipfs: z.object({ id: z.string().optional(), error: z.string().optional() }).optional(),
});

/** Statuses after which a peer is still on its way to `pinned`. */
const PENDING = new Set(['pinning', 'pin_queued', 'queued']);

export class IpfsClusterClient {
  readonly apiUrl: string;
  readonly #authorization: string | undefined;
  readonly #pollIntervalMs: number;
  readonly #requestTimeoutMs: number;

  constructor(options: ClusterOptions) {
    this.apiUrl = apiRoot(options.apiUrl, 'the IPFS Cluster API address');
    this.#authorization = options.auth
      ? `Basic ${Buffer.from(`${options.auth.user}:${options.auth.password}`).toString('base64')}`
      : undefined;
    this.#pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  }

  /**
   * One REST call. No answer → StorageUnavailable; 401/403 → StorageUnauthorized; "not enough
   * peers to allocate" → PinFailed (the replication asked for exceeds the cluster); any other
   * error status → StorageUnavailable with the cluster's own message.
   */
  async #request(
    method: string,
    path: string,
    init: { body?: ReadableStream<Uint8Array>; contentType?: string; signal?: AbortSignal } = {},
  ): Promise<unknown> {
    const timeout = init.body ? undefined : AbortSignal.timeout(this.#requestTimeoutMs);
    const signals = [init.signal, timeout].filter((s): s is AbortSignal => s !== undefined);
    let response: Response;
    try {
      response = await fetch(`${this.apiUrl}${path}`, {
        method,
        headers: {
          accept: 'application/json',
          ...(this.#authorization ? { authorization: this.#authorization } : {}),
          ...(init.contentType ? { 'content-type': init.contentType } : {}),
        },
        ...(init.body ? { body: init.body, duplex: 'half' } : {}),
        ...(signals.length > 0 ? { signal: AbortSignal.any(signals) } : {}),
      });
    } catch (error) {
      throw unreachable(error, init.signal, `IPFS Cluster at ${this.apiUrl}`, {
        apiUrl: this.apiUrl,
      });
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text.trim() === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (response.ok) return json;
    const message =
      (json as { message?: unknown } | undefined)?.message?.toString() ??
      (text.trim().slice(0, 300) || `HTTP ${response.status}`);
    const details = { apiUrl: this.apiUrl, status: response.status };
    if (response.status === 401 || response.status === 403)
      throw new CustosError(
        'StorageUnauthorized',
        `IPFS Cluster at ${this.apiUrl} refused the credentials (${message})`,
        { details },
      );
    if (/not enough peers to allocate/i.test(message))
      throw new CustosError('PinFailed', `IPFS Cluster at ${this.apiUrl}: ${message}`, {
        details,
      });
    throw new CustosError(
      'StorageUnavailable',
      `IPFS Cluster ${method} ${path.split('?')[0] ?? path}: ${message}`,
      { details },
    );
  }

  /**
   * The peer we talk to: its id, version, the cluster peers it knows; a cheap health check.
   * @throws StorageUnavailable (also when the answer is not an IPFS Cluster's), StorageUnauthorized
   */
  async id(
    signal?: AbortSignal,
  ): Promise<{ id: string; version: string; peerName: string; peers: number }> {
    const parsed = PeerId.safeParse(await this.#request('GET', '/id', signal ? { signal } : {}));
    if (!parsed.success)
      throw new CustosError('StorageUnavailable', `${this.apiUrl} is not an IPFS Cluster REST API`);
    if (parsed.data.error)
      throw new CustosError(
        'StorageUnavailable',
        `IPFS Cluster peer ${parsed.data.id}: ${parsed.data.error}`,
      );
    return {
      id: parsed.data.id,
      version: parsed.data.version,
      peerName: parsed.data.peername ?? '',
      peers: parsed.data.cluster_peers?.length ?? 1,
    };
  }

  /**
   * Where `cid` stands on every cluster peer.
   * @throws StorageUnavailable, StorageUnauthorized
   */
  async status(cid: CID, signal?: AbortSignal): Promise<ClusterPinStatus> {
    const parsed = PinInfo.safeParse(
      await this.#request('GET', `/pins/${cid.toString()}`, signal ? { signal } : {}),
    );
    if (!parsed.success)
      throw new CustosError('StorageUnavailable', `IPFS Cluster answered an unreadable pin status`);
    return {
      cid: parsed.data.cid,
      allocations: parsed.data.allocations ?? [],
      peers: Object.entries(parsed.data.peer_map ?? {}).map(([peerId, p]) => ({
        peerId,
        peerName: p.peername ?? '',
        status: p.status,
        error: p.error ?? '',
      })),
    };
  }

  /**
   * Sends the DAG as a CAR (streamed: constant memory) with the replication asked for, then waits
   * until at least `replication.min` peers report it pinned.
   * @throws UsageError (replication), BlockMissing / CidMismatch (the local copy), CidMismatch
   *   (the cluster reports another root), PinFailed (cannot allocate, or peers fail to pin),
   *   PinTimeout, StorageUnauthorized, StorageUnavailable, Cancelled.
   */
  async publish(
    store: { exportCar(cid: CID, options?: { signal?: AbortSignal }): AsyncIterable<Uint8Array> },
    cid: CID,
    options: ClusterPublishOptions,
  ): Promise<ClusterPinStatus> {
    const { min, max } = options.replication;
    if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max < min)
      throw new CustosError(
        'UsageError',
        `replication must be whole numbers with 1 ≤ min ≤ max (got ${min}–${max})`,
      );
    const query = new URLSearchParams({
      format: 'car',
      'replication-min': String(min),
      'replication-max': String(max),
      'stream-channels': 'false',
      ...(options.name ? { name: options.name } : {}),
    });
    const upload = carUpload(
      store.exportCar(cid, options.signal ? { signal: options.signal } : {}),
    );
    let answer: unknown;
    try {
      answer = await this.#request('POST', `/add?${query.toString()}`, {
        body: upload.body,
        contentType: upload.contentType,
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      throw upload.sourceError() ?? error;
    }
    const sourceError = upload.sourceError();
    if (sourceError) throw sourceError;
    const added = z.array(Added).safeParse(answer);
    const root = added.success ? added.data.at(-1)?.cid : undefined;
    if (root !== cid.toString())
      throw new CustosError(
        'CidMismatch',
        `IPFS Cluster added ${root ?? 'nothing'}, expected ${cid.toString()}`,
      );
    return this.waitPinned(cid, options);
  }

  /**
   * Polls until at least `replication.min` peers report `cid` pinned.
   * @throws PinFailed (peers failed so that the minimum can no longer be reached, naming their
   *   errors), PinTimeout, Cancelled, StorageUnauthorized, StorageUnavailable.
   */
  async waitPinned(
    cid: CID,
    options: Pick<ClusterPublishOptions, 'replication' | 'timeoutMs' | 'signal' | 'onStatus'>,
  ): Promise<ClusterPinStatus> {
    const deadline = Date.now() + (options.timeoutMs ?? 600_000);
    const need = options.replication.min;
    for (;;) {
      const status = await this.status(cid, options.signal);
      options.onStatus?.(status);
      const pinned = status.peers.filter((p) => p.status === 'pinned');
      if (pinned.length >= need) return status;
      const pending = status.peers.filter((p) => PENDING.has(p.status));
      const failed = status.peers.filter((p) => p.status.endsWith('error'));
      if (failed.length > 0 && pinned.length + pending.length < need)
        throw new CustosError(
          'PinFailed',
          `IPFS Cluster could not pin ${cid.toString()} on ${need} peers: ${failed
            .map((p) => `${p.peerName || p.peerId}: ${p.error || p.status}`)
            .join('; ')}`.slice(0, 1000),
          { details: { cid: cid.toString(), pinned: pinned.length } },
        );
      if (Date.now() + this.#pollIntervalMs > deadline)
        throw new CustosError(
          'PinTimeout',
          `IPFS Cluster had ${cid.toString()} pinned on ${pinned.length} of ${need} peers when the wait ran out`,
          { details: { cid: cid.toString(), pinned: pinned.length } },
        );
      try {
        await delay(
          this.#pollIntervalMs,
          undefined,
          options.signal ? { signal: options.signal } : {},
        );
      } catch (error) {
        throw new CustosError('Cancelled', 'cancelled', { cause: error });
      }
    }
  }

  /**
   * Removes the cluster pin (every peer unpins).
   * @throws StorageUnavailable, StorageUnauthorized
   */
  async unpin(cid: CID, signal?: AbortSignal): Promise<void> {
    await this.#request('DELETE', `/pins/${cid.toString()}`, signal ? { signal } : {});
  }
}
