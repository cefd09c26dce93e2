/**
 * The ONE contract between the unprivileged UI and the privileged core (Ledger Live's rule: every
 * channel in one typed file). Each operation is a named method with a zod schema for its input and
 * its output; each event has a schema. There is deliberately no generic `invoke(name, …)`: a host
 * (the Electron preload, the loopback web host) exposes exactly these names and parses every input
 * with these schemas before the core sees it. Errors cross as data (`ApiFailure`) and are rebuilt
 * by tag on the other side.
 */
import { z } from 'zod';
import { ERROR_TAGS } from '../errors/index.ts';

const text = (max: number) => z.string().max(max);
const isoTime = z.string().max(40);
const datasetId = z.string().regex(/^[0-9a-f]{32}$/);
const jobId = z.string().regex(/^[0-9a-f]{16,64}$/);
const passphrase = z.string().min(1).max(1024);

/** Where the vault is: absent (first run), locked, or unlocked. */
export const VaultState = z.enum(['absent', 'locked', 'unlocked']);

/** The network the app is pointed at. Only devnet exists until the chain layer lands. */
export const NetworkStatus = z.object({
  profile: z.enum(['devnet', 'testnet', 'mainnet']),
  label: text(100),
  /** `simulated`: development network with a simulated enclave and a development key. */
  simulated: z.boolean(),
  state: z.enum(['not-configured', 'connecting', 'connected', 'unreachable']),
  /** Chain id and RPC endpoint when connected (devnet: the local anvil). */
  chainId: z.number().int().nullable().default(null),
  rpcUrl: text(300).nullable().default(null),
  /** Why the network is unreachable, in the steward's words. */
  problem: text(500).nullable().default(null),
});

/** A field as the signing device displays it (clear signing). */
export const DisplayedField = z.object({ label: text(100), value: text(500) });

/** The signing device, as the headline of every device prompt (UX principle 3). */
export const DeviceStatus = z.object({
  /** Which signer: a Ledger, the APDU-level emulated Ledger (devnet), the devnet key, or none. */
  signer: z.enum(['none', 'ledger', 'emulated-ledger', 'dev-key']).default('none'),
  /** The signer's DeviceState (app/signer), flattened; `not-configured` when there is no signer. */
  state: z.enum([
    'not-configured',
    'disconnected',
    'connecting',
    'locked',
    'wrong-app',
    'ready',
    'confirm-on-device',
    'signed',
    'rejected',
    'error',
  ]),
  label: text(100),
  /** The account the signer signs with, once known. */
  address: text(60).nullable().default(null),
  /** While `confirm-on-device`: what the device displays, for the steward to compare. */
  fields: z.array(DisplayedField).max(40).default([]),
  /** The device shows hashes instead of fields, or the app the device has open, or the error. */
  note: text(500).nullable().default(null),
  /** The emulated device can be answered from the app (devnet only). */
  canAnswer: z.boolean().default(false),
});

export const AppStatus = z.object({
  version: text(40),
  vault: VaultState,
  network: NetworkStatus,
  device: DeviceStatus,
  /** Minutes of inactivity after which the vault locks itself. */
  autoLockMinutes: z
    .number()
    .int()
    .min(1)
    .max(24 * 60),
  /** "Remember on this device" (OS keychain through Electron safeStorage): possible, and set. */
  remember: z.object({ available: z.boolean(), enabled: z.boolean() }),
  /** Whether the host can show the system's file picker (Electron); else the UI asks for a path. */
  canChooseFiles: z.boolean(),
});

/** csv: a table; fhir-ndjson: FHIR resources, one per line (a bulk export); file: anything else. */
export const SourceFormat = z.enum(['csv', 'fhir-ndjson', 'file']);
export const ResourceTypeCount = z.object({
  name: text(64),
  count: z.number().int().nonnegative(),
});

/** A remote IPFS backend (Settings) that confirmed it pinned a dataset, and when. */
export const DatasetCopy = z.object({
  name: text(100),
  kind: z.enum(['kubo', 'pinning-service', 'ipfs-cluster']),
  pinnedAt: isoTime,
});

