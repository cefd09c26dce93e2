/**
 * Ethereum's own encodings, recomputed here so a bundle can be checked without trusting a node:
 * block headers (RLP, hashed with keccak-256 into the block hash) and transaction receipts
 * (RLP, EIP-2718 typed), with Merkle-Patricia proofs of a receipt against `receiptsRoot`.
 */
import { createMPT, createMerkleProof, verifyMerkleProof } from '@ethereumjs/mpt';
import { RLP } from '@ethereumjs/rlp';
import { getBytes, hexlify, keccak256 } from 'ethers';
import { CustosError } from '../errors/index.ts';

/**
 * Header fields in consensus order. A block carries a prefix of this list: the fields after
 * `nonce` came with London, Shanghai, Cancun and Prague, and a node leaves out those its fork
 * does not have (anvil's default fork includes them all).
 */
export const HEADER_FIELDS = [
  'parentHash',
  'sha3Uncles',
  'miner',
  'stateRoot',
  'transactionsRoot',
  'receiptsRoot',
  'logsBloom',
  'difficulty',
  'number',
  'gasLimit',
  'gasUsed',
  'timestamp',
  'extraData',
  'mixHash',
  'nonce',
  'baseFeePerGas',
  'withdrawalsRoot',
  'blobGasUsed',
  'excessBlobGas',
  'parentBeaconBlockRoot',
  'requestsHash',
] as const;

/** Integer fields: RLP encodes them as minimal big-endian bytes (zero is the empty string). */
const QUANTITIES = new Set([
  'difficulty',
  'number',
  'gasLimit',
  'gasUsed',
  'timestamp',
  'baseFeePerGas',
  'blobGasUsed',
  'excessBlobGas',
]);

export const RECEIPTS_ROOT_INDEX = HEADER_FIELDS.indexOf('receiptsRoot');
export const NUMBER_INDEX = HEADER_FIELDS.indexOf('number');
export const TIMESTAMP_INDEX = HEADER_FIELDS.indexOf('timestamp');

function quantity(hex: string): string {
  const n = BigInt(hex);
  if (n === 0n) return '0x';
  const s = n.toString(16);
  return `0x${s.length % 2 ? '0' : ''}${s}`;
}

/** A JSON-RPC block (as `eth_getBlockByNumber` returns it) as its list of RLP header fields (hex). */
export function headerFieldsOf(block: Record<string, unknown>): string[] {
  const fields: string[] = [];
  for (const name of HEADER_FIELDS) {
    const value = block[name];
    if (typeof value !== 'string') break;
    fields.push(QUANTITIES.has(name) ? quantity(value) : value.toLowerCase());
  }
  if (fields.length < 15)
    throw new CustosError('BundleMalformed', 'the block is missing header fields', {
      details: { have: fields.length },
    });
  return fields;
}

/** keccak-256 of the RLP list of header fields: the block hash. */
export function headerHash(fields: readonly string[]): string {
  return keccak256(RLP.encode(fields.map((f) => getBytes(f))));
}

/** The integer value of a header field (number, timestamp …). */
export function headerQuantity(fields: readonly string[], index: number): number {
  const f = fields[index];
  if (f === undefined) throw new CustosError('BundleMalformed', `header has no field ${index}`);
  return f === '0x' ? 0 : Number(BigInt(f));
}

/** A log inside a receipt, in the shape RLP carries. */
export interface ReceiptLog {
  readonly address: string;
  readonly topics: readonly string[];
  readonly data: string;
}

/** A JSON-RPC receipt (`eth_getBlockReceipts`) encoded as consensus bytes: `type ‖ rlp(…)` or legacy `rlp(…)`. */
export function encodeReceipt(receipt: Record<string, unknown>): Uint8Array {
  const status = receipt['status'];
  const first =
    typeof status === 'string'
      ? BigInt(status) === 1n
        ? Uint8Array.of(1)
        : new Uint8Array()
      : getBytes(receipt['root'] as string); // pre-Byzantium: the post-state root
  const logs = (receipt['logs'] as ReceiptLog[]).map((l) => [
    getBytes(l.address),
    l.topics.map((t) => getBytes(t)),
    getBytes(l.data),
  ]);
  const body = RLP.encode([
    first,
    getBytes(quantity(receipt['cumulativeGasUsed'] as string)),
    getBytes(receipt['logsBloom'] as string),
    logs,
  ]);
  const type = Number(BigInt((receipt['type'] as string | undefined) ?? '0x0'));
  if (type === 0) return body;
  const out = new Uint8Array(body.length + 1);
  out[0] = type;
  out.set(body, 1);
  return out;
}

/** The logs of an encoded receipt. @throws BundleMalformed when the bytes are not a receipt. */
export function decodeReceiptLogs(encoded: Uint8Array): ReceiptLog[] {
  try {
    const body = encoded[0] !== undefined && encoded[0] < 0x80 ? encoded.subarray(1) : encoded;
    const decoded = RLP.decode(body) as unknown as [Uint8Array, Uint8Array, Uint8Array, unknown];
    if (!Array.isArray(decoded) || decoded.length !== 4 || !Array.isArray(decoded[3]))
      throw new Error('not a 4-item list');
    return (decoded[3] as [Uint8Array, Uint8Array[], Uint8Array][]).map(
      ([address, topics, data]) => ({
        address: hexlify(address),
        topics: topics.map((t) => hexlify(t)),
        data: hexlify(data),
      }),
    );
  } catch (error) {
    throw new CustosError('BundleMalformed', 'the receipt bytes are not an RLP receipt', {
      cause: error,
    });
  }
}

/** The trie key of the receipt at `txIndex`: rlp(txIndex). */
export function receiptKey(txIndex: number): Uint8Array {
  return RLP.encode(txIndex);
}

/**
 * Builds the receipts trie of one block and returns its root and a proof for each wanted index.
 * The root must equal the header's `receiptsRoot`.
 */
export async function proveReceipts(
  encoded: readonly Uint8Array[],
  wanted: readonly number[],
): Promise<{ root: string; proofs: Map<number, string[]> }> {
  const trie = await createMPT();
  for (let i = 0; i < encoded.length; i++) await trie.put(receiptKey(i), encoded[i]!);
  const proofs = new Map<number, string[]>();
  for (const i of wanted) {
    const proof = await createMerkleProof(trie, receiptKey(i));
    proofs.set(
      i,
      proof.map((n) => hexlify(n)),
    );
  }
  return { root: hexlify(trie.root()), proofs };
}

/**
 * Checks a Merkle-Patricia proof against a root and returns the proven value (the encoded receipt).
 * @throws ProofInvalid when the proof does not lead from `root` to a value under the key.
 */
export async function verifyReceiptProof(
  root: string,
  txIndex: number,
  proof: readonly string[],
): Promise<Uint8Array> {
  const nodes = proof.map((n) => getBytes(n));
  if (nodes.length === 0 || keccak256(nodes[0]!) !== root.toLowerCase())
    throw new CustosError('ProofInvalid', 'the proof does not start at the block’s receiptsRoot');
  let value: Uint8Array | null;
  try {
    value = await verifyMerkleProof(receiptKey(txIndex), nodes);
  } catch (error) {
    throw new CustosError('ProofInvalid', 'the receipt proof does not verify', { cause: error });
  }
  if (!value) throw new CustosError('ProofInvalid', 'the proof shows no receipt at that index');
  return value;
}
