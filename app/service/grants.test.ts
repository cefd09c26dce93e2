import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXPIRES_SOON_MS, grantState, readContacts, saveContact } from './grants.ts';

const day = 24 * 3600 * 1000;
const now = Date.parse('2026-11-22T12:00:00Z');
const terms = (fromDays: number, untilDays: number, maxRuns = 2) => ({
  notBefore: new Date(now + fromDays * day).toISOString(),
  notAfter: new Date(now + untilDays * day).toISOString(),
  maxRuns,
});
const live = { revoked: false, epoch: 0n, datasetEpoch: 0n, runsUsed: 0 };

describe('grantState', () => {
  it('active, expiring within a week, expired, scheduled', () => {
    expect(grantState(terms(-1, 30), live, now)).toBe('active');
    expect(grantState(terms(-1, EXPIRES_SOON_MS / day), live, now)).toBe('expires-soon');
    expect(grantState(terms(-30, -1), live, now)).toBe('expired');
    expect(grantState(terms(2, 30), live, now)).toBe('scheduled');
  });
  it('revoked one by one, or all at once by the dataset epoch; exhausted by runs', () => {
    expect(grantState(terms(-1, 30), { ...live, revoked: true }, now)).toBe('revoked');
    expect(grantState(terms(-1, 30), { ...live, datasetEpoch: 1n }, now)).toBe('revoked');
    expect(grantState(terms(-1, 30, 2), { ...live, runsUsed: 2 }, now)).toBe('exhausted');
  });
});

describe('address book', () => {
  it('adds, renames by address (any case) and keeps the file 0600', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'custos-book-'));
    try {
      const address = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
      await saveContact(dir, { address, name: 'Oncology Lab' });
      await saveContact(dir, { address: address.toLowerCase(), name: 'Oncology Lab, Lyon' });
      expect(await readContacts(dir)).toEqual([
        { address: address.toLowerCase(), name: 'Oncology Lab, Lyon' },
      ]);
      expect((await stat(join(dir, 'address-book.json'))).mode & 0o777).toBe(0o600);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
