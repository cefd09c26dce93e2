/**
 * The `.custos` container: a streaming, chunked, authenticated encryption of one dataset file.
 * Byte layout and reasoning in docs/format.md; this file is its only implementation.
 */
import { CustosError } from '../errors/index.ts';
import {
  SECRETSTREAM_ABYTES,
  SECRETSTREAM_HEADERBYTES,
  TAG_FINAL,
  TAG_MESSAGE,
  type SodiumBackend,
} from './sodium.ts';

export const MAGIC = Uint8Array.of(0x89, 0x43, 0x55, 0x53, 0x54, 0x4f, 0x53, 0x0a); // "\x89CUSTOS\n"
export const FORMAT_VERSION = 1;
export const DATASET_ID_BYTES = 16;
export const DATASET_KEY_BYTES = 32;
export const COMMITMENT_BYTES = 32;
export const HEADER_BYTES =
  8 + 2 + 2 + 4 + DATASET_ID_BYTES + SECRETSTREAM_HEADERBYTES + COMMITMENT_BYTES; // 88
export const DEFAULT_CHUNK_SIZE = 1024 * 1024;
export const MIN_CHUNK_SIZE = 64;
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024;

const KDF_CONTEXT = 'CUSTOSv1';
const SUBKEY_STREAM = 1;
const SUBKEY_COMMIT = 2;
const COMMITMENT_LABEL = new TextEncoder().encode('custos container key commitment v1');

/** The parsed, not yet authenticated, container header. */
export interface ContainerHeader {
  readonly version: number;
  readonly chunkSize: number;
  /** 32 lowercase hex characters. */
  readonly datasetId: string;
  readonly streamHeader: Uint8Array;
  readonly commitment: Uint8Array;
  /** The 88 header bytes exactly as stored (authenticated with the first chunk). */
  readonly raw: Uint8Array;
}

/** Reads up to `buffer.length` bytes; returns fewer only at the end of the input. */
export interface ByteSource {
  readFull(buffer: Uint8Array): Promise<number>;
}

export interface ByteSink {
  write(bytes: Uint8Array): Promise<void>;
}

export interface StreamOptions {
  /** Called after each chunk with the plaintext bytes done so far. */
  readonly onProgress?: (plaintextBytes: number) => void;
  readonly signal?: AbortSignal;
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** The container's key commitment: proves the key belongs to this dataset before any output. */
function commitment(
  sodium: SodiumBackend,
  datasetKey: Uint8Array,
  datasetId: Uint8Array,
): Uint8Array {
  const commitKey = sodium.kdfDerive(32, SUBKEY_COMMIT, KDF_CONTEXT, datasetKey);
  const message = new Uint8Array(COMMITMENT_LABEL.length + datasetId.length);
  message.set(COMMITMENT_LABEL);
  message.set(datasetId, COMMITMENT_LABEL.length);
  const value = sodium.genericHash(COMMITMENT_BYTES, message, commitKey);
  sodium.memzero(commitKey);
  return value;
}

function streamKey(sodium: SodiumBackend, datasetKey: Uint8Array): Uint8Array {
  return sodium.kdfDerive(32, SUBKEY_STREAM, KDF_CONTEXT, datasetKey);
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i += 1) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CustosError('Cancelled', 'cancelled');
}

/**
 * Parses the fixed header. Throws `TruncatedCiphertext` (too short), `NotAContainer` (magic),
 * `UnsupportedVersion` (version or reserved flags), `MalformedContainer` (chunk size out of range).
 * Authenticity is established later: key commitment, then the first chunk (which authenticates
 * these bytes as associated data).
 */
