/**
 * What a network session does with the vault's remote IPFS backends (the saved storage settings,
 * passed in at each call): copy a published dataset to them (app/ipfs `replicate`) and check each
 * one live for Settings. Shared by the devnet and the network-file profiles.
 */
import { CID } from 'multiformats/cid';
import type { StorageBackendHealth } from '../app/api/index.ts';
import {
  IpfsClusterClient,
  KuboRpcBackend,
  PinningServiceClient,
  replicate,
  type HeliaDatasetStore,
} from '../app/ipfs/index.ts';
import type { NetworkSession, StorageConfig } from '../app/service/network.ts';
import { EMBEDDED_NODE_NAME, copiesOf } from '../app/service/storage-settings.ts';

const HEALTH_TIMEOUT_MS = 3000;

/** `replicate` and `storageHealth` of a session around `store`; kubo push journals in `journalDir`. */
export function remoteStorage(
  store: HeliaDatasetStore,
  journalDir: string,
): Required<Pick<NetworkSession, 'replicate' | 'storageHealth'>> {
  return {
    replicate: (cid, storage) =>
      replicate(store, cid, storage.settings, { tokenFor: storage.tokenFor, journalDir }),
    storageHealth: (storage) => storageHealth(store, storage),
  };
}

/**
 * Each IPFS backend, asked now: the embedded node, every kubo node, every pinning service, every
 * IPFS Cluster.
 */
async function storageHealth(
  store: HeliaDatasetStore,
  { settings, tokenFor }: StorageConfig,
): Promise<StorageBackendHealth[]> {
  const addresses = store.multiaddrs();
  const embedded: StorageBackendHealth = {
    name: EMBEDDED_NODE_NAME,
    kind: 'embedded',
    address: addresses.join(' ').slice(0, 2000) || null,
    health: 'ok',
    detail: `peer ${store.peerId()}`.slice(0, 500),
  };
  const asked = async (
    kind: StorageBackendHealth['kind'],
    name: string,
    address: string,
    ask: () => Promise<string | null>,
  ): Promise<StorageBackendHealth> => {
    try {
      return { name, kind, address, health: 'ok', detail: await ask() };
    } catch (error) {
      const problem = error instanceof Error ? error.message : String(error);
      return { name, kind, address, health: 'unreachable', detail: problem.slice(0, 500) };
    }
  };
  const kubo = settings.kubo.map((k) =>
    asked('kubo', k.name, k.apiUrl, async () => {
      const version = await new KuboRpcBackend({ apiUrl: k.apiUrl }).version(
        AbortSignal.timeout(HEALTH_TIMEOUT_MS),
      );
      return `kubo ${version}`;
    }),
  );
  const services = settings.pinningServices.map((p) =>
    asked('pinning-service', p.name, p.endpoint, async () => {
      const client = new PinningServiceClient({
        endpoint: p.endpoint,
        token: await tokenFor(p.tokenRef),
        requestTimeoutMs: HEALTH_TIMEOUT_MS,
      });
      // Any answer from the API (even "no such pin") shows it is up and accepts the token.
      await client.findPins(CID.parse('bafkqaaa'));
      return null;
    }),
  );
  const clusters = settings.clusters.map(async (c) => ({
    ...(await asked('ipfs-cluster', c.name, c.apiUrl, async () => {
      const client = new IpfsClusterClient({
        apiUrl: c.apiUrl,
        requestTimeoutMs: HEALTH_TIMEOUT_MS,
        ...(c.user !== undefined && c.tokenRef !== undefined
          ? { auth: { user: c.user, password: await tokenFor(c.tokenRef) } }
          : {}),
      });
      const { version, peers } = await client.id(AbortSignal.timeout(HEALTH_TIMEOUT_MS));
      const said = `IPFS Cluster ${version}, ${peers} peer${peers === 1 ? '' : 's'}`;
      // The cluster refuses a pin it cannot place on the least number of copies asked for; the
      // copies themselves are shown beside the kind.
      return peers < c.replicationMin
        ? `${said}: fewer peers than the ${c.replicationMin} copies asked for, so a publish refuses until it has more`
        : said;
    })),
    copies: copiesOf(c),
  }));
  return [embedded, ...(await Promise.all([...kubo, ...services, ...clusters]))];
}
