/**
 * The usage-proof bundle (format "custos-usage-proof", version 1): everything needed to check a
 * dataset's use over a period without trusting Custos, the hospital or any server. Documented in
 * docs/proofs.md; JSON Schema in docs/usage-proof.schema.json.
 */
import { z } from 'zod';

export const BUNDLE_FORMAT = 'custos-usage-proof';
export const BUNDLE_VERSION = 1;

const hex = z.string().regex(/^0x([0-9a-f]{2})*$/, 'lowercase 0x-hex bytes');
const hex32 = z.string().regex(/^0x[0-9a-f]{64}$/, '32 bytes, lowercase 0x-hex');
const address = z.string().regex(/^0x[0-9a-f]{40}$/, 'address, lowercase 0x-hex');
const sha = z.string().regex(/^[0-9a-f]{64}$/);
const int = z.number().int().nonnegative();
const teeType = z.enum(['sgx', 'tdx', 'simulated']).nullable();

export const BlockSchema = z.strictObject({
  number: int,
  hash: hex32,
  /** The header's RLP fields in consensus order (integers as minimal big-endian bytes). */
  header: z
    .array(hex)
    .min(15)
    .describe('RLP header fields in consensus order; keccak256(rlp(header)) = hash'),
});

export const ReceiptSchema = z.strictObject({
  block: int,
  txIndex: int,
  /** Not proven by the receipt proof (see docs/proofs.md); a link for people. */
  txHash: hex32.describe('transaction hash (a link; not covered by the receipt proof)'),
  /** The consensus encoding: `type ‖ rlp(…)` for typed receipts, `rlp(…)` for legacy. */
  receipt: hex.describe(
    'consensus receipt encoding: type byte ‖ rlp for typed receipts, rlp for legacy',
  ),
  /** Merkle-Patricia proof nodes from `receiptsRoot` to the key rlp(txIndex). */
  proof: z
    .array(hex)
    .min(1)
    .describe('Merkle-Patricia proof nodes from receiptsRoot to key rlp(txIndex)'),
});

export const EventSchema = z.strictObject({
  block: int,
  txIndex: int,
  /** Position of the log inside its receipt. */
  logIndex: int.describe('index of the log inside its receipt'),
  name: z.string(),
  /** The decoded arguments (integers as decimal strings, bytes and addresses as lowercase hex). */
  args: z.record(z.string(), z.union([z.string(), z.array(z.string())])),
  /** True for an event outside the period included to explain one inside it (a run's opening, a grant). */
  context: z.boolean().describe('true: outside the period, included to explain an event inside it'),
  /** True for a RunOpened/RunClosed of another dataset's run linked to one of the dataset's runs. */
  linked: z
    .boolean()
    .optional()
    .describe(
      "true: a RunOpened/RunClosed of another dataset's run in the same enclave run as one of this dataset's runs (see linkedRuns); such events are also context",
    ),
});

export const RunSchema = z.strictObject({
  runId: hex32,
  grantId: hex32,
  enclaveKey: address,
  /** Null while the run is open. */
  resultHash: hex32.nullable(),
  enclaveSignature: hex.nullable(),
  teeType,
});

export const LinkedRunSchema = z.strictObject({
  /** The run of this dataset it is linked to. */
  linkedTo: hex32.describe("the run of this bundle's dataset it is linked to"),
  runId: hex32,
  datasetId: hex32,
  grantId: hex32,
  enclaveKey: address,
  /** Null while the linked run is open. */
  resultHash: hex32.nullable(),
  enclaveSignature: hex.nullable(),
  /** Why: the same enclave key in RunOpened, the same result hash in RunClosed (or both). */
  by: z
    .array(z.enum(['enclave-key', 'result-hash']))
    .min(1)
    .describe('same enclave key (RunOpened) and/or same result hash (RunClosed)'),
});

export const EvidenceSchema = z.strictObject({
  /** SHA-256 of the evidence bytes, as in RunOpened.evidenceHash and the journal. */
  hash: hex32,
  teeType,
  /** The evidence bytes (base64) when the exporter had them. */
  data: z.string().nullable().describe('the evidence bytes, base64, when exported with them'),
});

export const JournalEntrySchema = z.strictObject({
  seq: int,
  time: z.string(),
  prev: sha,
  record: z.json(),
  hash: sha,
});

export const UsageProofSchema = z.strictObject({
  format: z.literal(BUNDLE_FORMAT),
  version: z.literal(BUNDLE_VERSION),
  createdAt: z.string(),
  chainId: z.number().int().positive(),
  registry: address,
  datasetId: hex32,
  period: z.strictObject({ from: z.string().nullable(), to: z.string().nullable() }),
  /** The blocks the period covers: every relevant event in them is in `events`. */
  blockRange: z.strictObject({ from: int, to: int }),
  blocks: z.array(BlockSchema),
  receipts: z.array(ReceiptSchema),
  events: z.array(EventSchema),
  runs: z.array(RunSchema),
  /**
   * Runs of other datasets in the same enclave run as one of `runs` (a two-party run opens one
   * run per dataset with the same enclave key and closes them with the same result hash); their
   * events are in `events` with `linked: true`. Absent when there are none.
   */
  linkedRuns: z.array(LinkedRunSchema).optional(),
  evidence: z.array(EvidenceSchema),
  /** A contiguous excerpt of the key-release journal; null when none was given. */
  journal: z.strictObject({ prev: sha, entries: z.array(JournalEntrySchema) }).nullable(),
  /** What the audit flagged at export time (for people; not part of the verification). */
  anomalies: z.array(
    z.strictObject({ kind: z.string(), message: z.string(), runId: hex32.nullable() }),
  ),
});

export type UsageProof = z.infer<typeof UsageProofSchema>;
export type BundleBlock = z.infer<typeof BlockSchema>;
export type BundleReceipt = z.infer<typeof ReceiptSchema>;
export type BundleEvent = z.infer<typeof EventSchema>;
export type BundleRun = z.infer<typeof RunSchema>;
export type BundleLinkedRun = z.infer<typeof LinkedRunSchema>;

/** Event arguments in bundle form: bigint → decimal, hex lowercase, arrays kept. */
export function bundleArgs(args: Record<string, unknown>): Record<string, string | string[]> {
  const one = (v: unknown): string =>
    typeof v === 'bigint' || typeof v === 'number'
      ? v.toString()
      : typeof v === 'string'
        ? v.startsWith('0x')
          ? v.toLowerCase()
          : v
        : String(v);
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(args)) out[k] = Array.isArray(v) ? v.map(one) : one(v);
  return out;
}
