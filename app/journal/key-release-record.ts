/**
 * What the key-release service writes to its journal for every decision — released or refused,
 * and why — and what the audit reads back. Hashes and public identifiers only: no key material,
 * nothing personal.
 */
import { z } from 'zod';
import { ERROR_TAGS } from '../errors/index.ts';

const hex32 = z.string().regex(/^0x[0-9a-f]{64}$/);
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/);

export const KeyReleaseRecordSchema = z.strictObject({
  kind: z.literal('key-release'),
  decision: z.enum(['released', 'refused']),
  /** Why it was refused (an error tag) — null when released. */
  reason: z.enum(ERROR_TAGS).nullable(),
  message: z.string().nullable(),
  /** Who asked (remote address of the request). */
  client: z.string(),
  chainId: z.number().int(),
  registry: address,
  grantId: hex32.nullable(),
  datasetId: hex32.nullable(),
  /** What the enclave's attestation says it runs (0x-hex, 32 bytes), when it was read. */
  measurement: hex32.nullable(),
  teeType: z.enum(['sgx', 'tdx', 'simulated']).nullable(),
  tcbStatus: z.string().nullable(),
  /** SHA-256 of the evidence bytes as presented (quote or simulated statement). */
  evidenceHash: hex32.nullable(),
  /** The enclave's result key (Ethereum address) and its X25519 key the dataset key is sealed to. */
  enclaveKey: address.nullable(),
  boxPublicKey: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable(),
  /** Set when released: the run the chain recorded before the key left. */
  runId: hex32.nullable(),
  txHash: hex32.nullable(),
  /**
   * Released: the block that recorded the run. Refused by the chain: the head block read just
   * after the refusal (the decision saw no later state). Otherwise null.
   */
  blockNumber: z.number().int().nullable(),
});

export type KeyReleaseRecord = z.infer<typeof KeyReleaseRecordSchema>;
