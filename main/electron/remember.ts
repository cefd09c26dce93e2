/**
 * "Remember on this device" with Electron safeStorage: the passphrase encrypted by the OS keychain,
 * in a file of mode 0600 in the user-data folder. On Linux without a keyring, safeStorage falls
 * back to a hard-coded key ("basic_text"): the option is then not offered.
 */
import { safeStorage } from 'electron';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { RememberStore } from '../../app/service/index.ts';
import { writeFileAtomic } from '../../app/files/index.ts';

/** Whether the OS keychain really encrypts here (also used for pinning-service tokens). */
export const keychainAvailable = (): boolean =>
  safeStorage.isEncryptionAvailable() &&
  (process.platform !== 'linux' || safeStorage.getSelectedStorageBackend() !== 'basic_text');

export function safeStorageRemember(userDataDir: string): RememberStore {
  const path = join(userDataDir, 'remembered-passphrase.bin');
  const available = keychainAvailable;
  return {
    available,
    async load() {
      if (!available()) return null;
      const data = await readFile(path).catch(() => null);
      if (!data) return null;
      try {
        return safeStorage.decryptString(data);
      } catch {
        return null;
      }
    },
    async save(passphrase) {
      await writeFileAtomic(path, safeStorage.encryptString(passphrase), 0o600);
    },
    async clear() {
      await rm(path, { force: true });
    },
  };
}
