// In-memory sources and sinks for tests and vectors (not used by the product, which streams files).
import type { ByteSink, ByteSource } from '../container.ts';

/** Serves `bytes`, optionally in reads of at most `maxRead` bytes (to exercise short reads). */
export function memorySource(bytes: Uint8Array, maxRead = Number.POSITIVE_INFINITY): ByteSource {
  let at = 0;
  return {
    readFull(buffer) {
      let filled = 0;
      while (filled < buffer.length && at < bytes.length) {
        const n = Math.min(buffer.length - filled, bytes.length - at, maxRead);
        buffer.set(bytes.subarray(at, at + n), filled);
        at += n;
        filled += n;
      }
      return Promise.resolve(filled);
    },
  };
}

/** Collects everything written (copies: writers reuse their buffers). */
export function memorySink(): ByteSink & { bytes(): Uint8Array } {
  const parts: Uint8Array[] = [];
  return {
    write(bytes) {
      parts.push(new Uint8Array(bytes)); // a copy (Buffer#slice would be a view)
      return Promise.resolve();
    },
    bytes: () => Buffer.concat(parts),
  };
}
