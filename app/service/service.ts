/**
 * The privileged implementation of the API (`app/api`) on top of the vault and the container
 * format. One service per app instance; it owns the unlocked vault (or none), the datasets index,
 * the import jobs and the idle auto-lock. Hosts (Electron IPC, the loopback web host) call
 * `handle(service.handlers, …)` and forward `service.onEvent` to the UI.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  checkEvent,
  toApiError,
  type ApiHandlers,
  type AppStatus,
  type Dataset,
  type EventName,
  type EventPayload,
  type ImportJob,
  type DeviceStatus,
  type NetworkStatus,
  type PublishProgress,
  type Grant,
  type GrantRequest,
  type Settings,
} from '../api/index.ts';
import { encryptToFile, iterableSource, sodium, type SodiumBackend } from '../crypto/index.ts';
import { CustosError, fromFsError } from '../errors/index.ts';
import { Vault, vaultExists, type KdfPreset } from '../vault/index.ts';
import { readDatasetsIndex, writeDatasetsIndex } from './datasets-index.ts';
import {
  changedDuringImport,
  checkSource,
  planSource,
  previewSource,
  sourceChunks,
} from './import-file.ts';
import type { RememberStore } from './remember.ts';
import type { NetworkBackend, NetworkSession } from './network.ts';
import { getAddress } from 'ethers';
import { auditDataset, type ChainSource } from '../audit/index.ts';
import {
  grantState,
  readContacts,
  readGrants,
  saveContact,
  writeGrants,
  type StoredGrant,
} from './grants.ts';
import { deviceStatus } from './device-status.ts';
import { waitingSigner } from './device-wait.ts';
import { readPreferences, writePreferences } from './preferences.ts';
import { watchRegistry, type RunOpenedEvent } from './run-watch.ts';
import { auditEntryOf, newestFirst } from './audit-view.ts';
import { AuditTimelineCache, queryAudit } from './audit-query.ts';
import { complianceHandlers } from './compliance.ts';
import {
  StorageSettingsFile,
  replicateOrRefuse,
  storageBackends,
  type SecretStore,
} from './storage-settings.ts';

export const APP_VERSION = '0.1.0';
const PROGRESS_INTERVAL_MS = 100;

export interface ServiceOptions {
  /** The vault folder (created on first run). */
  readonly vaultDir: string;
  /** Argon2id preset for a new vault (default `moderate`). */
  readonly kdf?: KdfPreset;
  /** Minutes of inactivity before the vault locks itself (default 10). */
  readonly autoLockMinutes?: number;
  /** The OS keychain store for "remember on this device", when the host has one. */
  readonly remember?: RememberStore;
  /** The OS keychain for pinning-service tokens, when the host has one (else sealed in the vault). */
  readonly secrets?: SecretStore;
  /** The system file picker, when the host has one (Electron); resolves null when closed. */
  readonly chooseFile?: () => Promise<string | null>;
  /** The network profile (devnet: chain + IPFS + key release around the unlocked vault). */
  readonly network?: NetworkBackend;
  /** How long a signature waits for a locked / unplugged device before failing. Default 2 min. */
  readonly deviceWaitMs?: number;
  /** How often the running network is checked (health, new runs). Default 1 s on devnet, else 5 s. */
  readonly watchIntervalMs?: number;
}

type Listener = <E extends EventName>(event: E, payload: EventPayload<E>) => void;

interface Job {
  view: ImportJob;
  readonly controller: AbortController;
  stageStartedAt: number;
  stageStartBytes: number;
  lastEmit: number;
  done: Promise<void>;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const containerPath = (vaultDir: string, id: string): string =>
  join(vaultDir, 'datasets', `${id}.custos`);

/** The core behind the UI. */
export class CustosService {
  readonly #options: ServiceOptions;
  readonly #listeners = new Set<Listener>();
  readonly #jobs = new Map<string, Job>();
  #vault: Vault | null = null;
  #sodium: SodiumBackend | null = null;
  #idleTimer: NodeJS.Timeout | null = null;
  /** Serialises index writes inside this process. */
  #indexQueue: Promise<unknown> = Promise.resolve();
  /** Stopped by `stopDeviceWait`: the actions waiting for a locked or unplugged device. */
  #deviceWait = new AbortController();
  #session: NetworkSession | null = null;
  #sessionStart: Promise<NetworkSession> | null = null;
  #networkState: NetworkStatus['state'] = 'not-configured';
  #networkProblem: string | null = null;
  /** The steward's auto-lock choice (preferences.json), over the host's default. */
  #autoLock: number | null = null;
  #stopWatch: (() => void) | null = null;
  readonly #auditCache = new AuditTimelineCache();
  /** The remote IPFS backends the steward set in Settings (`<vault>/storage.json`). */
  readonly #storage: StorageSettingsFile;
  readonly handlers: ApiHandlers;

