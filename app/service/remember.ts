/**
 * "Remember on this device": the host may keep the vault passphrase encrypted by the operating
 * system's keychain (Electron `safeStorage`: Keychain, DPAPI, libsecret/kwallet). The service only
 * sees this interface; the loopback web host has none, so the option is not offered there.
 */
export interface RememberStore {
  /** Whether the OS offers real encryption here (on Linux, not the "basic_text" fallback). */
  available(): boolean;
  /** The remembered passphrase, or null. */
  load(): Promise<string | null>;
  save(passphrase: string): Promise<void>;
  clear(): Promise<void>;
}