export const Dataset = z.object({
  id: datasetId,
  name: text(200),
  description: text(2000),
  /** Original file or folder name (no parent folders). */
  sourceName: text(300),
  format: SourceFormat,
  sizeBytes: z.number().int().nonnegative(),
  /** Records (CSV rows without the header, FHIR resources); null when the format has none. */
  recordCount: z.number().int().nonnegative().nullable(),
  columns: z.array(text(200)).max(2000),
  /** FHIR NDJSON: the resource types and how many of each. */
  resourceTypes: z.array(ResourceTypeCount).max(200).default([]),
  /** SHA-256 of the plaintext, hex. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  createdAt: isoTime,
  /** Storage and chain state; `local` only until the IPFS and chain layers land. */
  storage: z.object({
    local: z.boolean(),
    ipfsCid: text(200).nullable(),
    /** The remote backends that confirmed their pin at publish (absent in older vaults). */
    copies: z.array(DatasetCopy).max(31).optional(),
  }),
  chain: z.object({
    registered: z.boolean(),
    /** The registry's id for this dataset (bytes32 hex), once registered. */
    onChainId: text(66).nullable().default(null),
    /** The registration's transaction. */
    txHash: text(66).nullable().default(null),
    registeredAt: isoTime.nullable().default(null),
    /** The network session it was registered on (a devnet starts empty each time). */
    session: text(100).nullable().default(null),
  }),
});

export const PublishStage = z.enum([
  'publishing',
  'registering',
  'naming-operator',
  'done',
  'failed',
]);

/** Progress of "Publish and register" (UX principle 4: stages). */
export const PublishProgress = z.object({
  datasetId,
  stage: PublishStage,
  /** CID once published, transaction once registered. */
  cid: text(200).nullable(),
  txHash: text(66).nullable(),
});

export const ImportPreview = z.object({
  path: text(4096),
  sourceName: text(300),
  sizeBytes: z.number().int().nonnegative(),
  format: SourceFormat,
  /** A folder: how many files make the dataset, and how many (hidden, subfolders) were left out. */
  folder: z
    .object({ files: z.number().int().nonnegative(), ignored: z.number().int().nonnegative() })
    .nullable()
    .default(null),
  columns: z.array(text(200)).max(2000),
  resourceTypes: z.array(ResourceTypeCount).max(200).default([]),
  recordCount: z.number().int().nonnegative().nullable(),
  /** A few rows with every value masked to its shape (letters → x/X, digits → 9). */
  redactedSamples: z.array(z.array(text(200))).max(5),
  /** True when the preview counted only part of a very large file. */
  truncated: z.boolean(),
});

export const ImportStage = z.enum(['checking', 'encrypting', 'indexing', 'done']);

export const ImportJob = z.object({
  jobId,
  sourceName: text(300),
  stage: ImportStage,
  state: z.enum(['running', 'done', 'cancelled', 'failed']),
  bytesDone: z.number().nonnegative(),
  bytesTotal: z.number().nonnegative(),
  /** Bytes per second over the current stage. */
  bytesPerSecond: z.number().nonnegative(),
  /** Seconds left in the current stage; null until a rate is known. */
  etaSeconds: z.number().nonnegative().nullable(),
  datasetId: datasetId.nullable(),
  /** What happened to partial work when the job did not finish. */
  outcome: text(300).nullable(),
  error: z
    .object({
      tag: z.enum(ERROR_TAGS),
      message: text(2000),
      details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
      explanation: text(500),
    })
    .nullable(),
});

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/);
const bytes32 = z.string().regex(/^0x[0-9a-f]{64}$/);

/** An enclave application a grant may allow, by name and measurement (SHA-256 of its code). */
export const EnclaveApp = z.object({
  name: text(100),
  title: text(200),
  measurement: bytes32,
});

/** A local name for an address (UX principle 1: the address book). */
export const Contact = z.object({ address, name: z.string().trim().min(1).max(200) });

export const GrantState = z.enum([
  'scheduled',
  'active',
  'expires-soon',
  'expired',
  'revoked',
  'exhausted',
]);