  constructor(options: ServiceOptions) {
    this.#options = options;
    this.#storage = new StorageSettingsFile({
      dir: options.vaultDir,
      keychain: options.secrets,
      sodium: () => this.#s(),
    });
    this.handlers = {
      getStatus: () => this.#status(),
      createVault: ({ passphrase }) => this.#createVault(passphrase),
      unlock: async ({ passphrase, remember }) => {
        this.#setVault(await Vault.open(this.#dir, passphrase, this.#vaultOptions()));
        const store = this.#rememberStore();
        if (remember === true && store) await store.save(passphrase);
        if (remember === false && store) await store.clear();
        if (remember !== undefined) await this.#emitStatus();
        return {};
      },
      unlockRemembered: async () => {
        const store = this.#rememberStore();
        const passphrase = store ? await store.load() : null;
        if (!store || passphrase === null)
          throw new CustosError('NotFound', 'no passphrase is remembered on this device');
        try {
          this.#setVault(await Vault.open(this.#dir, passphrase, this.#vaultOptions()));
        } catch (error) {
          // Changed elsewhere since it was remembered: forget it, so the next attempt asks.
          if (error instanceof CustosError && error.tag === 'WrongPassphrase') await store.clear();
          throw error;
        }
        return {};
      },
      forgetDevice: async () => {
        await this.#options.remember?.clear();
        await this.#emitStatus();
        return {};
      },
      unlockWithRecoveryKey: async ({ recoveryKey }) => {
        this.#setVault(
          await Vault.openWithRecoveryKey(this.#dir, recoveryKey, this.#vaultOptions()),
        );
        return {};
      },
      lock: async () => {
        await this.lock();
        return {};
      },
      touch: () => {
        if (this.#vault) this.#armIdleTimer();
        return Promise.resolve({});
      },
      listDatasets: async () => {
        this.#unlocked();
        return { datasets: (await readDatasetsIndex(this.#dir)).map((d) => this.#view(d)) };
      },
      getDataset: async ({ id }) => this.#view(await this.#dataset(id)),
      chooseImportFile: async () => {
        this.#unlocked();
        if (!this.#options.chooseFile)
          throw new CustosError(
            'UsageError',
            'this window cannot open a file picker: type the path',
          );
        return { path: await this.#options.chooseFile() };
      },
      previewImport: ({ path }) => {
        this.#unlocked();
        return previewSource(path);
      },
      startImport: (input) => Promise.resolve(this.#startImport(input)),
      getImport: ({ jobId }) => Promise.resolve(this.#job(jobId).view),
      cancelImport: ({ jobId }) => {
        const job = this.#job(jobId);
        job.controller.abort();
        return Promise.resolve({});
      },
      publishDataset: ({ id }) => this.#publish(id),
      listEnclaveApps: async () => {
        this.#unlocked();
        return { apps: (await this.#options.network?.enclaveApps()) ?? [] };
      },
      listContacts: async () => {
        this.#unlocked();
        return { contacts: await readContacts(this.#dir) };
      },
      listGrants: async ({ datasetId }) => {
        await this.#dataset(datasetId);
        const session = await this.#connected();
        const mine = (await readGrants(this.#dir)).filter(
          (g) => g.datasetId === datasetId && g.session === session.id,
        );
        const grants = await Promise.all(mine.map((g) => this.#grantView(session, g)));
        return { grants: grants.sort((a, b) => b.createdAt.localeCompare(a.createdAt)) };
      },
      createGrant: (input) => this.#createGrant(input),
      revokeGrant: ({ grantId }) => this.#revokeGrant(grantId),
      revokeAllGrants: ({ datasetId, confirmName }) => this.#revokeAll(datasetId, confirmName),
      queryAudit: async (q) => queryAudit(await this.#audit(q.version), q),
      ...complianceHandlers({
        vaultDir: options.vaultDir,
        devnet: options.network?.simulated ?? false,
        dataset: async (id) => this.#view(await this.#dataset(id)),
        datasets: async () => {
          this.#unlocked();
          return (await readDatasetsIndex(this.#dir)).map((d) => this.#view(d));
        },
        connected: () => this.#connected(),
        current: () => this.#session,
        progress: (p) => this.#emit('proofProgress', p),
      }),
      getSettings: () => this.#settings(),
      setAutoLock: async ({ minutes }) => {
        this.#unlocked();
        await writePreferences(this.#dir, { autoLockMinutes: minutes });
        this.#autoLock = minutes;
        this.#armIdleTimer();
        await this.#emitStatus();
        return {};
      },
      setStorageOptions: async (options) => {
        this.#unlocked();
        await this.#storage.setOptions(options);
        return {};
      },
      restartNetwork: async () => {
        const vault = this.#unlocked();
        await this.#stopNetwork();
        this.#startNetwork(vault);
        return {};
      },
      addStorageBackend: async (backend) => {
        await this.#storage.add(this.#unlocked(), backend);
        return {};
      },
      removeStorageBackend: async ({ name }) => {
        this.#unlocked();
        await this.#storage.remove(name);
        return {};
      },
      renameContact: async (contact) => {
        this.#unlocked();
        const known = (await readContacts(this.#dir)).find(
          (c) => c.address.toLowerCase() === contact.address.toLowerCase(),
        );
        if (!known)
          throw new CustosError('NotFound', `${contact.address} is not in the address book`, {
            details: { address: contact.address },
          });
        const renamed = { address: known.address, name: contact.name.trim() };
        await saveContact(this.#dir, renamed);
        return renamed;
      },
      stopDeviceWait: () => {
        // every action waiting for the device now ends (Cancelled); later ones wait again
        this.#deviceWait.abort();
        this.#deviceWait = new AbortController();
        return Promise.resolve({});
      },
      answerEmulatedDevice: ({ answer }) => {
        const signer = this.#options.network?.signer;
        if (!signer?.answer)
          throw new CustosError('UsageError', 'only the emulated Ledger can be answered here');
        signer.answer(answer);
        return Promise.resolve({});
      },
    };
    options.network?.signer.onChange(() => void this.#emitStatus());
  }

  get #dir(): string {
    return this.#options.vaultDir;
  }

  /** Subscribes to the core's events; returns the unsubscribe function. */
  onEvent(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    const checked = checkEvent(event, payload);
    for (const listener of this.#listeners) listener(event, checked);
  }

  #vaultOptions(): { sodium?: SodiumBackend; kdf?: KdfPreset } {
    return {
      ...(this.#sodium ? { sodium: this.#sodium } : {}),
      ...(this.#options.kdf ? { kdf: this.#options.kdf } : {}),
    };
  }

  async #s(): Promise<SodiumBackend> {
    this.#sodium ??= await sodium();
    return this.#sodium;
  }

  #unlocked(): Vault {
    if (!this.#vault) throw new CustosError('VaultLocked', 'the vault is locked');
    this.#armIdleTimer();
    return this.#vault;
  }

  get #autoLockMinutes(): number {
    return this.#autoLock ?? this.#options.autoLockMinutes ?? 10;
  }

  #armIdleTimer(): void {
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      // Never lock under a running import: it holds a dataset key until it finishes.
      if ([...this.#jobs.values()].some((j) => j.view.state === 'running')) this.#armIdleTimer();
      else void this.lock();
    }, this.#autoLockMinutes * 60_000);
    this.#idleTimer.unref();
  }

  #setVault(vault: Vault): void {
    this.#vault?.lock();
    this.#vault = vault;
    this.#armIdleTimer();
    void this.#emitStatus();
    this.#startNetwork(vault);
    void readPreferences(this.#dir).then((prefs) => {
      this.#autoLock = prefs.autoLockMinutes;
      if (this.#vault !== vault) return;
      this.#armIdleTimer();
      void this.#emitStatus();
    });
  }

  /** Starts the network around the unlocked vault, in the background (status says how it goes). */
  #startNetwork(vault: Vault): void {
    const backend = this.#options.network;
    if (!backend || this.#sessionStart) return;
    this.#networkState = 'connecting';
    this.#networkProblem = null;
    const start = backend.start(vault);
    this.#sessionStart = start;
    start.then(
      async (session) => {
        if (this.#sessionStart !== start) return void (await session.close());
        this.#session = session;
        this.#networkState = 'connected';
        this.#watch(session);
        await this.#emitStatus();
      },
      async (error: unknown) => {
        if (this.#sessionStart !== start) return;
        this.#sessionStart = null;
        this.#networkState = 'unreachable';
        this.#networkProblem =
          error instanceof Error ? error.message.slice(0, 500) : 'the network did not start';
        await this.#emitStatus();
      },
    );
    void this.#emitStatus();
  }

  /** Health of the RPC endpoint and new runs on the user's datasets, while the session runs. */
  #watch(session: NetworkSession): void {
    this.#stopWatch?.();
    // A local devnet answers at once; a hosted RPC has rate limits: poll it less often.
    const interval =
      this.#options.watchIntervalMs ?? (this.#options.network?.profile === 'devnet' ? 1000 : 5000);
    this.#stopWatch = watchRegistry({
      provider: session.provider,
      registry: session.registry,
      intervalMs: interval,
      onHealth: (problem) => {
        if (this.#session !== session) return;
        const state = problem ? 'unreachable' : 'connected';
        const text = problem
          ? `${session.rpcUrl} does not answer (${problem.message})`.slice(0, 500)
          : null;
        if (state === this.#networkState && text === this.#networkProblem) return;
        this.#networkState = state;
        this.#networkProblem = text;
        void this.#emitStatus();
      },
      onRunOpened: (event) => void this.#runOpened(session, event),
    });
  }

  /** Tells the UI about a run on one of this vault's datasets (others' datasets are ignored). */
  async #runOpened(session: NetworkSession, e: RunOpenedEvent): Promise<void> {
    try {
      if (!this.#vault) return;
      const onChainId = String(e.args.datasetId).toLowerCase();
      const d = (await readDatasetsIndex(this.#dir)).find(
        (x) => x.chain.session === session.id && x.chain.onChainId?.toLowerCase() === onChainId,
      );
      if (!d) return;
      const grantId = String(e.args.grantId).toLowerCase();
      const grant = (await readGrants(this.#dir)).find((g) => g.grantId === grantId);
      const contact = grant
        ? (await readContacts(this.#dir)).find(
            (c) => c.address.toLowerCase() === grant.grantee.address.toLowerCase(),
          )
        : undefined;
      const measurement = String(e.args.measurement).toLowerCase();
      const app = ((await this.#options.network?.enclaveApps()) ?? []).find(
        (a) => a.measurement.toLowerCase() === measurement,
      );
      this.#emit('runOpened', {
        datasetId: d.id,
        datasetName: d.name,
        runId: String(e.args.runId).toLowerCase(),
        grantId,
        granteeName: contact?.name ?? grant?.grantee.name ?? null,
        appName: app?.title ?? null,
        runIndex: Number(e.args.runIndex),
        txHash: e.transactionHash,
        blockNumber: e.blockNumber,
      });
    } catch {
      // A notification is best effort; the audit reads the chain itself.
    }
  }

  async #settings(): Promise<Settings> {
    const vault = this.#unlocked();
    const backend = this.#options.network;
    const session = this.#session;
    const device = this.#deviceStatus();
    const storage = await this.#storage.config(vault);
    const backends = await storageBackends(session, storage);
    const trust = backend?.trustPolicy;
    return {
      network: { ...this.#networkStatus(), registry: session?.registry ?? null },
      storage: {
        backends,
        cidVersion: storage.settings.cidVersion,
        pinTimeoutSeconds: storage.settings.pinTimeoutSeconds,
        checkedAt: new Date().toISOString(),
        tokensKeptIn: this.#storage.tokensKeptIn(),
      },
      signer: {
        kind: device.signer,
        label: backend?.signer.label ?? 'No signer set up',
        address: device.address,
        state: (device.signer === 'emulated-ledger' && device.state === 'disconnected'
          ? 'Connects when a signature is needed'
          : device.label
        ).slice(0, 40),
      },
      trust: {
        network: trust?.network ?? backend?.profile ?? 'none',
        allowedTcbStatuses: [...(trust?.allowedTcbStatuses ?? ['UpToDate'])],
        acceptsSimulated: trust?.acceptsSimulated ?? false,
        simulationKeys: trust?.simulationKeys ?? 0,
      },
      autoLockMinutes: this.#autoLockMinutes,
    };
  }

  async #stopNetwork(): Promise<void> {
    this.#stopWatch?.();
    this.#stopWatch = null;
    const start = this.#sessionStart;
    this.#sessionStart = null;
    this.#session = null;
    if (this.#options.network) this.#networkState = 'not-configured';
    if (start) await start.then((s) => s.close()).catch(() => undefined);
  }

  /** The running network session; waits while it starts. @throws RpcUnavailable */
  async #connected(): Promise<NetworkSession> {
    if (!this.#options.network)
      throw new CustosError('RpcUnavailable', 'no network is configured for this vault');
    const start = this.#sessionStart;
    if (!start)
      throw new CustosError('RpcUnavailable', this.#networkProblem ?? 'the network is not running');
    if (this.#networkState === 'unreachable' && this.#session)
      throw new CustosError(
        'RpcUnavailable',
        this.#networkProblem ?? 'the network does not answer',
      );
    try {
      return await start;
    } catch (error) {
      throw new CustosError('RpcUnavailable', 'the network did not start', { cause: error });
    }
  }

  async #dataset(id: string): Promise<Dataset> {
    this.#unlocked();
    const found = (await readDatasetsIndex(this.#dir)).find((d) => d.id === id);
    if (!found)
      throw new CustosError('UnknownDataset', `dataset ${id} is not in this vault`, {
        details: { datasetId: id },
      });
    return found;
  }

  /** A dataset as the UI sees it: registered only on the network session it was registered on. */
  #view(d: Dataset): Dataset {
    const current = this.#session?.id ?? null;
    return {
      ...d,
      chain: { ...d.chain, registered: d.chain.session !== null && d.chain.session === current },
    };
  }

  /** The owner, as a typed-data signer (connects the device first). */
  async #owner(): Promise<{
    address: string;
    signTypedData: NonNullable<ServiceOptions['network']>['signer']['signTypedData'];
  }> {
    const backend = this.#options.network;
    if (!backend) throw new CustosError('RpcUnavailable', 'no network is configured');
    const signer = this.#patientSigner(backend.signer);
    const address = await signer.connect();
    return { address, signTypedData: signer.signTypedData };
  }

  /** The owner's signer, waiting while the device is locked, in another app or unplugged. */
  #patientSigner(signer: NonNullable<ServiceOptions['network']>['signer']) {
    const limitMs = this.#options.deviceWaitMs;
    return waitingSigner(signer, {
      signal: this.#deviceWait.signal,
      ...(limitMs === undefined ? {} : { limitMs }),
    });
  }

  /** A signature's deadline: an hour after the chain's latest block. */
  async #deadline(session: NetworkSession): Promise<bigint> {
    return BigInt(((await session.provider.getBlock('latest'))?.timestamp ?? 0) + 3600);
  }

  /** The registered dataset's on-chain id on the running session. @throws UsageError */
  async #registered(
    datasetId: string,
  ): Promise<{ d: Dataset; onChainId: string; session: NetworkSession }> {
    const d = this.#view(await this.#dataset(datasetId));
    const session = await this.#connected();
    if (!d.chain.registered || !d.chain.onChainId)
      throw new CustosError(
        'UsageError',
        `“${d.name}” is not registered on this network yet: publish and register it first`,
        { details: { datasetId } },
      );
    return { d, onChainId: d.chain.onChainId, session };
  }

  async #grantView(session: NetworkSession, g: StoredGrant): Promise<Grant> {
    const d = await this.#dataset(g.datasetId);
    const [chain, dataset] = await Promise.all([
      session.relayer.grantState(g.grantId),
      session.relayer.dataset(d.chain.onChainId ?? ''),
    ]);
    const runsUsed = Number(chain.runsUsed);
    const { session: _session, ...rest } = g;
    // The address book's name wins: a contact renamed there is renamed everywhere.
    const contact = (await readContacts(this.#dir)).find(
      (c) => c.address.toLowerCase() === g.grantee.address.toLowerCase(),
    );
    return {
      ...rest,
      grantee: { ...g.grantee, name: contact?.name ?? g.grantee.name },
      runsUsed,
      state: grantState(
        g,
        { revoked: chain.revoked, epoch: chain.epoch, datasetEpoch: dataset.epoch, runsUsed },
        Date.now(),
      ),
    };
  }

  async #createGrant(input: GrantRequest): Promise<Grant> {
    const { onChainId, session } = await this.#registered(input.datasetId);
    const from = Date.parse(input.notBefore);
    const until = Date.parse(input.notAfter);
    if (!Number.isFinite(from) || !Number.isFinite(until))
      throw new CustosError('UsageError', 'the start or end date is not a date');
    if (until <= from)
      throw new CustosError(
        'UsageError',
        'the grant ends before it starts: pick a later end date',
        {
          details: { notBefore: input.notBefore, notAfter: input.notAfter },
        },
      );
    if (until <= Date.now())
      throw new CustosError(
        'UsageError',
        'the grant would already be over: pick a future end date',
      );
    let grantee: string;
    try {
      grantee = getAddress(input.grantee.address.toLowerCase());
    } catch (cause) {
      throw new CustosError('UsageError', 'the grantee address is not an Ethereum address', {
        cause,
      });
    }
    const known = (await this.#options.network?.enclaveApps()) ?? [];
    const apps = input.apps.map((name) => {
      const app = known.find((a) => a.name === name);
      if (!app)
        throw new CustosError('UsageError', `unknown enclave app “${name}”`, {
          details: { app: name },
        });
      return app;
    });
    const owner = await this.#owner();
    const sha = (t: string): string => `0x${createHash('sha256').update(t).digest('hex')}`;
    const granted = await session.relayer.relay(
      await session.relayer.sign(
        owner,
        'Grant',
        {
          datasetId: onChainId,
          grantee,
          measurements: apps.map((a) => a.measurement),
          notBefore: BigInt(Math.floor(from / 1000)),
          notAfter: BigInt(Math.floor(until / 1000)),
          maxRuns: BigInt(input.maxRuns),
          purposeHash: sha(input.purpose),
          legalBasisHash: sha(input.legalBasis),
        },
        { deadline: await this.#deadline(session) },
      ),
    );
    const stored: StoredGrant = {
      grantId: (granted.grantId ?? '').toLowerCase(),
      datasetId: input.datasetId,
      grantee: { address: grantee, name: input.grantee.name.trim() },
      apps,
      notBefore: new Date(from).toISOString(),
      notAfter: new Date(until).toISOString(),
      maxRuns: input.maxRuns,
      purpose: input.purpose.trim(),
      legalBasis: input.legalBasis.trim(),
      txHash: granted.tx.hash,
      revokedTxHash: null,
      createdAt: new Date().toISOString(),
      session: session.id,
    };
    await this.#updateGrants((all) => [...all, stored]);
    await saveContact(this.#dir, stored.grantee);
    return this.#grantView(session, stored);
  }

  async #revokeGrant(grantId: string): Promise<Grant> {
    this.#unlocked();
    const session = await this.#connected();
    const g = (await readGrants(this.#dir)).find(
      (x) => x.grantId === grantId && x.session === session.id,
    );
    if (!g)
      throw new CustosError('NotFound', `no grant ${grantId} on this network`, {
        details: { grantId },
      });
    const owner = await this.#owner();
    const revoked = await session.relayer.relay(
      await session.relayer.sign(
        owner,
        'Revoke',
        { grantId },
        { deadline: await this.#deadline(session) },
      ),
    );
    const next = { ...g, revokedTxHash: revoked.tx.hash };
    await this.#updateGrants((all) => all.map((x) => (x.grantId === grantId ? next : x)));
    return this.#grantView(session, next);
  }

  async #revokeAll(
    datasetId: string,
    confirmName: string,
  ): Promise<{ revoked: number; txHash: string }> {
    const { d, onChainId, session } = await this.#registered(datasetId);
    if (confirmName.trim() !== d.name)
      throw new CustosError(
        'UsageError',
        'the name typed does not match the dataset’s name: nothing was revoked',
      );
    const mine = (await readGrants(this.#dir)).filter(
      (g) => g.datasetId === datasetId && g.session === session.id,
    );
    const before = await Promise.all(mine.map((g) => this.#grantView(session, g)));
    const live = before.filter((g) => ['active', 'expires-soon', 'scheduled'].includes(g.state));
    const owner = await this.#owner();
    const done = await session.relayer.relay(
      await session.relayer.sign(
        owner,
        'RevokeAll',
        { datasetId: onChainId },
        { deadline: await this.#deadline(session) },
      ),
    );
    const ids = new Set(live.map((g) => g.grantId));
    await this.#updateGrants((all) =>
      all.map((x) => (ids.has(x.grantId) ? { ...x, revokedTxHash: done.tx.hash } : x)),
    );
    return { revoked: live.length, txHash: done.tx.hash };
  }

  /**
   * The audit timeline of every registered dataset, indexed; rebuilt when the chain head, the
   * journal or a name it shows changed since the last one; `version` asks for the one kept.
   */
  async #audit(version: string | undefined) {
    this.#unlocked();
    const pinned = version === undefined ? undefined : this.#auditCache.pinned(version);
    if (pinned) return pinned;
    const session = await this.#connected();
    const all = (await readDatasetsIndex(this.#dir)).map((d) => this.#view(d));
    const datasets = all.filter((d) => d.chain.registered);
    const grants = await readGrants(this.#dir);
    // The address book's names (a renamed contact is renamed in the audit too).
    const book = new Map(
      (await readContacts(this.#dir)).map((c) => [c.address.toLowerCase(), c.name]),
    );
    const granteeOf = new Map(
      grants.map((g) => [
        g.grantId.toLowerCase(),
        book.get(g.grantee.address.toLowerCase()) ?? g.grantee.name,
      ]),
    );
    const apps = (await this.#options.network?.enclaveApps()) ?? [];
    const appOf = new Map(apps.map((a) => [a.measurement.toLowerCase(), a.title]));
    const source = {
      provider: session.provider,
      chainId: session.chainId,
      registry: session.registry,
      startBlock: session.startBlock,
    };
    const journal = session.journalPath
      ? await stat(session.journalPath).then(
          (s) => [s.size, s.mtimeMs],
          () => null,
        )
      : null;
    const key = JSON.stringify([
      session.id,
      (await session.provider.getBlock('latest'))?.hash ?? null,
      journal,
      datasets.map((d) => [d.id, d.name]),
      [...granteeOf],
      [...appOf],
    ]);
    return this.#auditCache.get(key, () => this.#auditTimeline(datasets, source, granteeOf, appOf));
  }

  async #auditTimeline(
    datasets: readonly Dataset[],
    source: ChainSource,
    granteeOf: ReadonlyMap<string, string>,
    appOf: ReadonlyMap<string, string>,
  ) {
    const session = await this.#connected();
    const entries = [];
    const anomalies = [];
    let journalRead = false;
    for (const d of datasets) {
      const timeline = await auditDataset(source, d.chain.onChainId ?? '', {
        ...(session.journalPath ? { journalPath: session.journalPath } : {}),
        devnet: this.#options.network?.simulated ?? false,
      });
      journalRead ||= timeline.journalRead;
      for (const e of timeline.entries) entries.push(auditEntryOf(d, e, granteeOf, appOf));
      for (const a of timeline.anomalies)
        anomalies.push({
          kind: a.kind,
          message: a.message.slice(0, 1000),
          datasetName: d.name,
          entryIds: a.entryIds.map((id) => `${d.id}:${id}`),
        });
    }
    entries.sort(newestFirst);
    return { entries, anomalies, journalRead };
  }

  async #updateGrants(change: (all: StoredGrant[]) => StoredGrant[]): Promise<void> {
    const run = this.#indexQueue.then(async () => {
      await writeGrants(this.#dir, change(await readGrants(this.#dir)));
    });
    this.#indexQueue = run.catch(() => undefined);
    await run;
  }

  #publishProgress(p: PublishProgress): void {
    this.#emit('publishProgress', p);
  }

  async #publish(id: string): Promise<Dataset> {
    const d = await this.#dataset(id);
    const session = await this.#connected();
    const backend = this.#options.network;
    if (!backend) throw new CustosError('RpcUnavailable', 'no network is configured');
    const path = containerPath(this.#dir, id);
    const progress: PublishProgress = {
      datasetId: id,
      stage: 'publishing',
      cid: null,
      txHash: null,
    };
    this.#publishProgress(progress);
    try {
      // Settings as saved now: the CID version, and every remote backend must hold a copy before
      // anything is registered (never registered while a backend the steward configured lacks it).
      const storage = await this.#storage.config(this.#unlocked());
      // the container is the vault's own, never rewritten: referenced, not copied (decision 003;
      // only CIDv1 can — a CIDv0 add copies every block)
      const { cid } = await session.store.add(path, {
        noCopy: true,
        cidVersion: storage.settings.cidVersion,
      });
      await session.store.pin(cid);
      const copies = await replicateOrRefuse(session, storage, cid);
      progress.cid = cid.toString();
      await this.#updateIndex((all) =>
        all.map((x) =>
          x.id === id ? { ...x, storage: { ...x.storage, ipfsCid: progress.cid, copies } } : x,
        ),
      );
      progress.stage = 'registering';
      this.#publishProgress(progress);
      const signer = this.#patientSigner(backend.signer);
      const address = await signer.connect();
      const owner = { address, signTypedData: signer.signTypedData };
      const deadline = async (): Promise<bigint> =>
        BigInt(((await session.provider.getBlock('latest'))?.timestamp ?? 0) + 3600);
      const registered = await session.relayer.relay(
        await session.relayer.sign(
          owner,
          'RegisterDataset',
          {
            owner: address,
            containerId: `0x${id}`,
            cid: `0x${Buffer.from(cid.bytes).toString('hex')}`,
            ciphertextHash: `0x${await sha256File(path)}`,
            metadataHash: `0x${createHash('sha256')
              .update(JSON.stringify({ label: d.name }))
              .digest('hex')}`,
          },
          { deadline: await deadline() },
        ),
      );
      const onChainId = registered.datasetId ?? '';
      progress.txHash = registered.tx.hash;
      progress.stage = 'naming-operator';
      this.#publishProgress(progress);
      await session.relayer.relay(
        await session.relayer.sign(
          owner,
          'SetOperator',
          { datasetId: onChainId, operator: session.operator },
          { deadline: await deadline() },
        ),
      );
      await this.#updateIndex((all) =>
        all.map((x) =>
          x.id === id
            ? {
                ...x,
                chain: {
                  registered: true,
                  onChainId,
                  txHash: registered.tx.hash,
                  registeredAt: new Date().toISOString(),
                  session: session.id,
                },
              }
            : x,
        ),
      );
      progress.stage = 'done';
      this.#publishProgress(progress);
      return this.#view(await this.#dataset(id));
    } catch (error) {
      this.#publishProgress({ ...progress, stage: 'failed' });
      throw error;
    }
  }

  async #emitStatus(): Promise<void> {
    try {
      this.#emit('status', await this.#status());
    } catch {
      // Status is best effort; the next call to getStatus reports the problem.
    }
  }

  /** Locks the vault (forgets its key); running imports are cancelled. */
  async lock(): Promise<void> {
    const jobs = [...this.#jobs.values()];
    for (const job of jobs) job.controller.abort();
    // Let cancelled imports roll back (they need the vault key to drop their dataset key).
    await Promise.allSettled(jobs.map((j) => j.done));
    await this.#stopNetwork();
    this.#vault?.lock();
    this.#vault = null;
    this.#auditCache.clear();
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
    await this.#emitStatus();
  }

  async #status(): Promise<AppStatus> {
    const exists = await vaultExists(this.#dir);
    return {
      version: APP_VERSION,
      vault: !exists ? 'absent' : this.#vault ? 'unlocked' : 'locked',
      network: this.#networkStatus(),
      device: this.#deviceStatus(),
      autoLockMinutes: this.#autoLockMinutes,
      canChooseFiles: this.#options.chooseFile !== undefined,
      remember: {
        available: this.#rememberStore() !== null,
        enabled: exists && (await this.#options.remember?.load().then((p) => p !== null)) === true,
      },
    };
  }

  #networkStatus(): NetworkStatus {
    const backend = this.#options.network;
    const session = this.#session;
    // No network at all (CUSTOS_NETWORK=none, the desktop shell without a network file): nothing
    // is simulated — the vault is real — so no devnet banner; Settings says how to add one.
    return {
      profile: backend?.profile ?? 'devnet',
      label: backend?.label ?? 'Network',
      simulated: backend?.simulated ?? false,
      state: this.#networkState,
      chainId: session?.chainId ?? null,
      rpcUrl: session?.rpcUrl ?? null,
      problem:
        this.#networkProblem ??
        (backend
          ? null
          : 'No network is set up: start Custos with a network file (docs/networks.md).'),
    };
  }

  #deviceStatus(): DeviceStatus {
    const signer = this.#options.network?.signer;
    if (!signer)
      return {
        signer: 'none',
        state: 'not-configured',
        label: 'No signer set up',
        address: null,
        fields: [],
        note: null,
        canAnswer: false,
      };
    return deviceStatus(signer);
  }

  async #createVault(passphrase: string) {
    const vault = await Vault.create(this.#dir, passphrase, {
      ...this.#vaultOptions(),
      sodium: await this.#s(),
    });
    const kit = await vault.createRecoveryKit();
    this.#setVault(vault);
    return { vaultId: kit.vaultId, recoveryKey: kit.key, recoveryKitText: kit.text };
  }

  #rememberStore(): RememberStore | null {
    const store = this.#options.remember;
    return store?.available() ? store : null;
  }

  #job(jobId: string): Job {
    const job = this.#jobs.get(jobId);
    if (!job) throw new CustosError('NotFound', `no import job ${jobId}`, { details: { jobId } });
    return job;
  }

  #progress(job: Job, bytesDone: number, force = false): void {
    const now = Date.now();
    const seconds = (now - job.stageStartedAt) / 1000;
    const rate = seconds > 0.05 ? (bytesDone - job.stageStartBytes) / seconds : 0;
    const left = job.view.bytesTotal - bytesDone;
    job.view = {
      ...job.view,
      bytesDone,
      bytesPerSecond: Math.round(rate),
      etaSeconds: rate > 0 ? Math.max(0, left / rate) : null,
    };
    if (force || now - job.lastEmit >= PROGRESS_INTERVAL_MS) {
      job.lastEmit = now;
      this.#emit('importProgress', job.view);
    }
  }

  #stage(job: Job, stage: ImportJob['stage']): void {
    job.view = { ...job.view, stage, bytesDone: 0, bytesPerSecond: 0, etaSeconds: null };
    job.stageStartedAt = Date.now();
    job.stageStartBytes = 0;
    this.#progress(job, 0, true);
  }

  #startImport(input: { path: string; name: string; description: string }): { jobId: string } {
    this.#unlocked();
    const jobId = randomBytes(16).toString('hex');
    const job: Job = {
      view: {
        jobId,
        sourceName: basename(input.path).slice(0, 300),
        stage: 'checking',
        state: 'running',
        bytesDone: 0,
        bytesTotal: 0,
        bytesPerSecond: 0,
        etaSeconds: null,
        datasetId: null,
        outcome: null,
        error: null,
      },
      controller: new AbortController(),
      stageStartedAt: Date.now(),
      stageStartBytes: 0,
      lastEmit: 0,
      done: Promise.resolve(),
    };
    this.#jobs.set(jobId, job);
    job.done = this.#runImport(job, input);
    return { jobId };
  }

  async #runImport(
    job: Job,
    input: { path: string; name: string; description: string },
  ): Promise<void> {
    const { signal } = job.controller;
    let datasetId: string | null = null;
    let vault: Vault | null = null;
    try {
      // What will be read (one file, or a folder's files) and its size up front, so the checking
      // stage shows its progress and time left too.
      const plan = await planSource(input.path);
      job.view = { ...job.view, bytesTotal: plan.sizeBytes };
      this.#stage(job, 'checking');
      const checked = await checkSource(plan, (n) => this.#progress(job, n), signal);
      job.view = { ...job.view, bytesTotal: checked.sizeBytes };

      this.#stage(job, 'encrypting');
      vault = this.#unlocked();
      const s = await this.#s();
      try {
        await mkdir(join(this.#dir, 'datasets'), { recursive: true, mode: 0o700 });
      } catch (error) {
        throw fromFsError(error, join(this.#dir, 'datasets'));
      }
      datasetId = (await vault.addDataset(input.name)).id;
      const key = vault.datasetKey(datasetId);
      try {
        // The bytes encrypted must be the bytes checked: a source still being written is refused.
        const hash = createHash('sha256');
        const chunks = async function* () {
          for await (const chunk of sourceChunks(plan, { signal })) {
            hash.update(chunk);
            yield chunk;
          }
        };
        await encryptToFile(
          { sodium: s, datasetKey: key, datasetId },
          iterableSource(chunks()),
          containerPath(this.#dir, datasetId),
          { onProgress: (n) => this.#progress(job, n), signal },
        );
        if (hash.digest('hex') !== checked.sha256) throw changedDuringImport(input.path);
      } finally {
        s.memzero(key);
      }

      this.#stage(job, 'indexing');
      if (signal.aborted) throw new CustosError('Cancelled', 'cancelled');
      const id = datasetId;
      const dataset: Dataset = {
        id,
        name: input.name,
        description: input.description,
        sourceName: basename(input.path).slice(0, 300),
        format: checked.format,
        sizeBytes: checked.sizeBytes,
        recordCount: checked.recordCount,
        columns: checked.columns,
        resourceTypes: checked.resourceTypes,
        sha256: checked.sha256,
        createdAt: new Date().toISOString(),
        storage: { local: true, ipfsCid: null },
        chain: {
          registered: false,
          onChainId: null,
          txHash: null,
          registeredAt: null,
          session: null,
        },
      };
      await this.#updateIndex((all) => [...all, dataset]);
      job.view = { ...job.view, stage: 'done', state: 'done', datasetId: id };
      this.#progress(job, checked.sizeBytes, true);
    } catch (error) {
      // Roll back: remove the container if it was promoted (encryptToFile removes a staged one),
      // the index entry, and the dataset key.
      const hadKey = datasetId !== null && vault !== null;
      if (hadKey) {
        const id = datasetId as string;
        await rm(containerPath(this.#dir, id), { force: true }).catch(() => undefined);
        await vault?.removeDataset(id).catch(() => undefined);
        await this.#updateIndex((all) => all.filter((d) => d.id !== id)).catch(() => undefined);
      }
      const cancelled = error instanceof CustosError && error.tag === 'Cancelled';
      job.view = {
        ...job.view,
        state: cancelled ? 'cancelled' : 'failed',
        datasetId: null,
        outcome: hadKey
          ? 'Rolled back: the partial encrypted copy and its key were removed. Your original file is untouched.'
          : 'Nothing was stored. Your original file is untouched.',
        error: cancelled ? null : toApiError(error),
      };
      this.#emit('importProgress', job.view);
    }
  }

  async #updateIndex(change: (all: Dataset[]) => Dataset[]): Promise<void> {
    const run = this.#indexQueue.then(async () => {
      await writeDatasetsIndex(this.#dir, change(await readDatasetsIndex(this.#dir)));
    });
    this.#indexQueue = run.catch(() => undefined);
    await run;
  }

  /** Cancels running jobs and locks; for host shutdown. */
  async close(): Promise<void> {
    await this.lock();
    this.#listeners.clear();
  }
}
