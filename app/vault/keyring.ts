/**
 * The keyring file (`keyring.json` in the vault folder): format, parsing and the Argon2id bounds.
 * Layout and reasoning in docs/format.md ("Keyring").
 */
import { z } from 'zod';
import { CustosError } from '../errors/index.ts';

export const KEYRING_FORMAT = 'custos-keyring';
export const KEYRING_VERSION = 1;

/** Argon2id parameters a keyring may ask for. Below: too weak to protect a hospital's keys. Above: a denial of service. */
export const KDF_BOUNDS = {
  opslimit: { min: 2, max: 10 },
  memlimit: { min: 64 * 1024 * 1024, max: 1024 * 1024 * 1024 },
} as const;

/** Named presets (libsodium's). `moderate` is the default for new vaults. */
export const KDF_PRESETS = {
  interactive: { opslimit: 2, memlimit: 64 * 1024 * 1024 },
  moderate: { opslimit: 3, memlimit: 256 * 1024 * 1024 },
  sensitive: { opslimit: 4, memlimit: 1024 * 1024 * 1024 },
} as const;
export type KdfPreset = keyof typeof KDF_PRESETS;

const b64 = (bytes: number) =>
  z
    .string()
    .refine((s) => /^[A-Za-z0-9+/]*={0,2}$/.test(s) && Buffer.from(s, 'base64').length === bytes, {
      message: `expected ${bytes} bytes of base64`,
    });
const b64Any = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);
const hex32 = z.string().regex(/^[0-9a-f]{32}$/);

const Wrap = z.strictObject({ nonce: b64(24), ciphertext: b64(48) });

export const KeyringSchema = z.strictObject({
  format: z.literal(KEYRING_FORMAT),
  version: z.number().int(),
  vaultId: hex32,
  createdAt: z.string(),
  kdf: z.strictObject({
    algorithm: z.literal('argon2id13'),
    opslimit: z.number().int(),
    memlimit: z.number().int(),
    salt: b64(16),
  }),
  passphrase: Wrap,
  recovery: z
    .strictObject({ createdAt: z.string(), nonce: b64(24), ciphertext: b64(48) })
    .nullable(),
  datasets: z.array(
    z.strictObject({
      id: hex32,
      createdAt: z.string(),
      label: z.string().max(200),
      nonce: b64(24),
      wrappedKey: b64(48),
    }),
  ),
  mac: b64Any,
});

export type Keyring = z.infer<typeof KeyringSchema>;
export type KeyringBody = Omit<Keyring, 'mac'>;

/**
 * Parses keyring text. Throws `UnsupportedVersion` for another format version,
 * `KdfParametersOutOfBounds` for KDF parameters outside `KDF_BOUNDS` (checked before any Argon2
 * work), and `KeyringCorrupt` for anything else that does not parse.
 */
export function parseKeyring(text: string): Keyring {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CustosError(
      'KeyringCorrupt',
      'the keyring file is not valid JSON (damaged or half-written)',
      { cause: error },
    );
  }
  const version = (json as { version?: unknown } | null)?.version;
  if (typeof version === 'number' && version !== KEYRING_VERSION) {
    throw new CustosError('UnsupportedVersion', `keyring version ${version} is not supported`, {
      details: { version },
    });
  }
  const parsed = KeyringSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CustosError(
      'KeyringCorrupt',
      `the keyring file is damaged: ${issue?.path.join('.') || 'root'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  checkKdfBounds(parsed.data.kdf.opslimit, parsed.data.kdf.memlimit);
  return parsed.data;
}

/** Throws `KdfParametersOutOfBounds` unless both parameters are within `KDF_BOUNDS`. */
export function checkKdfBounds(opslimit: number, memlimit: number): void {
  const { opslimit: ops, memlimit: mem } = KDF_BOUNDS;
  if (opslimit < ops.min || memlimit < mem.min) {
    throw new CustosError(
      'KdfParametersOutOfBounds',
      `Argon2id parameters too weak (opslimit ${opslimit}, memlimit ${memlimit}); minimum is ${ops.min} and ${mem.min}`,
      {
        details: { opslimit, memlimit, problem: 'too-weak' },
      },
    );
  }
  if (opslimit > ops.max || memlimit > mem.max) {
    throw new CustosError(
      'KdfParametersOutOfBounds',
      `Argon2id parameters absurdly expensive (opslimit ${opslimit}, memlimit ${memlimit}); maximum is ${ops.max} and ${mem.max}`,
      {
        details: { opslimit, memlimit, problem: 'too-expensive' },
      },
    );
  }
}

/** The exact bytes the keyring MAC covers: the body's JSON with a fixed key order. */
export function macInput(body: KeyringBody): Uint8Array {
  const ordered: KeyringBody = {
    format: body.format,
    version: body.version,
    vaultId: body.vaultId,
    createdAt: body.createdAt,
    kdf: {
      algorithm: body.kdf.algorithm,
      opslimit: body.kdf.opslimit,
      memlimit: body.kdf.memlimit,
      salt: body.kdf.salt,
    },
    passphrase: { nonce: body.passphrase.nonce, ciphertext: body.passphrase.ciphertext },
    recovery: body.recovery && {
      createdAt: body.recovery.createdAt,
      nonce: body.recovery.nonce,
      ciphertext: body.recovery.ciphertext,
    },
    datasets: body.datasets.map((d) => ({
      id: d.id,
      createdAt: d.createdAt,
      label: d.label,
      nonce: d.nonce,
      wrappedKey: d.wrappedKey,
    })),
  };
  return new TextEncoder().encode(JSON.stringify(ordered));
}

/** Serialises a keyring for writing (pretty, so a steward can see what is in it: nothing secret in clear). */
export function serializeKeyring(keyring: Keyring): string {
  return `${JSON.stringify(keyring, null, 2)}\n`;
}