export function parseHeader(bytes: Uint8Array): ContainerHeader {
  if (bytes.length < MAGIC.length) {
    if (bytes.every((b, i) => b === MAGIC[i]) && bytes.length > 0) {
      throw new CustosError('TruncatedCiphertext', 'the container ends inside its header');
    }
    throw new CustosError('NotAContainer', 'not a Custos container (no magic bytes)');
  }
  if (!MAGIC.every((b, i) => bytes[i] === b)) {
    throw new CustosError('NotAContainer', 'not a Custos container (no magic bytes)');
  }
  if (bytes.length < 12)
    throw new CustosError('TruncatedCiphertext', 'the container ends inside its header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(8);
  const flags = view.getUint16(10);
  if (version !== FORMAT_VERSION) {
    throw new CustosError(
      'UnsupportedVersion',
      `container format version ${version} is not supported (this Custos reads version ${FORMAT_VERSION})`,
      {
        details: { version },
      },
    );
  }
  if (flags !== 0) {
    throw new CustosError(
      'UnsupportedVersion',
      `container uses features this Custos does not know (flags 0x${flags.toString(16)})`,
      {
        details: { flags },
      },
    );
  }
  if (bytes.length < HEADER_BYTES)
    throw new CustosError('TruncatedCiphertext', 'the container ends inside its header');
  const chunkSize = view.getUint32(12);
  if (chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw new CustosError(
      'MalformedContainer',
      `chunk size ${chunkSize} is outside ${MIN_CHUNK_SIZE}..${MAX_CHUNK_SIZE}`,
      {
        details: { chunkSize },
      },
    );
  }
  const copy = (from: number, to: number): Uint8Array => new Uint8Array(bytes.subarray(from, to));
  const datasetId = copy(16, 32);
  const streamHeader = copy(32, 32 + SECRETSTREAM_HEADERBYTES);
  const commit = copy(56, 56 + COMMITMENT_BYTES);
  return {
    version,
    chunkSize,
    datasetId: hex(datasetId),
    streamHeader,
    commitment: commit,
    raw: copy(0, HEADER_BYTES),
  };
}

/** Reads and parses the header from the start of a source. */
export async function readHeader(source: ByteSource): Promise<ContainerHeader> {
  const bytes = new Uint8Array(HEADER_BYTES);
  const n = await source.readFull(bytes);
  return parseHeader(bytes.subarray(0, n));
}

export interface EncryptParams {
  readonly sodium: SodiumBackend;
  readonly datasetKey: Uint8Array;
  /** 32 lowercase hex characters (16 bytes). */
  readonly datasetId: string;
  readonly chunkSize?: number;
}

function datasetIdBytes(datasetId: string): Uint8Array {
  if (!/^[0-9a-f]{32}$/.test(datasetId)) {
    throw new CustosError('UsageError', 'a dataset id is 32 lowercase hex characters');
  }
  return Buffer.from(datasetId, 'hex');
}

/**
 * Encrypts `source` into `sink` as a container, in constant memory (two chunk buffers).
 * Returns the number of plaintext bytes. Throws `Cancelled` when `signal` aborts, and whatever the
 * source or sink throws (the caller removes partial output).
 */
export async function encryptStream(
  params: EncryptParams,
  source: ByteSource,
  sink: ByteSink,
  options: StreamOptions = {},
): Promise<number> {
  const { sodium, datasetKey } = params;
  const chunkSize = params.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw new CustosError(
      'UsageError',
      `chunk size must be within ${MIN_CHUNK_SIZE}..${MAX_CHUNK_SIZE}`,
    );
  }
  if (datasetKey.length !== DATASET_KEY_BYTES)
    throw new CustosError('UsageError', 'a dataset key is 32 bytes');
  const id = datasetIdBytes(params.datasetId);
  const key = streamKey(sodium, datasetKey);
  const { state, header: streamHeader } = sodium.secretstreamInitPush(key);
  sodium.memzero(key);

  const header = new Uint8Array(HEADER_BYTES);
  const view = new DataView(header.buffer);
  header.set(MAGIC, 0);
  view.setUint16(8, FORMAT_VERSION);
  view.setUint16(10, 0);
  view.setUint32(12, chunkSize);
  header.set(id, 16);
  header.set(streamHeader, 32);
  header.set(commitment(sodium, datasetKey, id), 56);
  await sink.write(header);

  // Pipelined: while chunk i is encrypted, chunk i+2 is being read and chunk i-1 written. Three
  // plaintext buffers, because chunk i is FINAL exactly when the read of chunk i+1 came back empty.
  const plain = [0, 1, 2].map(() => new Uint8Array(chunkSize));
  const writer = pipelinedWriter(sink, chunkSize + SECRETSTREAM_ABYTES);
  const lengths = [await source.readFull(plain[0]!), 0, 0];
  lengths[1] = lengths[0] === chunkSize ? await source.readFull(plain[1]!) : 0;
  let total = 0;
  try {
    for (let i = 0; ; i += 1) {
      checkAborted(options.signal);
      const length = lengths[i % 3]!;
      const nextLength = lengths[(i + 1) % 3]!;
      const final = nextLength === 0;
      const readAhead =
        nextLength === chunkSize ? source.readFull(plain[(i + 2) % 3]!) : Promise.resolve(0);
      readAhead.catch(() => undefined); // awaited below; this only keeps an early exit quiet
      const out = await writer.buffer();
      const ciphertext = sodium.secretstreamPush(
        state,
        plain[i % 3]!.subarray(0, length),
        i === 0 ? header : null,
        final ? TAG_FINAL : TAG_MESSAGE,
        out,
      );
      writer.write(ciphertext);
      total += length;
      options.onProgress?.(total);
      if (final) break;
      lengths[(i + 2) % 3] = await readAhead;
    }
    await writer.flush();
  } finally {
    for (const b of plain) b.fill(0);
  }
  return total;
}

/**
 * Writes in the background while the caller computes the next chunk: two output buffers, one being
 * written while the other is filled. Writes stay in order; the first failure is rethrown.
 */
