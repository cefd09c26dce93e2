/**
 * The EIP-712 typed data the dataset owner signs (on a Ledger, or an ERC-1271 wallet such as a Safe)
 * and that anyone may relay to the `…WithSig` functions of the Custos registry contract, plus the
 * `RunResult` an enclave signs for `closeRun`. These definitions are the single source for the
 * app, the Ledger signer, the ERC-7730 descriptor and the Solidity type hashes (a test checks that
 * the contract's type hashes equal the ones computed from here). See docs/eip712.md.
 *
 * Conventions:
 * - every owner message carries `nonce` and `deadline` (unix seconds; the contract rejects it when
 *   `block.timestamp > deadline`). The nonce is sequential, so each signature is usable once, in
 *   order: for RegisterDataset it is the owner's account nonce (`nonces(owner)`); for every other
 *   message it is the dataset's nonce (`datasetNonce(datasetId)`, the grant's dataset for Revoke),
 *   so messages about different datasets do not wait on each other;
 * - the domain binds chain id and contract address, so a signature for one chain or one
 *   deployment fails on another;
 * - ids are `bytes32`: `datasetId = keccak256(abi.encode(registrant, containerId))` with its low
 *   8 bytes zeroed, where `containerId` is the 16-byte id of the `.custos` container; a grant id is
 *   its dataset id with the grant number (1, 2, …) in those 8 bytes; a run id is
 *   `keccak256(abi.encode(grantId, runIndex))` (see {@link datasetIdOf}, {@link grantIdOf},
 *   {@link runIdOf}).
 */
import { AbiCoder, keccak256, TypedDataEncoder, type TypedDataField } from 'ethers';

/** `name` of the EIP-712 domain. */
export const DOMAIN_NAME = 'Custos';
/** `version` of the EIP-712 domain. Bumped when a message type changes incompatibly. */
export const DOMAIN_VERSION = '1';

/** The EIP-712 domain of one deployment of the registry on one chain. */
export interface CustosDomain {
  readonly name: typeof DOMAIN_NAME;
  readonly version: typeof DOMAIN_VERSION;
  readonly chainId: bigint;
  readonly verifyingContract: string;
}

/** Builds the domain for the registry at `verifyingContract` on chain `chainId`. */
export function custosDomain(chainId: bigint | number, verifyingContract: string): CustosDomain {
  return {
    name: DOMAIN_NAME,
    version: DOMAIN_VERSION,
    chainId: BigInt(chainId),
    verifyingContract,
  };
}

/** The `EIP712Domain` type, for signers that want the full typed-data JSON (Ledger, eth_signTypedData_v4). */
export const EIP712_DOMAIN_TYPE = [
  { name: 'name', type: 'string' },
  { name: 'version', type: 'string' },
  { name: 'chainId', type: 'uint256' },
  { name: 'verifyingContract', type: 'address' },
] as const satisfies readonly TypedDataField[];

const nonceAndDeadline = [
  { name: 'nonce', type: 'uint256' },
  { name: 'deadline', type: 'uint256' },
] as const;

/**
 * Every message type, each a primary type of its own (no nested structs, so every Ledger that
 * clear-signs EIP-712 can show every field).
 */
export const CUSTOS_TYPES = {
  RegisterDataset: [
    { name: 'owner', type: 'address' },
    { name: 'containerId', type: 'bytes16' },
    { name: 'cid', type: 'bytes' },
    { name: 'ciphertextHash', type: 'bytes32' },
    { name: 'metadataHash', type: 'bytes32' },
    ...nonceAndDeadline,
  ],
  Grant: [
    { name: 'datasetId', type: 'bytes32' },
    { name: 'grantee', type: 'address' },
    { name: 'measurements', type: 'bytes32[]' },
    { name: 'notBefore', type: 'uint64' },
    { name: 'notAfter', type: 'uint64' },
    { name: 'maxRuns', type: 'uint32' },
    { name: 'purposeHash', type: 'bytes32' },
    { name: 'legalBasisHash', type: 'bytes32' },
    ...nonceAndDeadline,
  ],
  Revoke: [{ name: 'grantId', type: 'bytes32' }, ...nonceAndDeadline],
  RevokeAll: [{ name: 'datasetId', type: 'bytes32' }, ...nonceAndDeadline],
  Freeze: [{ name: 'datasetId', type: 'bytes32' }, ...nonceAndDeadline],
  Unfreeze: [{ name: 'datasetId', type: 'bytes32' }, ...nonceAndDeadline],
  SetOperator: [
    { name: 'datasetId', type: 'bytes32' },
    { name: 'operator', type: 'address' },
    ...nonceAndDeadline,
  ],
  TransferOwnership: [
    { name: 'datasetId', type: 'bytes32' },
    { name: 'newOwner', type: 'address' },
    ...nonceAndDeadline,
  ],
  /** Signed by the enclave's result key (not the owner): no nonce, the run id is used once. */
  RunResult: [
    { name: 'runId', type: 'bytes32' },
    { name: 'resultHash', type: 'bytes32' },
  ],
} as const satisfies Record<string, readonly TypedDataField[]>;

export type CustosPrimaryType = keyof typeof CUSTOS_TYPES;

/** Hex string with 0x prefix. */
type Hex = string;

interface Signed {
  /** The signer's next nonce, read from `nonces(owner)`. */
  readonly nonce: bigint;
  /** Unix seconds after which the signature is refused. */
  readonly deadline: bigint;
}

