import { describe, expect, it } from 'vitest';
import { CustosError } from '../../app/errors/index.ts';
import { ChallengeBook } from './challenges.ts';
import { bindingReportData } from './protocol.ts';
import { RateLimiter } from './rate-limit.ts';
import { httpStatusOf } from './service.ts';

const tagOf = (f: () => unknown): string => {
  try {
    f();
    return 'no error';
  } catch (e) {
    return e instanceof CustosError ? e.tag : String(e);
  }
};

describe('challenges', () => {
  it('a nonce is 32 random bytes, spendable once', () => {
    const book = new ChallengeBook();
    const { nonce } = book.issue();
    expect(nonce).toMatch(/^[0-9a-f]{64}$/);
    expect(book.issue().nonce).not.toBe(nonce);
    expect(tagOf(() => book.spend(nonce))).toBe('no error');
    expect(tagOf(() => book.spend(nonce))).toBe('ChallengeUnknown');
  });

  it('an expired nonce is refused, and spent all the same', () => {
    let now = 1_000_000;
    const book = new ChallengeBook({ ttlMs: 1000, now: () => now });
    const { nonce, expiresAt } = book.issue();
    expect(expiresAt).toBe(now + 1000);
    now += 1000;
    expect(tagOf(() => book.spend(nonce))).toBe('ChallengeExpired');
    expect(tagOf(() => book.spend(nonce))).toBe('ChallengeUnknown');
  });

  it('holds at most maxOutstanding nonces: the oldest are forgotten first', () => {
    const book = new ChallengeBook({ maxOutstanding: 3 });
    const first = book.issue().nonce;
    const rest = [book.issue(), book.issue(), book.issue()].map((c) => c.nonce);
    expect(tagOf(() => book.spend(first))).toBe('ChallengeUnknown');
    for (const n of rest) expect(tagOf(() => book.spend(n))).toBe('no error');
  });
});

describe('rate limit', () => {
  it('a burst, then the steady rate, per client', () => {
    let now = 0;
    const limiter = new RateLimiter({ burst: 3, perSecond: 2, now: () => now });
    expect([1, 2, 3, 4].map(() => limiter.take('a'))).toEqual([true, true, true, false]);
    expect(limiter.take('b')).toBe(true);
    now += 500; // one token back at 2/s
    expect([limiter.take('a'), limiter.take('a')]).toEqual([true, false]);
  });
});

describe('report_data binding', () => {
  const box = new Uint8Array(32).fill(1);
  const key = '0x' + '22'.repeat(20);
  const nonce = new Uint8Array(32).fill(3);
  it('is 64 bytes and changes with each input', () => {
    const base = Buffer.from(bindingReportData(box, key, nonce)).toString('hex');
    expect(base).toHaveLength(128);
    expect(
      Buffer.from(bindingReportData(new Uint8Array(32).fill(9), key, nonce)).toString('hex'),
    ).not.toBe(base);
    expect(
      Buffer.from(bindingReportData(box, '0x' + '23'.repeat(20), nonce)).toString('hex'),
    ).not.toBe(base);
    expect(Buffer.from(bindingReportData(box, key, new Uint8Array(32))).toString('hex')).not.toBe(
      base,
    );
    // The address is compared by value, not by its checksum capitalisation.
    expect(
      Buffer.from(bindingReportData(box, key.toUpperCase().replace('0X', '0x'), nonce)).toString(
        'hex',
      ),
    ).toBe(base);
  });
});

describe('HTTP status of a refusal', () => {
  it.each([
    ['UsageError', 400],
    ['RateLimited', 429],
    ['RpcUnavailable', 503],
    ['GrantExpired', 403],
    ['AttestationInvalid', 403],
    ['Internal', 500],
  ] as const)('%s → %i', (tag, status) => expect(httpStatusOf(tag)).toBe(status));
});