/** A grant as the steward sees it: local words (grantee name, purpose) with the chain's state. */
export const Grant = z.object({
  grantId: bytes32,
  datasetId,
  grantee: Contact,
  apps: z.array(EnclaveApp).max(16),
  notBefore: isoTime,
  notAfter: isoTime,
  maxRuns: z.number().int().positive(),
  runsUsed: z.number().int().nonnegative(),
  purpose: text(2000),
  legalBasis: text(2000),
  state: GrantState,
  /** The transaction that created it, and the one that revoked it (one or all). */
  txHash: text(66),
  revokedTxHash: text(66).nullable(),
  createdAt: isoTime,
});

export const GrantRequest = z
  .object({
    datasetId,
    grantee: Contact.strict(),
    /** Enclave app names (from listEnclaveApps). */
    apps: z.array(text(100)).min(1).max(16),
    notBefore: isoTime,
    notAfter: isoTime,
    maxRuns: z.number().int().min(1).max(1_000_000),
    purpose: z.string().trim().min(1).max(2000),
    legalBasis: z.string().trim().min(1).max(2000),
  })
  .strict();

const hexOrNull = text(132).nullable();

/** One line of the audit timeline (app/audit), in the steward's words with its evidence. */
export const AuditEntry = z.object({
  id: text(200),
  datasetId,
  datasetName: text(200),
  kind: text(40),
  source: z.enum(['chain', 'journal']),
  what: text(1000),
  /** Block time for chain events, the journal's wall time for key releases. */
  time: isoTime.nullable(),
  who: text(60).nullable(),
  grantId: hexOrNull,
  granteeName: text(200).nullable(),
  runId: hexOrNull,
  appName: text(200).nullable(),
  measurement: hexOrNull,
  teeType: z.enum(['sgx', 'tdx', 'simulated']).nullable(),
  simulated: z.boolean(),
  resultHash: hexOrNull,
  txHash: hexOrNull,
  blockNumber: z.number().int().nullable(),
  evidence: z.object({
    blockHash: hexOrNull,
    logIndex: z.number().int().nullable(),
    journalSeq: z.number().int().nullable(),
    journalHash: hexOrNull,
    evidenceHash: hexOrNull,
  }),
  anomalies: z.array(text(60)).max(20),
});

export const AuditAnomaly = z.object({
  kind: text(60),
  message: text(1000),
  datasetName: text(200),
  entryIds: z.array(text(200)).max(1000),
});

const localDate = z.union([z.string().regex(/^\d{4}-\d{2}-\d{2}$/), z.literal('')]);

/** The Audit screen's filters (its URL) and a page; empty strings and false mean "all". */
export const AuditQuery = z
  .object({
    dataset: z.union([datasetId, z.literal('')]).default(''),
    grantee: text(200).default(''),
    kind: z
      .string()
      .regex(/^[a-z-]{0,40}$/)
      .default(''),
    /** Days in `timeZone`, both included. */
    from: localDate.default(''),
    until: localDate.default(''),
    anomaliesOnly: z.boolean().default(false),
    /** The IANA time zone whose days the period and the chart count in. */
    timeZone: text(64).default('UTC'),
    offset: z.number().int().min(0).max(100_000_000).default(0),
    limit: z.number().int().min(1).max(500).default(100),
    /** The timeline a first page came from: later pages come from it while the service has it. */
    version: z
      .string()
      .regex(/^[0-9a-z-]{1,64}$/)
      .optional(),
  })
  .strict();

/** Enclave runs opened and keys refused from day `start` (days since 1 Jan 1970 in the zone). */
export const AuditRunBin = z.object({
  start: z.number().int(),
  runs: z.number().int().nonnegative(),
  refusals: z.number().int().nonnegative(),
});