/** The values of each message type. Integers are bigint; bytes are 0x-prefixed hex. */
export interface CustosMessages {
  RegisterDataset: Signed & {
    readonly owner: string;
    /** 16 bytes: the container's dataset id. */
    readonly containerId: Hex;
    /** The binary CID of the ciphertext (multiformats `CID.bytes`). */
    readonly cid: Hex;
    readonly ciphertextHash: Hex;
    readonly metadataHash: Hex;
  };
  Grant: Signed & {
    readonly datasetId: Hex;
    readonly grantee: string;
    /** Enclave measurements (bytes32 each) the grant allows. */
    readonly measurements: readonly Hex[];
    /** Unix seconds, inclusive. */
    readonly notBefore: bigint;
    /** Unix seconds, exclusive: the window is [notBefore, notAfter). */
    readonly notAfter: bigint;
    readonly maxRuns: bigint;
    readonly purposeHash: Hex;
    readonly legalBasisHash: Hex;
  };
  Revoke: Signed & { readonly grantId: Hex };
  RevokeAll: Signed & { readonly datasetId: Hex };
  Freeze: Signed & { readonly datasetId: Hex };
  Unfreeze: Signed & { readonly datasetId: Hex };
  SetOperator: Signed & { readonly datasetId: Hex; readonly operator: string };
  TransferOwnership: Signed & { readonly datasetId: Hex; readonly newOwner: string };
  RunResult: { readonly runId: Hex; readonly resultHash: Hex };
}

/** The `types` argument of ethers' `signTypedData` for one primary type (no EIP712Domain). */
export function typesFor<P extends CustosPrimaryType>(
  primaryType: P,
): Record<string, TypedDataField[]> {
  return { [primaryType]: [...CUSTOS_TYPES[primaryType]] };
}

/** What a signer needs: `signer.signTypedData(domain, types, message)`. */
export interface TypedDataRequest<P extends CustosPrimaryType = CustosPrimaryType> {
  readonly primaryType: P;
  readonly domain: CustosDomain;
  readonly types: Record<string, TypedDataField[]>;
  readonly message: CustosMessages[P];
}

/** Bundles domain, types and message for one signature. */
export function typedData<P extends CustosPrimaryType>(
  primaryType: P,
  domain: CustosDomain,
  message: CustosMessages[P],
): TypedDataRequest<P> {
  return { primaryType, domain, types: typesFor(primaryType), message };
}

/** JSON-safe value: bigints become decimal strings. */
type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

function toJson(value: unknown): Json {
  if (typeof value === 'bigint') return value.toString(10);
  if (Array.isArray(value)) return value.map(toJson);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)]));
  }
  return value as Json;
}

/**
 * The full `eth_signTypedData_v4` JSON (with `EIP712Domain` and `primaryType`), as a Ledger's
 * `signEIP712Message` or a wallet's RPC expects it. Integers are decimal strings.
 */
export function typedDataJson(request: TypedDataRequest): {
  types: Record<string, { name: string; type: string }[]>;
  primaryType: string;
  domain: Record<string, Json>;
  message: Record<string, Json>;
} {
  return {
    types: { EIP712Domain: [...EIP712_DOMAIN_TYPE], ...request.types },
    primaryType: request.primaryType,
    domain: toJson(request.domain) as Record<string, Json>,
    message: toJson(request.message) as Record<string, Json>,
  };
}

/** The EIP-712 digest the signature covers (what `ecrecover` / ERC-1271 check on-chain). */
export function digestOf(request: TypedDataRequest): string {
  return TypedDataEncoder.hash(request.domain, request.types, request.message);
}

/** `keccak256(encodeType(primaryType))`, the Solidity `…_TYPEHASH` constant. */
export function typeHashOf(primaryType: CustosPrimaryType): string {
  return keccak256(
    new TextEncoder().encode(TypedDataEncoder.from(typesFor(primaryType)).encodeType(primaryType)),
  );
}

const abi = AbiCoder.defaultAbiCoder();

const GRANT_NUMBER_BITS = 64n;
const GRANT_NUMBER_MASK = (1n << GRANT_NUMBER_BITS) - 1n;

function toBytes32(value: bigint): string {
  return `0x${value.toString(16).padStart(64, '0')}`;
}

/**
 * The on-chain dataset id: `keccak256(abi.encode(address registrant, bytes16 containerId))` with
 * its low 8 bytes set to zero (they hold the grant number in grant ids). Binding the registrant
 * makes squatting impossible: a public container id registered by someone else yields another id.
 */
export function datasetIdOf(registrant: string, containerId: Hex): string {
  const hash = BigInt(keccak256(abi.encode(['address', 'bytes16'], [registrant, containerId])));
  return toBytes32(hash & ~GRANT_NUMBER_MASK);
}

/** The id of a dataset's grant number `number` (1, 2, …): the dataset id with the number in its low 8 bytes. */
export function grantIdOf(datasetId: Hex, number: bigint | number): string {
  const n = BigInt(number);
  if (n < 1n || n > GRANT_NUMBER_MASK) throw new RangeError(`grant number out of range: ${n}`);
  return toBytes32((BigInt(datasetId) & ~GRANT_NUMBER_MASK) | n);
}

/** The dataset a grant id belongs to, and the grant's number. */
export function splitGrantId(grantId: Hex): { datasetId: string; number: bigint } {
  const value = BigInt(grantId);
  return { datasetId: toBytes32(value & ~GRANT_NUMBER_MASK), number: value & GRANT_NUMBER_MASK };
}

/** The id of a grant's `index`-th run (0-based): `keccak256(abi.encode(grantId, index))`. */
export function runIdOf(grantId: Hex, index: bigint | number): string {
  return keccak256(abi.encode(['bytes32', 'uint256'], [grantId, index]));
}
