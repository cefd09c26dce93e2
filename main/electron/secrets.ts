/**
 * Pinning-service tokens in the OS keychain (Electron safeStorage): each token encrypted by the
 * keychain, one file of mode 0600 per token reference under `<userData>/secrets/`. Offered under
 * the same rule as "remember on this device" (no "basic_text" fallback on Linux); without it the
 * service seals tokens with the vault key instead (docs/decisions/004).
 */
import { safeStorage } from 'electron';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { SecretStore } from '../../app/service/index.ts';
import { writeFileAtomic } from '../../app/files/index.ts';
import { keychainAvailable } from './remember.ts';

export function safeStorageSecrets(userDataDir: string): SecretStore {
  const dir = join(userDataDir, 'secrets');
  // The reference is chosen by the service, but a file name is never built from text as given.
  const file = (ref: string): string =>
    join(dir, `${createHash('sha256').update(ref).digest('hex')}.bin`);
  return {
    available: keychainAvailable,
    async load(ref) {
      if (!keychainAvailable()) return null;
      const data = await readFile(file(ref)).catch(() => null);
      if (!data) return null;
      try {
        return safeStorage.decryptString(data);
      } catch {
        return null;
      }
    },
    async save(ref, secret) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeFileAtomic(file(ref), safeStorage.encryptString(secret), 0o600);
    },
    async clear(ref) {
      await rm(file(ref), { force: true });
    },
  };
}
