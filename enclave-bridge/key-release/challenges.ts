/**
 * Challenge nonces: fresh, single-use, short-lived. An enclave asks for one, binds it into its
 * attestation's report data, and spends it in one release request. A nonce answered twice, too late,
 * or never issued is refused — that is what stops a recorded attestation from being replayed.
 */
import { randomBytes } from 'node:crypto';
import { CustosError } from '../../app/errors/index.ts';

export interface Challenge {
  /** 32 bytes, lowercase hex. */
  readonly nonce: string;
  /** Unix milliseconds after which the nonce is refused. */
  readonly expiresAt: number;
}

export class ChallengeBook {
  readonly #ttlMs: number;
  readonly #maxOutstanding: number;
  readonly #now: () => number;
  readonly #open = new Map<string, number>();

  constructor(options: { ttlMs?: number; maxOutstanding?: number; now?: () => number } = {}) {
    this.#ttlMs = options.ttlMs ?? 60_000;
    this.#maxOutstanding = options.maxOutstanding ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** Issues a new nonce. Expired nonces are forgotten; past `maxOutstanding` the oldest go first. */
  issue(): Challenge {
    const now = this.#now();
    for (const [nonce, expiresAt] of this.#open) {
      if (expiresAt <= now || this.#open.size >= this.#maxOutstanding) this.#open.delete(nonce);
      else break; // insertion order = expiry order
    }
    const nonce = randomBytes(32).toString('hex');
    const expiresAt = now + this.#ttlMs;
    this.#open.set(nonce, expiresAt);
    return { nonce, expiresAt };
  }

  /**
   * Spends a nonce: it can never be used again, whatever the outcome of the request.
   * Throws `ChallengeUnknown` (never issued, or already spent) or `ChallengeExpired`.
   */
  spend(nonce: string): void {
    const expiresAt = this.#open.get(nonce);
    if (expiresAt === undefined) {
      throw new CustosError(
        'ChallengeUnknown',
        'this challenge was not issued here or was already used',
      );
    }
    this.#open.delete(nonce);
    if (expiresAt <= this.#now())
      throw new CustosError('ChallengeExpired', 'the challenge expired before it was answered');
  }
}
