import type { TransactionLike, TypedDataDomain, TypedDataField } from 'ethers';

/** The EIP-712 `types` object, without EIP712Domain (derived from the domain). */
export type TypedDataTypes = Record<string, readonly TypedDataField[]>;

/**
 * Whoever signs a policy: a Ledger in production, a local key on the devnet. Signatures are
 * 65-byte hex (r ‖ s ‖ v, v = 27/28) for messages, a signed serialized transaction for transactions.
 */
export interface Signer {
  readonly kind: 'ledger' | 'dev';
  /** What the UI shows next to every signature ("Ledger …", "DEV KEY — devnet only"). */
  readonly label: string;
  /** The account's checksummed address; on a Ledger, confirmed on the device before first use. */
  address(): Promise<string>;
  /** EIP-712 signature of `message` of the primary type found in `types`. */
  signTypedData(
    domain: TypedDataDomain,
    types: TypedDataTypes,
    message: Record<string, unknown>,
  ): Promise<string>;
  /** Signs an unsigned transaction (chainId required) and returns it serialized with its signature. */
  signTransaction(tx: TransactionLike<string>): Promise<string>;
  /** EIP-191 personal_sign of text (UTF-8) or bytes. */
  signPersonalMessage(message: string | Uint8Array): Promise<string>;
}
