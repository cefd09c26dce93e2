import { z } from 'zod';
import { CustosError } from '../errors/index.ts';

/**
 * The storage part of a vault's settings: which remote backends receive a copy of each published
 * dataset. Tokens are not stored here: `tokenRef` names a secret the service keeps in the OS
 * keychain (like the remembered passphrase).
 */
const httpUrl = z
  .string()
  .max(2000)
  .refine((s) => {
    try {
      const u = new URL(s);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'must be an http(s) URL');

const name = z.string().trim().min(1).max(80);

export const StorageSettingsSchema = z
  .object({
    /** kubo nodes reached over their RPC API (a hospital's own IPFS node). */
    kubo: z
      .array(z.object({ name, apiUrl: httpUrl }))
      .max(10)
      .default([]),
    /** IPFS Pinning Service API endpoints. */
    pinningServices: z
      .array(z.object({ name, endpoint: httpUrl, tokenRef: z.string().min(1).max(200) }))
      .max(10)
      .default([]),
    /**
     * IPFS Clusters (a hospital network's pinset across sites): the CAR goes to `apiUrl`, and a
     * copy counts once `replicationMin` peers have it pinned. `user` + `tokenRef` (the password,
     * kept like a pinning service's token) when the REST API asks for basic auth.
     */
    clusters: z
      .array(
        z
          .object({
            name,
            apiUrl: httpUrl,
            replicationMin: z.number().int().min(1).max(50),
            replicationMax: z.number().int().min(1).max(50),
            user: z.string().min(1).max(100).optional(),
            tokenRef: z.string().min(1).max(200).optional(),
          })
          .refine((c) => c.replicationMin <= c.replicationMax, {
            message: 'replicationMin must not exceed replicationMax',
            path: ['replicationMax'],
          })
          .refine((c) => (c.user === undefined) === (c.tokenRef === undefined), {
            message: 'a user needs a password (tokenRef), and a password a user',
            path: ['user'],
          }),
      )
      .max(10)
      .default([]),
    /** CID version of new datasets (kubo `--cid-version`). */
    cidVersion: z.union([z.literal(0), z.literal(1)]).default(1),
    /** How long to wait for a pinning service before reporting PinTimeout, in seconds. */
    pinTimeoutSeconds: z.number().int().min(10).max(86_400).default(600),
  })
  .strict()
  .refine(
    (s) =>
      new Set([...s.kubo, ...s.pinningServices, ...s.clusters].map((b) => b.name)).size ===
      s.kubo.length + s.pinningServices.length + s.clusters.length,
    {
      message: 'backend names must be unique',
    },
  );

export type StorageSettings = z.infer<typeof StorageSettingsSchema>;

/**
 * Parses stored or user-entered storage settings.
 * @throws CustosError UsageError naming the first invalid field.
 */
export function parseStorageSettings(value: unknown): StorageSettings {
  const parsed = StorageSettingsSchema.safeParse(value ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') || 'storage settings';
    throw new CustosError('UsageError', `${where}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}
