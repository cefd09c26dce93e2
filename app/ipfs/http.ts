// What the remote IPFS backends (kubo RPC, IPFS Cluster, pinning services) share over HTTP: the
// typed error for a backend that cannot be reached, and a CAR streamed as a multipart upload.
import { randomBytes } from 'node:crypto';
import { CustosError } from '../errors/index.ts';

/**
 * A backend's API root as given by a user, checked: an http(s) URL, without its trailing slash.
 * @throws UsageError naming `what` (e.g. "the kubo API address").
 */
export function apiRoot(value: string, what: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CustosError('UsageError', `not a URL: ${value}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new CustosError('UsageError', `${what} must be http(s): ${value}`);
  return url.toString().replace(/\/$/, '');
}

/**
 * The error for a request that got no answer: Cancelled when the caller aborted it, else
 * StorageUnavailable "`what` is unreachable (ECONNREFUSED)".
 */
export function unreachable(
  error: unknown,
  signal: AbortSignal | undefined,
  what: string,
  details: Record<string, string>,
): CustosError {
  if (signal?.aborted) return new CustosError('Cancelled', 'cancelled', { cause: error });
  const reason = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
  return new CustosError('StorageUnavailable', `${what} is unreachable (${reason})`, {
    cause: error,
    details,
  });
}

/** A CAR as the body of a `multipart/form-data` upload (one `file` part), streamed. */
export interface CarUpload {
  readonly body: ReadableStream<Uint8Array>;
  readonly contentType: string;
  /**
   * The failure of our own side while the CAR was read (a block missing or corrupt locally), if
   * any. It wins over the upload error it causes: the caller must learn the local copy is bad,
   * not that the backend is.
   */
  readonly sourceError: () => Error | undefined;
}

export function carUpload(car: AsyncIterable<Uint8Array>): CarUpload {
  const boundary = `custos-${randomBytes(12).toString('hex')}`;
  const head = new TextEncoder().encode(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="dataset.car"\r\n` +
      `Content-Type: application/vnd.ipld.car\r\n\r\n`,
  );
  const tail = new TextEncoder().encode(`\r\n--${boundary}--\r\n`);
  const iterator = car[Symbol.asyncIterator]();
  let stage: 'head' | 'body' | 'done' = 'head';
  let sourceError: Error | undefined;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (stage === 'head') {
        stage = 'body';
        controller.enqueue(head);
        return;
      }
      if (stage === 'done') return;
      let next: IteratorResult<Uint8Array>;
      try {
        next = await iterator.next();
      } catch (error) {
        sourceError = error instanceof Error ? error : new Error(String(error));
        controller.error(sourceError);
        return;
      }
      if (next.done) {
        stage = 'done';
        controller.enqueue(tail);
        controller.close();
      } else controller.enqueue(next.value);
    },
    async cancel() {
      await iterator.return?.();
    },
  });
  return {
    body,
    contentType: `multipart/form-data; boundary=${boundary}`,
    sourceError: () => sourceError,
  };
}
