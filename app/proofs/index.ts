/**
 * Usage proofs: a versioned JSON bundle that shows, for one dataset and a period, every registry
 * event with its receipt, Merkle-Patricia proof and block header, the enclave-signed results, the
 * attestation evidence and the key-release journal excerpt — a verifier that recomputes all of it —
 * and a PDF report that carries the bundle as an attachment. See docs/proofs.md.
 */
export {
  BUNDLE_FORMAT,
  BUNDLE_VERSION,
  UsageProofSchema,
  type BundleBlock,
  type BundleEvent,
  type BundleReceipt,
  type BundleRun,
  type UsageProof,
} from './bundle.ts';
export { exportUsageProof, type ExportOptions } from './export.ts';
export {
  CHECKS,
  TrustedBlocksSchema,
  verifyUsageProof,
  type CheckName,
  type FailedEvent,
  type TrustedBlocks,
  type VerifyFailure,
  type VerifyOptions,
  type VerifyReport,
} from './verify.ts';
export { bundleFromPdf, usageProofPdf, PDF_ATTACHMENT_NAME } from './pdf.ts';
export { usageProofJsonSchema } from './schema.ts';
