/**
 * A token bucket per client (by remote address): a burst, then a steady rate. A flood from one
 * client is refused early, before any attestation work or chain call.
 */
export class RateLimiter {
  readonly #capacity: number;
  readonly #perSecond: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(options: { burst?: number; perSecond?: number; now?: () => number } = {}) {
    this.#capacity = options.burst ?? 20;
    this.#perSecond = options.perSecond ?? 5;
    this.#now = options.now ?? Date.now;
  }

  /** Takes one token for `client`; false when its bucket is empty. */
  take(client: string): boolean {
    const now = this.#now();
    const b = this.#buckets.get(client) ?? { tokens: this.#capacity, at: now };
    b.tokens = Math.min(this.#capacity, b.tokens + ((now - b.at) / 1000) * this.#perSecond);
    b.at = now;
    this.#buckets.set(client, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    if (this.#buckets.size > 10_000)
      this.#buckets.delete(this.#buckets.keys().next().value ?? client);
    return true;
  }
}