/** One page of the filtered timeline and what the screen shows around it. */
export const AuditPage = z.object({
  entries: z.array(AuditEntry).max(500),
  offset: z.number().int().nonnegative(),
  /** Entries that pass every filter. */
  total: z.number().int().nonnegative(),
  /** Entries in the timeline. */
  all: z.number().int().nonnegative(),
  /** Runs and refusals per day (7 or 30 days per bar over long periods), every filter but the kind. */
  chart: z.object({
    days: z.union([z.literal(1), z.literal(7), z.literal(30)]),
    bins: z.array(AuditRunBin).max(10_000),
    runs: z.number().int().nonnegative(),
    refusals: z.number().int().nonnegative(),
  }),
  /** What the filter menus offer (the whole timeline). */
  datasets: z.array(z.object({ id: datasetId, name: text(200) })),
  grantees: z.array(text(200)),
  kinds: z.array(text(40)),
  anomalies: z.array(AuditAnomaly),
  /** Whether the key-release journal was read (else journal checks were not made). */
  journalRead: z.boolean(),
  checkedAt: isoTime,
  /** Which timeline answered (it changes with the chain head, the journal and the names). */
  version: text(64),
});

/** Compliance: a usage-proof export, as the compliance officer sees it (app/proofs, docs/ui.md). */
export const ProofStage = z.enum(['reading', 'report', 'saving', 'done', 'failed']);

/** Progress of `exportProof` (UX principle 4: stages). */
export const ProofProgress = z.object({
  datasetId,
  stage: ProofStage,
  /** Seconds since the export started. */
  seconds: z.number().nonnegative(),
});

export const ProofSummary = z.object({
  events: z.number().int().nonnegative(),
  runs: z.number().int().nonnegative(),
  grants: z.number().int().nonnegative(),
  revocations: z.number().int().nonnegative(),
  /** Key releases the key-release service refused (from the journal excerpt). */
  refusals: z.number().int().nonnegative(),
  anomalies: z.number().int().nonnegative(),
  linkedRuns: z.number().int().nonnegative(),
});

export const ProofExport = z.object({
  datasetId,
  datasetName: text(200),
  /** The folder inside the vault holding both files (its name: `readProofFile`), and each file. */
  folder: text(4096),
  folderName: text(200),
  jsonPath: text(4096),
  pdfPath: text(4096),
  jsonBytes: z.number().int().nonnegative(),
  pdfBytes: z.number().int().nonnegative(),
  period: z.object({ from: isoTime.nullable(), until: isoTime.nullable() }),
  blockRange: z.object({ from: z.number().int(), to: z.number().int() }),
  summary: ProofSummary,
  anomalies: z.array(z.object({ kind: text(60), message: text(1000) })).max(200),
  /** Simulated enclave evidence is in the bundle (the PDF says SIMULATED). */
  simulated: z.boolean(),
  createdAt: isoTime,
  seconds: z.number().nonnegative(),
});

/** One check of the verifier (app/proofs CHECKS), in order. */
export const ProofCheck = z.object({
  check: text(40),
  /** `not-checked`: skipped on purpose (no network to anchor to); `nothing-to-check`: no item. */
  status: z.enum(['passed', 'failed', 'not-checked', 'nothing-to-check']),
  /** Items looked at and items that failed. */
  checked: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
});

export const ProofVerification = z.object({
  /** `verified`: every check passed against the network; `unanchored`: every check that could be
   * made offline passed, but the block hashes were compared with nothing; `failed`: a check failed. */
  verdict: z.enum(['verified', 'unanchored', 'failed']),
  /** What the block hashes were compared with, and why (in words). */
  anchor: z.enum(['network', 'none']),
  anchorNote: text(500),
  fromPdf: z.boolean(),
  events: z.number().int().nonnegative(),
  checks: z.array(ProofCheck).max(40),
  failures: z.array(z.object({ check: text(40), subject: text(300), reason: text(1000) })).max(200),
  failuresTotal: z.number().int().nonnegative(),
  scope: z
    .object({
      chainId: z.number().int(),
      registry: text(42),
      datasetId: text(66),
      /** The dataset's name when it is one of this vault's. */
      datasetName: text(200).nullable(),
      period: z.object({ from: isoTime.nullable(), until: isoTime.nullable() }),
      blockRange: z.object({ from: z.number().int(), to: z.number().int() }),
    })
    .nullable(),
});

/** The largest bundle `verifyProof` takes (the web host's message limit is set above it). */
export const MAX_BUNDLE_CHARS = 64 * 1024 * 1024;

