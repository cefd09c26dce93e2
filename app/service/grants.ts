/**
 * Grants and the address book, as the steward knows them: the chain holds the terms' hashes and
 * the state (runs used, revoked, the dataset's epoch); this vault keeps the words (grantee's local
 * name, purpose, legal basis, app names) in `grants.json` and `address-book.json` beside the
 * keyring, written atomically (0600). No key and no patient value lives here.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { Contact, Grant, type GrantState } from '../api/index.ts';
import { CustosError, fromFsError } from '../errors/index.ts';
import { writeFileAtomic } from '../files/index.ts';

/** A grant as stored: the API's Grant without the chain's live state, plus its network session. */
export const StoredGrant = Grant.omit({ state: true, runsUsed: true }).extend({
  session: z.string().max(100),
});
export type StoredGrant = z.output<typeof StoredGrant>;

const GrantsFile = z.object({
  format: z.literal('custos-grants'),
  version: z.literal(1),
  grants: z.array(StoredGrant),
});
const BookFile = z.object({
  format: z.literal('custos-address-book'),
  version: z.literal(1),
  contacts: z.array(Contact),
});

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    if (error instanceof SyntaxError)
      throw new CustosError('KeyringCorrupt', `${path} is not valid JSON`, { cause: error });
    throw fromFsError(error, path);
  }
}

export async function readGrants(dir: string): Promise<StoredGrant[]> {
  const json = await readJson(join(dir, 'grants.json'));
  if (json === null) return [];
  const parsed = GrantsFile.safeParse(json);
  if (!parsed.success)
    throw new CustosError('KeyringCorrupt', 'grants.json does not match its format');
  return parsed.data.grants;
}

export async function writeGrants(dir: string, grants: readonly StoredGrant[]): Promise<void> {
  const body = { format: 'custos-grants', version: 1, grants };
  await writeFileAtomic(join(dir, 'grants.json'), `${JSON.stringify(body, null, 2)}\n`);
}

export async function readContacts(dir: string): Promise<Contact[]> {
  const json = await readJson(join(dir, 'address-book.json'));
  if (json === null) return [];
  const parsed = BookFile.safeParse(json);
  if (!parsed.success)
    throw new CustosError('KeyringCorrupt', 'address-book.json does not match its format');
  return parsed.data.contacts;
}

/** Adds or renames a contact (addresses compared case-insensitively). */
export async function saveContact(dir: string, contact: Contact): Promise<void> {
  const others = (await readContacts(dir)).filter(
    (c) => c.address.toLowerCase() !== contact.address.toLowerCase(),
  );
  const body = {
    format: 'custos-address-book',
    version: 1,
    contacts: [...others, contact].sort((a, b) => a.name.localeCompare(b.name)),
  };
  await writeFileAtomic(join(dir, 'address-book.json'), `${JSON.stringify(body, null, 2)}\n`);
}

/** A week ahead, a grant is flagged (UX principle 5). */
export const EXPIRES_SOON_MS = 7 * 24 * 3600 * 1000;

/** The state the steward sees, from the chain's grant and dataset epoch and the clock. */
export function grantState(
  g: { notBefore: string; notAfter: string; maxRuns: number },
  chain: { revoked: boolean; epoch: bigint; datasetEpoch: bigint; runsUsed: number },
  now: number,
): GrantState {
  if (chain.revoked || chain.epoch !== chain.datasetEpoch) return 'revoked';
  if (chain.runsUsed >= g.maxRuns) return 'exhausted';
  const end = Date.parse(g.notAfter);
  if (now >= end) return 'expired';
  if (now < Date.parse(g.notBefore)) return 'scheduled';
  if (end - now <= EXPIRES_SOON_MS) return 'expires-soon';
  return 'active';
}
