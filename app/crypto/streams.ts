import type { ByteSink, ByteSource } from './container.ts';

/** A `readFull` source over any async iterable of byte chunks (an IPFS cat, an HTTP body). */
export function iterableSource(chunks: AsyncIterable<Uint8Array>): ByteSource {
  const iterator = chunks[Symbol.asyncIterator]();
  let pending: Uint8Array = new Uint8Array(0);
  let done = false;
  return {
    async readFull(buffer) {
      let filled = 0;
      while (filled < buffer.length) {
        if (pending.length === 0) {
          if (done) break;
          const next = await iterator.next();
          if (next.done) {
            done = true;
            break;
          }
          pending = next.value;
          continue;
        }
        const n = Math.min(pending.length, buffer.length - filled);
        buffer.set(pending.subarray(0, n), filled);
        pending = pending.subarray(n);
        filled += n;
      }
      return filled;
    },
  };
}

/**
 * A sink whose chunks are read as an async iterable by someone else, with back-pressure: a write
 * resolves when the reader took the chunk. `end()` lets the reader finish; `fail(error)` makes the
 * reader's iteration throw. Chunks are copied (writers reuse their buffers).
 */
export function channel(): {
  sink: ByteSink;
  end(): void;
  fail(error: unknown): void;
  chunks: AsyncIterable<Uint8Array>;
} {
  const queue: { bytes: Uint8Array; taken: () => void }[] = [];
  let finished = false;
  let failure: { error: Error } | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    wake?.();
    wake = undefined;
  };
  return {
    sink: {
      write(bytes) {
        if (failure) return Promise.reject(failure.error);
        return new Promise<void>((taken) => {
          queue.push({ bytes: new Uint8Array(bytes), taken });
          notify();
        });
      },
    },
    end() {
      finished = true;
      notify();
    },
    fail(error) {
      failure = { error: error instanceof Error ? error : new Error(String(error)) };
      notify();
    },
    chunks: {
      async *[Symbol.asyncIterator]() {
        for (;;) {
          if (failure) throw failure.error;
          const item = queue.shift();
          if (item) {
            item.taken();
            yield item.bytes;
            continue;
          }
          if (finished) return;
          await new Promise<void>((resolve) => (wake = resolve));
        }
      },
    },
  };
}