/** Settings (docs/ui.md "Settings"): what the app runs with, and what can be changed from here. */
export const StorageBackendHealth = z.object({
  name: text(100),
  kind: z.enum(['embedded', 'kubo', 'pinning-service', 'ipfs-cluster']),
  /** API address (kubo, pinning service, cluster) or the node's listen addresses (embedded). */
  address: text(2000).nullable(),
  health: z.enum(['ok', 'unreachable', 'not-running']),
  /** What is wrong, or what the node says about itself (peer id, version). */
  detail: text(500).nullable(),
  /** An IPFS Cluster: the copies it keeps of each dataset (its replication min and max). */
  copies: z.object({ min: z.number().int(), max: z.number().int() }).optional(),
});

export const Settings = z.object({
  network: NetworkStatus.extend({ registry: text(42).nullable() }),
  storage: z.object({
    backends: z.array(StorageBackendHealth).max(31),
    cidVersion: z.union([z.literal(0), z.literal(1)]),
    /** How long publish waits for a remote pin (pinning service, cluster) before PinTimeout. */
    pinTimeoutSeconds: z.number().int(),
    checkedAt: isoTime,
    /** Where new pinning-service tokens are kept: the OS keychain, or sealed in the vault folder. */
    tokensKeptIn: z.enum(['keychain', 'vault']),
  }),
  signer: z.object({
    kind: z.enum(['none', 'ledger', 'emulated-ledger', 'dev-key']),
    label: text(100),
    address: text(60).nullable(),
    state: text(40),
  }),
  /** The key-release service's attestation policy (enclave-bridge/attestation AttestationPolicy). */
  trust: z.object({
    network: text(40),
    allowedTcbStatuses: z.array(text(60)).max(20),
    /** Simulated evidence is accepted only on the devnet, and only from its own simulator keys. */
    acceptsSimulated: z.boolean(),
    simulationKeys: z.number().int().nonnegative(),
  }),
  autoLockMinutes: z.number().int(),
});

/** A new enclave run on one of the user's datasets (the registry's RunOpened log). */
export const RunOpened = z.object({
  datasetId,
  datasetName: text(200),
  runId: bytes32,
  grantId: bytes32,
  granteeName: text(200).nullable(),
  appName: text(200).nullable(),
  runIndex: z.number().int().nonnegative(),
  txHash: text(66),
  blockNumber: z.number().int(),
});

const Empty = z.object({}).strict();
/** The output of a method that only acts. */
const Done = z.object({});

