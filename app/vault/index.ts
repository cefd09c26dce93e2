export {
  KEYRING_FILE,
  MIN_PASSPHRASE_LENGTH,
  Vault,
  vaultExists,
  type RecoveryKit,
  type VaultDataset,
  type VaultOptions,
} from './vault.ts';
export { KDF_BOUNDS, KDF_PRESETS, parseKeyring, type KdfPreset, type Keyring } from './keyring.ts';
export { decodeRecoveryKey, encodeRecoveryKey, recoveryKeyFromKit } from './recovery.ts';
