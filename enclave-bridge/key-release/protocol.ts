/**
 * The key-release protocol (docs/key-release.md): messages, and the report_data binding that ties
 * an attestation to one enclave's keys and one challenge.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';

export const PROTOCOL_VERSION = 'custos-key-release/1';
const BINDING_DOMAIN = new TextEncoder().encode('custos key release v1');

const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/);
const nonceHex = z.string().regex(/^[0-9a-f]{64}$/);
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);

export const ChallengeResponseSchema = z.strictObject({
  protocol: z.literal(PROTOCOL_VERSION),
  nonce: nonceHex,
  expiresAt: z.number().int(),
});
export type ChallengeResponse = z.infer<typeof ChallengeResponseSchema>;

export const ReleaseRequestSchema = z.strictObject({
  protocol: z.literal(PROTOCOL_VERSION),
  grantId: hex32,
  nonce: nonceHex,
  evidence: z.discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('dcap'),
      quote: base64,
      collateral: z.record(z.string(), z.unknown()).optional(),
    }),
    z.strictObject({ kind: z.literal('simulated'), evidence: base64 }),
  ]),
  enclave: z.strictObject({
    /** X25519 public key the dataset key is sealed to (crypto_box_seal), 32 bytes hex. */
    boxPublicKey: z.string().regex(/^[0-9a-f]{64}$/),
    /** Ethereum address of the enclave's secp256k1 result key (closes the run). */
    resultKey: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
  }),
});
export type ReleaseRequest = z.infer<typeof ReleaseRequestSchema>;

export const ReleaseResponseSchema = z.strictObject({
  protocol: z.literal(PROTOCOL_VERSION),
  runId: hex32,
  grantId: hex32,
  datasetId: hex32,
  /** The container's own dataset id (16 bytes hex) and the CID of the ciphertext on IPFS. */
  containerId: z.string().regex(/^[0-9a-f]{32}$/),
  cid: z.string(),
  txHash: hex32,
  blockNumber: z.number().int(),
  /** crypto_box_seal(dataset key, enclave.boxPublicKey), base64. */
  sealedKey: base64,
  /** Hash of the journal entry that recorded this release. */
  journalEntry: z.string().regex(/^[0-9a-f]{64}$/),
});
export type ReleaseResponse = z.infer<typeof ReleaseResponseSchema>;

export const ErrorResponseSchema = z.strictObject({
  ok: z.literal(false),
  error: z.strictObject({
    tag: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});

/**
 * The 64 bytes an enclave must put in its attestation's report_data:
 * SHA-512("custos key release v1" ‖ boxPublicKey (32) ‖ resultKey address (20) ‖ nonce (32)).
 * Evidence made for another key or another challenge does not match.
 */
export function bindingReportData(
  boxPublicKey: Uint8Array,
  resultKey: string,
  nonce: Uint8Array,
): Uint8Array {
  const address = Buffer.from(resultKey.replace(/^0x/, '').toLowerCase(), 'hex');
  return createHash('sha512')
    .update(BINDING_DOMAIN)
    .update(boxPublicKey)
    .update(address)
    .update(nonce)
    .digest();
}
