/**
 * Ethereum's own encodings, recomputed here so a bundle can be checked without trusting a node:
 * block headers (RLP, hashed with keccak-256 into the block hash) and transaction receipts
 * (RLP, EIP-2718 typed), with Merkle-Patricia proofs of a receipt against `receiptsRoot`.
 */
import { verifyMerkleProof } from '@ethereumjs/mpt';
import { RLP } from '@ethereumjs/rlp';
import sha3 from 'js-sha3';
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
/** 0x-hex to bytes (much faster than ethers' getBytes on large inputs). @throws BundleMalformed */
export function bytes(hex: string): Uint8Array {
  if (!/^0x([0-9a-fA-F]{2})*$/.test(hex))
    throw new CustosError('BundleMalformed', `not 0x-hex bytes: ${hex.slice(0, 20)}`);
  return Buffer.from(hex.slice(2), 'hex');
}

/**
 * keccak-256 with js-sha3: ~6× faster than ethers' on receipt-sized inputs, which decides how long
 * a 10,000-event bundle takes to export and verify. The tests compare it with ethers'.
 */
export function keccak(data: Uint8Array): Uint8Array {
  return new Uint8Array(sha3.keccak256.arrayBuffer(data));
}

/** keccak-256 as 0x-hex. */
export function keccakHex(data: Uint8Array): string {
  return `0x${sha3.keccak256(data)}`;
}

const toHex = (b: Uint8Array): string =>
  `0x${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')}`;

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
  return keccakHex(RLP.encode(fields.map(bytes)));
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
      : bytes(receipt['root'] as string); // pre-Byzantium: the post-state root
  const logs = (receipt['logs'] as ReceiptLog[]).map((l) => [
    bytes(l.address),
    l.topics.map(bytes),
    bytes(l.data),
  ]);
  const body = RLP.encode([
    first,
    bytes(quantity(receipt['cumulativeGasUsed'] as string)),
    bytes(receipt['logsBloom'] as string),
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
        address: toHex(address),
        topics: topics.map(toHex),
        data: toHex(data),
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
 *
 * The trie is built in one pass from the sorted keys, hashing each node once (inserting receipts
 * one by one into @ethereumjs/mpt re-hashes the path on every insert, which dominated the export
 * of large blocks). The tests check its roots and proofs against @ethereumjs/mpt and anvil, and
 * the verifier checks proofs with @ethereumjs/mpt's independent code.
 */
export function proveReceipts(
  encoded: readonly Uint8Array[],
  wanted: readonly number[],
): { root: string; proofs: Map<number, string[]> } {
  const items = encoded.map((value, i) => ({ key: nibbles(receiptKey(i)), value, index: i }));
  items.sort((x, y) => compareNibbles(x.key, y.key));
  const want = new Set(wanted);
  const paths = new Map<number, Uint8Array[]>(wanted.map((i) => [i, []]));
  const root = buildNode(items, 0, want, paths);
  const rootEncoding = RLP.encode(root.node);
  const proofs = new Map<number, string[]>();
  for (const i of wanted) {
    const path = paths.get(i) ?? [];
    proofs.set(i, [toHex(rootEncoding), ...path.reverse().map(toHex)]);
  }
  return { root: keccakHex(rootEncoding), proofs };
}

type TrieItem = { key: number[]; value: Uint8Array; index: number };
type RlpNode = Uint8Array | RlpNode[];

function nibbles(key: Uint8Array): number[] {
  const out: number[] = [];
  for (const b of key) out.push(b >> 4, b & 15);
  return out;
}

function compareNibbles(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Hex-prefix encoding of a nibble path (yellow paper, appendix C). */
function hexPrefix(path: number[], leaf: boolean): Uint8Array {
  const odd = path.length % 2 === 1;
  const flag = (leaf ? 2 : 0) + (odd ? 1 : 0);
  const all = odd ? [flag, ...path] : [flag, 0, ...path];
  const out = new Uint8Array(all.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = (all[2 * i]! << 4) | all[2 * i + 1]!;
  return out;
}

/**
 * Builds the node for `items` (sorted, sharing the first `depth` nibbles). Returns the node and
 * how its parent refers to it (inline when its encoding is under 32 bytes, else its hash); the
 * encodings of hashed nodes on the way to a wanted key are pushed onto that key's path (deepest
 * first).
 */
function buildNode(
  items: TrieItem[],
  depth: number,
  want: Set<number>,
  paths: Map<number, Uint8Array[]>,
): { node: RlpNode; ref: RlpNode; wanted: number[] } {
  let node: RlpNode;
  let wanted: number[];
  const first = items[0]!;
  if (items.length === 1) {
    node = [hexPrefix(first.key.slice(depth), true), first.value];
    wanted = want.has(first.index) ? [first.index] : [];
  } else {
    const last = items[items.length - 1]!;
    let common = 0;
    while (
      depth + common < first.key.length &&
      depth + common < last.key.length &&
      first.key[depth + common] === last.key[depth + common]
    )
      common += 1;
    if (common > 0) {
      const child = buildNode(items, depth + common, want, paths);
      node = [hexPrefix(first.key.slice(depth, depth + common), false), child.ref];
      wanted = child.wanted;
    } else {
      const slots: RlpNode[] = Array.from({ length: 17 }, () => new Uint8Array());
      wanted = [];
      let start = 0;
      if (first.key.length === depth) {
        slots[16] = first.value;
        if (want.has(first.index)) wanted.push(first.index);
        start = 1;
      }
      while (start < items.length) {
        const nibble = items[start]!.key[depth]!;
        let end = start;
        while (end < items.length && items[end]!.key[depth] === nibble) end += 1;
        const child = buildNode(items.slice(start, end), depth + 1, want, paths);
        slots[nibble] = child.ref;
        wanted.push(...child.wanted);
        start = end;
      }
      node = slots;
    }
  }
  const encoding = RLP.encode(node);
  if (encoding.length < 32 && depth > 0) return { node, ref: node, wanted };
  if (depth > 0) for (const i of wanted) paths.get(i)?.push(encoding);
  return { node, ref: keccak(encoding), wanted };
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
  const nodes = proof.map(bytes);
  if (nodes.length === 0 || keccakHex(nodes[0]!) !== root.toLowerCase())
    throw new CustosError('ProofInvalid', 'the proof does not start at the block’s receiptsRoot');
  let value: Uint8Array | null;
  try {
    value = await verifyMerkleProof(receiptKey(txIndex), nodes, { useKeyHashingFunction: keccak });
  } catch (error) {
    throw new CustosError('ProofInvalid', 'the receipt proof does not verify', { cause: error });
  }
  if (!value) throw new CustosError('ProofInvalid', 'the proof shows no receipt at that index');
  return value;
}