function pipelinedWriter(sink: ByteSink, size: number) {
  const buffers = [new Uint8Array(size), new Uint8Array(size)];
  const pending: Promise<void>[] = [Promise.resolve(), Promise.resolve()];
  let tail: Promise<void> = Promise.resolve();
  let turn = 0;
  return {
    /** The next free output buffer (waits until its previous write finished). */
    async buffer(): Promise<Uint8Array> {
      await pending[turn % 2];
      return buffers[turn % 2]!;
    },
    write(bytes: Uint8Array): void {
      tail = tail.then(() => sink.write(bytes));
      tail.catch(() => undefined);
      pending[turn % 2] = tail;
      turn += 1;
    },
    flush: (): Promise<void> => tail,
    wipe(): void {
      for (const b of buffers) b.fill(0);
    },
  };
}

export interface DecryptParams {
  readonly sodium: SodiumBackend;
  /** Looks up the dataset key for the container's dataset id; throws `UnknownDataset` if absent. */
  readonly keyFor: (datasetId: string) => Promise<Uint8Array> | Uint8Array;
}

/**
 * Decrypts a container from `source` into `sink` in constant memory, verifying the key commitment
 * before any output, each chunk's authenticity and order, and the FINAL tag at the very end.
 * Returns the header and the plaintext length. Throws `WrongKey`, `TamperedCiphertext`,
 * `TruncatedCiphertext`, `TrailingData`, and the header errors of `parseHeader`. The sink may
 * have received verified chunks before a later chunk fails: callers write to a temporary file and
 * promote it only on success (see files.ts).
 */
export async function decryptStream(
  params: DecryptParams,
  source: ByteSource,
  sink: ByteSink,
  options: StreamOptions = {},
): Promise<{ header: ContainerHeader; plaintextBytes: number }> {
  const { sodium } = params;
  const header = await readHeader(source);
  const datasetKey = await params.keyFor(header.datasetId);
  if (
    !constantTimeEqual(
      commitment(sodium, datasetKey, Buffer.from(header.datasetId, 'hex')),
      header.commitment,
    )
  ) {
    throw new CustosError(
      'WrongKey',
      'the key does not match this container (key commitment differs)',
      {
        details: { datasetId: header.datasetId },
      },
    );
  }
  const key = streamKey(sodium, datasetKey);
  const state = sodium.secretstreamInitPull(header.streamHeader, key);
  sodium.memzero(key);

  const pieceSize = header.chunkSize + SECRETSTREAM_ABYTES;
  // Pipelined: piece i+1 is read and chunk i-1 written while piece i is decrypted.
  const pieces = [new Uint8Array(pieceSize), new Uint8Array(pieceSize)];
  const writer = pipelinedWriter(sink, header.chunkSize);
  let n = await source.readFull(pieces[0]!);
  let total = 0;
  try {
    for (let index = 0; ; index += 1) {
      checkAborted(options.signal);
      if (n === 0) {
        throw new CustosError(
          'TruncatedCiphertext',
          `the container ends after chunk ${index} without its final marker`,
          {
            details: { chunks: index },
          },
        );
      }
      if (n < SECRETSTREAM_ABYTES) {
        throw new CustosError('TruncatedCiphertext', `the container ends inside chunk ${index}`, {
          details: { chunk: index },
        });
      }
      const readAhead =
        n === pieceSize ? source.readFull(pieces[(index + 1) % 2]!) : Promise.resolve(0);
      readAhead.catch(() => undefined); // awaited below; this only keeps an early exit quiet
      const out = await writer.buffer();
      const result = sodium.secretstreamPull(
        state,
        pieces[index % 2]!.subarray(0, n),
        index === 0 ? header.raw : null,
        out,
      );
      if (!result || (result.tag !== TAG_MESSAGE && result.tag !== TAG_FINAL)) {
        throw new CustosError(
          'TamperedCiphertext',
          `chunk ${index} does not authenticate (modified, reordered or from another container)`,
          {
            details: { chunk: index },
          },
        );
      }
      if (result.tag === TAG_MESSAGE && n < pieceSize) {
        // Only the final chunk may be short; an authentic short MESSAGE chunk cannot be produced.
        throw new CustosError('TamperedCiphertext', `chunk ${index} is short but not final`, {
          details: { chunk: index },
        });
      }
      writer.write(result.message);
      total += result.message.length;
      options.onProgress?.(total);
      const nextLength = await readAhead;
      if (result.tag === TAG_FINAL) {
        if (nextLength !== 0) {
          throw new CustosError('TrailingData', 'data follows the container’s final chunk', {
            details: { chunks: index + 1 },
          });
        }
        break;
      }
      n = nextLength;
    }
    await writer.flush();
  } finally {
    writer.wipe();
  }
  return { header, plaintextBytes: total };
}

/** Generates a new random dataset id (16 bytes, as 32 lowercase hex characters). */
export function newDatasetId(sodium: SodiumBackend): string {
  return hex(sodium.randomBytes(DATASET_ID_BYTES));
}
