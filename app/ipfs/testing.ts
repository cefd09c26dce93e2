// Helpers shared by the app/ipfs tests.

/** What `promise` rejected with; an Error saying so when it resolved instead. */
export function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => new Error('expected a failure'),
    (e: unknown) => e,
  );
}

/** Every chunk of `source`, as one buffer. */
export async function collect(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of source) parts.push(p);
  return Buffer.concat(parts);
}