/** Every method the UI may call. */
export const METHODS = {
  getStatus: { input: Empty, output: AppStatus },
  createVault: {
    input: z.object({ passphrase }).strict(),
    output: z.object({
      vaultId: z.string(),
      /** Shown once: the key in groups of five, and the printable kit. */
      recoveryKey: z.string(),
      recoveryKitText: text(4000),
    }),
  },
  unlock: {
    input: z.object({ passphrase, remember: z.boolean().optional() }).strict(),
    output: Done,
  },
  /** Unlocks with the passphrase remembered in the OS keychain (when `remember.enabled`). */
  unlockRemembered: { input: Empty, output: Done },
  /** Removes the remembered passphrase from this device. */
  forgetDevice: { input: Empty, output: Done },
  unlockWithRecoveryKey: { input: z.object({ recoveryKey: text(200) }).strict(), output: Done },
  lock: { input: Empty, output: Done },
  /** Tells the core the user is active (resets the idle auto-lock). */
  touch: { input: Empty, output: Done },
  listDatasets: { input: Empty, output: z.object({ datasets: z.array(Dataset) }) },
  getDataset: { input: z.object({ id: datasetId }).strict(), output: Dataset },
  /** Shows the system's file picker; null when the user closes it. Only when `canChooseFiles`. */
  chooseImportFile: {
    input: Empty,
    output: z.object({ path: z.string().max(4096).nullable() }),
  },
  previewImport: {
    input: z.object({ path: z.string().min(1).max(4096) }).strict(),
    output: ImportPreview,
  },
  startImport: {
    input: z
      .object({
        path: z.string().min(1).max(4096),
        name: z.string().trim().min(1).max(200),
        description: z.string().max(2000),
      })
      .strict(),
    output: z.object({ jobId }),
  },
  getImport: { input: z.object({ jobId }).strict(), output: ImportJob },
  cancelImport: { input: z.object({ jobId }).strict(), output: Done },
  /**
   * Publishes the encrypted container to IPFS (pinned), then registers it on the network signed
   * by the owner's device and relayed, then names the key-release operator (also signed).
   * Emits `publishProgress`. Returns the updated dataset.
   */
  publishDataset: { input: z.object({ id: datasetId }).strict(), output: Dataset },
  /** The enclave applications a grant can allow, with their measurements. */
  listEnclaveApps: { input: Empty, output: z.object({ apps: z.array(EnclaveApp) }) },
  /** The address book (local names for grantees). */
  listContacts: { input: Empty, output: z.object({ contacts: z.array(Contact) }) },
  /** Grants of a dataset, newest first, with their state on the chain. */
  listGrants: {
    input: z.object({ datasetId }).strict(),
    output: z.object({ grants: z.array(Grant) }),
  },
  /** Grants access: signed on the device, relayed. The grantee is added to the address book. */
  createGrant: { input: GrantRequest, output: Grant },
  /** Revokes one grant (signed on the device). */
  revokeGrant: { input: z.object({ grantId: bytes32 }).strict(), output: Grant },
  /** Revokes every grant of a dataset; `confirmName` must be the dataset's name. */
  revokeAllGrants: {
    input: z.object({ datasetId, confirmName: text(200) }).strict(),
    output: z.object({ revoked: z.number().int().nonnegative(), txHash: text(66) }),
  },
  /**
   * One page of the audit timeline of every registered dataset (chain events and key-release
   * journal entries, newest first), narrowed by the Audit screen's filters, with what the screen
   * shows around the table: the count, the runs-per-day chart, the filter menus and the anomalies.
   * The service builds the timeline once per chain head and journal state (docs/ui.md).
   */
  queryAudit: { input: AuditQuery, output: AuditPage },
  /**
   * Exports the usage proof of a registered dataset for a period (block times; null = open) into
   * `<vault>/exports/<name>-<period>-<time>/` (usage-proof.json + usage-proof.pdf). Emits
   * `proofProgress`.
   */
  exportProof: {
    input: z.object({ datasetId, from: isoTime.nullable(), until: isoTime.nullable() }).strict(),
    output: ProofExport,
  },
  /** The bytes of an exported file (for a download in the web host), base64. */
  readProofFile: {
    input: z
      .object({
        folderName: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/),
        file: z.enum(['json', 'pdf']),
      })
      .strict(),
    output: z.object({ name: text(300), mediaType: text(100), base64: z.string() }),
  },
  /**
   * Verifies a bundle (JSON text, or a PDF report as base64): offline checks always, anchored to
   * the running network when it is connected and on the bundle's chain.
   */
  verifyProof: {
    input: z
      .object({
        fileName: text(300),
        json: z.string().max(MAX_BUNDLE_CHARS).optional(),
        pdfBase64: z
          .string()
          .max(Math.ceil(MAX_BUNDLE_CHARS / 3) * 4)
          .optional(),
      })
      .strict(),
    output: ProofVerification,
  },
  /** Network, IPFS backends with live health, signer, enclave trust policy, auto-lock. */
  getSettings: { input: Empty, output: Settings },
  /** Minutes of inactivity before the vault locks itself (kept in the vault folder). */
  setAutoLock: {
    input: z
      .object({
        minutes: z
          .number()
          .int()
          .min(1)
          .max(24 * 60),
      })
      .strict(),
    output: Done,
  },
  /** CID version of new datasets and the remote pin wait (range checked by the service: `details.field`). */
  setStorageOptions: {
    input: z
      .object({ cidVersion: z.union([z.literal(0), z.literal(1)]), pinTimeoutSeconds: z.number() })
      .strict(),
    output: Done,
  },
  /** Stops and starts the network (devnet: a fresh local chain). */
  restartNetwork: { input: Empty, output: Done },
  /**
   * Adds a remote IPFS backend to the vault's storage settings (the next publish copies to it).
   * Lengths only here: the service names the field of a bad value (`details.field`).
   */
  addStorageBackend: {
    input: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('kubo'), name: text(200), apiUrl: text(2000) }).strict(),
      z
        .object({
          kind: z.literal('pinning-service'),
          name: text(200),
          endpoint: text(2000),
          token: text(4096),
        })
        .strict(),
      z
        .object({
          kind: z.literal('ipfs-cluster'),
          name: text(200),
          apiUrl: text(2000),
          replicationMin: z.number(),
          replicationMax: z.number(),
          user: text(200).optional(),
          password: text(4096).optional(),
        })
        .strict(),
    ]),
    output: Done,
  },
  /** Removes a remote IPFS backend (and its token) by name; the embedded node stays. */
  removeStorageBackend: { input: z.object({ name: text(200) }).strict(), output: Done },
  /** Renames an address-book entry (the address must already be in it). */
  renameContact: { input: Contact.strict(), output: Contact },
  /**
   * Stops waiting for a locked, closed-app or unplugged device: the actions waiting for it end
   * with Cancelled, nothing signed (a signature already shown on the device is not affected).
   */
  stopDeviceWait: { input: Empty, output: Done },
  /** Devnet only: presses approve or reject on the emulated Ledger (status.device.canAnswer). */
  answerEmulatedDevice: {
    input: z.object({ answer: z.enum(['approve', 'reject']) }).strict(),
    output: Done,
  },
} as const;

