import { resolve } from 'node:path';
import { CustosError } from '../errors/index.ts';
import { Vault } from '../vault/index.ts';
import type { Io } from './command.ts';

/** The passphrase: `CUSTOS_PASSPHRASE` when set, else asked on the terminal (twice when `confirm`). */
export async function passphraseFrom(
  io: Io,
  variable: string,
  prompt: string,
  confirm: boolean,
): Promise<string> {
  const fromEnv = io.env[variable];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const first = await io.readSecret(`${prompt}: `);
  if (confirm) {
    const second = await io.readSecret('Type it again: ');
    if (first !== second) throw new CustosError('UsageError', 'the two passphrases differ');
  }
  return first;
}

/** Opens the vault named by `--vault` with the passphrase from the environment or the terminal. */
export async function openVault(io: Io, dir: string): Promise<Vault> {
  const passphrase = await passphraseFrom(io, 'CUSTOS_PASSPHRASE', 'Vault passphrase', false);
  return Vault.open(resolve(dir), passphrase);
}
