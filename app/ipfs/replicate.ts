import type { CID } from 'multiformats/cid';
import { CustosError, isCustosError, type SerializedError } from '../errors/index.ts';
import { IpfsClusterClient, type ClusterPinStatus } from './cluster.ts';
import { KuboRpcBackend } from './kubo-rpc.ts';
import type { HeliaDatasetStore } from './node.ts';
import { PinningServiceClient } from './pinning-service.ts';
import { publishToKubo } from './publish.ts';
import type { StorageSettings } from './settings.ts';

export interface ReplicaResult {
  readonly name: string;
  readonly kind: 'kubo' | 'pinning-service' | 'ipfs-cluster';
  /** True only when the backend confirmed the pin (kubo `pin/ls`, service status `pinned`). */
  readonly pinned: boolean;
  readonly error?: SerializedError;
}

export interface ReplicateOptions {
  /** Resolves a pinning service's or cluster's `tokenRef` (the keychain lives outside app/ipfs). */
  readonly tokenFor: (tokenRef: string) => Promise<string>;
  /** Journals of resumable kubo pushes (e.g. `<vault>/ipfs/publish`). */
  readonly journalDir: string;
  readonly signal?: AbortSignal;
  /** One line per step, for a progress display or log. */
  readonly onEvent?: (event: { name: string; message: string }) => void;
}

function asSerialized(error: unknown): SerializedError {
  if (isCustosError(error)) return error.toJSON();
  return new CustosError(
    'Internal',
    error instanceof Error ? error.message : String(error),
  ).toJSON();
}

/** Cancelled, or our own copy is bad (no backend can be given it): not one backend's failure. */
const stopsEverything = (error: unknown): boolean =>
  isCustosError(error, 'Cancelled') ||
  isCustosError(error, 'BlockMissing') ||
  isCustosError(error, 'CidMismatch');

/**
 * Publishes a dataset everywhere the settings say: first a local pin (after a full verify), then
 * each kubo node (resumable CAR push, pinned and confirmed) and each pinning service (our node's
 * addresses as origins, waiting up to `pinTimeoutSeconds`) and each IPFS Cluster (a CAR, then
 * waiting, as long, for `replicationMin` peers to report it pinned). Backends are tried one after the
 * other and their failures are collected, not thrown: one service down does not hide the others.
 * @throws BlockMissing / CidMismatch when the local copy is incomplete or corrupt (then no backend
 *   is contacted), Cancelled.
 */
export async function replicate(
  node: HeliaDatasetStore,
  cid: CID,
  settings: StorageSettings,
  options: ReplicateOptions,
): Promise<ReplicaResult[]> {
  const signal = options.signal;
  await node.pin(cid, signal ? { signal } : {});
  const results: ReplicaResult[] = [];
  /** One backend: its failure is collected, unless it stops everything. */
  const attempt = async (
    name: string,
    kind: ReplicaResult['kind'],
    copy: () => Promise<void>,
  ): Promise<void> => {
    signal?.throwIfAborted();
    try {
      await copy();
      results.push({ name, kind, pinned: true });
    } catch (error) {
      if (stopsEverything(error)) throw error;
      results.push({ name, kind, pinned: false, error: asSerialized(error) });
    }
  };
  for (const backend of settings.kubo)
    await attempt(backend.name, 'kubo', async () => {
      const kubo = new KuboRpcBackend({ apiUrl: backend.apiUrl });
      const r = await publishToKubo(node.local, kubo, cid, {
        journalDir: options.journalDir,
        ...(signal ? { signal } : {}),
        onBatch: (p) =>
          options.onEvent?.({ name: backend.name, message: `sent ${p.bytesSent} bytes` }),
      });
      options.onEvent?.({ name: backend.name, message: `pinned (${r.blocksSent} blocks sent)` });
    });
  for (const service of settings.pinningServices)
    await attempt(service.name, 'pinning-service', async () => {
      const client = new PinningServiceClient({
        endpoint: service.endpoint,
        token: await options.tokenFor(service.tokenRef),
      });
      await client.pin(cid, {
        origins: node.multiaddrs(),
        timeoutMs: settings.pinTimeoutSeconds * 1000,
        ...(signal ? { signal } : {}),
        onStatus: (s) => options.onEvent?.({ name: service.name, message: s.status }),
      });
    });
  for (const cluster of settings.clusters)
    await attempt(cluster.name, 'ipfs-cluster', async () => {
      const client = new IpfsClusterClient({
        apiUrl: cluster.apiUrl,
        ...(cluster.user !== undefined && cluster.tokenRef !== undefined
          ? { auth: { user: cluster.user, password: await options.tokenFor(cluster.tokenRef) } }
          : {}),
      });
      const pinnedOn = (s: ClusterPinStatus): number =>
        s.peers.filter((p) => p.status === 'pinned').length;
      const status = await client.publish(node, cid, {
        replication: { min: cluster.replicationMin, max: cluster.replicationMax },
        timeoutMs: settings.pinTimeoutSeconds * 1000,
        ...(signal ? { signal } : {}),
        onStatus: (s) =>
          options.onEvent?.({
            name: cluster.name,
            message: `pinned on ${pinnedOn(s)} of ${cluster.replicationMin} peers`,
          }),
      });
      options.onEvent?.({ name: cluster.name, message: `pinned on ${pinnedOn(status)} peers` });
    });
  return results;
}