/** Every event the core may send to the UI. */
export const EVENTS = {
  status: AppStatus,
  importProgress: ImportJob,
  publishProgress: PublishProgress,
  runOpened: RunOpened,
  proofProgress: ProofProgress,
} as const;

export type MethodName = keyof typeof METHODS;
export type EventName = keyof typeof EVENTS;
export const METHOD_NAMES = Object.keys(METHODS) as MethodName[];
export const EVENT_NAMES = Object.keys(EVENTS) as EventName[];

export type MethodInput<M extends MethodName> = z.input<(typeof METHODS)[M]['input']>;
export type MethodOutput<M extends MethodName> = z.output<(typeof METHODS)[M]['output']>;
export type EventPayload<E extends EventName> = z.output<(typeof EVENTS)[E]>;

export type AppStatus = z.output<typeof AppStatus>;
export type Dataset = z.output<typeof Dataset>;
export type DatasetCopy = z.output<typeof DatasetCopy>;
export type ImportPreview = z.output<typeof ImportPreview>;
export type ImportJob = z.output<typeof ImportJob>;
export type ImportStage = z.output<typeof ImportStage>;
export type VaultState = z.output<typeof VaultState>;
export type DeviceStatus = z.output<typeof DeviceStatus>;
export type EnclaveApp = z.output<typeof EnclaveApp>;
export type AuditEntry = z.output<typeof AuditEntry>;
export type AuditAnomaly = z.output<typeof AuditAnomaly>;
export type AuditQuery = z.output<typeof AuditQuery>;
export type AuditPage = z.output<typeof AuditPage>;
export type Contact = z.output<typeof Contact>;
export type Grant = z.output<typeof Grant>;
export type GrantState = z.output<typeof GrantState>;
export type GrantRequest = z.input<typeof GrantRequest>;
export type NetworkStatus = z.output<typeof NetworkStatus>;
export type DisplayedField = z.output<typeof DisplayedField>;
export type PublishProgress = z.output<typeof PublishProgress>;
export type PublishStage = z.output<typeof PublishStage>;
export type ProofProgress = z.output<typeof ProofProgress>;
export type ProofExport = z.output<typeof ProofExport>;
export type ProofVerification = z.output<typeof ProofVerification>;
export type ProofCheck = z.output<typeof ProofCheck>;
export type Settings = z.output<typeof Settings>;
export type RunOpened = z.output<typeof RunOpened>;
export type StorageBackendHealth = z.output<typeof StorageBackendHealth>;
