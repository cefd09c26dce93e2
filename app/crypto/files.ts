import { createStaged, fileSource, openForReading } from '../files/index.ts';
import {
  decryptStream,
  encryptStream,
  type ByteSource,
  type ContainerHeader,
  type DecryptParams,
  type EncryptParams,
  type StreamOptions,
} from './container.ts';

export interface FileProgress extends StreamOptions {
  /** Called once with the input size before the first chunk. */
  readonly onStart?: (inputBytes: number) => void;
}

/**
 * Encrypts file `input` to a new container file `output`. The output appears only when complete;
 * on any failure (including `Cancelled`, `DiskFull`) nothing is left at `output`.
 * Throws `OutputExists` if `output` exists, `NotFound` if `input` does not.
 */
export async function encryptFile(
  params: EncryptParams,
  input: string,
  output: string,
  options: FileProgress = {},
): Promise<{ plaintextBytes: number }> {
  const reader = await openForReading(input);
  try {
    options.onStart?.((await reader.stat()).size);
    return await encryptToFile(params, fileSource(reader, input), output, options);
  } finally {
    await reader.close();
  }
}

/**
 * Encrypts what `source` yields (several files read as one, a network stream) to a new container
 * file `output`, with the same guarantees as `encryptFile`: complete or absent.
 */
export async function encryptToFile(
  params: EncryptParams,
  source: ByteSource,
  output: string,
  options: StreamOptions = {},
): Promise<{ plaintextBytes: number }> {
  const staged = await createStaged(output);
  try {
    const plaintextBytes = await encryptStream(params, source, staged, options);
    await staged.promote();
    return { plaintextBytes };
  } finally {
    await staged.discard();
  }
}

/**
 * Decrypts container file `input` to a new file `output`, which appears only after the whole
 * container verified (final marker included). On any failure nothing is left at `output`.
 * Throws the errors of `decryptStream`, plus `OutputExists` and `NotFound`.
 */
export async function decryptFile(
  params: DecryptParams,
  input: string,
  output: string,
  options: FileProgress = {},
): Promise<{ header: ContainerHeader; plaintextBytes: number }> {
  const reader = await openForReading(input);
  try {
    options.onStart?.((await reader.stat()).size);
    const staged = await createStaged(output);
    try {
      const result = await decryptStream(params, fileSource(reader, input), staged, options);
      await staged.promote();
      return result;
    } finally {
      await staged.discard();
    }
  } finally {
    await reader.close();
  }
}
