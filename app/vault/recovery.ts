/**
 * The recovery key: 32 random bytes plus a 2-byte checksum, written as 55 Crockford base32
 * characters in groups of five. Typos (a wrong, missing or swapped character) fail the checksum
 * before any unlocking is attempted.
 */
import { CustosError } from '../errors/index.ts';
import type { SodiumBackend } from '../crypto/index.ts';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const RECOVERY_SECRET_BYTES = 32;
const CHECKSUM_BYTES = 2;

function checksum(sodium: SodiumBackend, secret: Uint8Array): Uint8Array {
  return sodium.genericHash(16, secret).subarray(0, CHECKSUM_BYTES);
}

/** Encodes a recovery secret as the key a steward writes down. */
export function encodeRecoveryKey(sodium: SodiumBackend, secret: Uint8Array): string {
  const bytes = new Uint8Array([...secret, ...checksum(sodium, secret)]);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out.match(/.{1,5}/g)?.join('-') ?? out;
}

/**
 * Decodes a recovery key as typed (case, dashes and spaces ignored; O→0, I/L→1).
 * Throws `RecoveryKitInvalid` when it is malformed or its checksum fails.
 */
export function decodeRecoveryKey(sodium: SodiumBackend, typed: string): Uint8Array {
  const clean = typed.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  const expectedChars = Math.ceil(((RECOVERY_SECRET_BYTES + CHECKSUM_BYTES) * 8) / 5);
  if (clean.length !== expectedChars || [...clean].some((c) => !ALPHABET.includes(c))) {
    throw new CustosError(
      'RecoveryKitInvalid',
      `a recovery key is ${expectedChars} characters of 0-9 and A-Z (without I, L, O, U)`,
    );
  }
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (const c of clean) {
    value = (value << 5) | ALPHABET.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
    value &= (1 << bits) - 1;
  }
  const all = Uint8Array.from(bytes.slice(0, RECOVERY_SECRET_BYTES + CHECKSUM_BYTES));
  const secret = all.subarray(0, RECOVERY_SECRET_BYTES);
  const sum = checksum(sodium, secret);
  if (
    value !== 0 ||
    sum[0] !== all[RECOVERY_SECRET_BYTES] ||
    sum[1] !== all[RECOVERY_SECRET_BYTES + 1]
  ) {
    throw new CustosError(
      'RecoveryKitInvalid',
      'the recovery key has a typo (its checksum does not match)',
    );
  }
  return secret.slice();
}

/** The printable recovery kit. */
export function recoveryKitText(vaultId: string, createdAt: string, key: string): string {
  return [
    'CUSTOS RECOVERY KIT',
    '',
    `Vault id:      ${vaultId}`,
    `Created:       ${createdAt}`,
    `Recovery key:  ${key}`,
    '',
    'This key opens the vault if its passphrase is lost. Keep it offline — printed, in a safe —',
    'and apart from the computer. Anyone holding it and the vault folder can open the vault.',
    'Creating a new kit makes this one stop working.',
    '',
    'To restore:  custos recovery restore --vault <folder> --kit <this file>',
    '',
  ].join('\n');
}

/** Finds the recovery key in a kit file's text (or accepts a bare key). */
export function recoveryKeyFromKit(text: string): string {
  const line = text.split('\n').find((l) => l.startsWith('Recovery key:'));
  return (line ? line.slice('Recovery key:'.length) : text).trim();
}
