import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CustosError, fromFsError } from '../../errors/index.ts';
import { createStaged } from '../../files/index.ts';
import { Vault, recoveryKeyFromKit } from '../../vault/index.ts';
import { parseCommandLine, required, type Command } from '../command.ts';
import { openVault, passphraseFrom } from '../vault-access.ts';

const help = `usage: custos recovery export --vault DIR [--out FILE]
       custos recovery restore --vault DIR [--kit FILE]

export   creates a new recovery kit (the previous one stops working) and writes it to FILE, or
         prints it. Needs the passphrase (CUSTOS_PASSPHRASE or asked for).
restore  opens the vault with the recovery key — from the kit FILE, CUSTOS_RECOVERY_KEY, or asked
         for — and sets a new passphrase (CUSTOS_NEW_PASSPHRASE or asked for twice).
`;

export const recovery: Command = {
  help,
  async run(argv, io) {
    const { values, positionals } = parseCommandLine(
      argv,
      { vault: { type: 'string' }, out: { type: 'string' }, kit: { type: 'string' } },
      help,
    );
    const [action, ...extra] = positionals;
    if (extra.length > 0 || (action !== 'export' && action !== 'restore'))
      throw new CustosError('UsageError', help);
    const dir = required(values.vault, 'vault');

    if (action === 'export') {
      const out = values.out ? await createStaged(resolve(values.out)) : undefined;
      try {
        const vault = await openVault(io, dir);
        try {
          const kit = await vault.createRecoveryKit();
          if (out) {
            await out.write(new TextEncoder().encode(kit.text));
            await out.promote();
            io.stdout.write(
              `recovery kit written to ${out.destination} — print it, keep it offline; the previous kit no longer works\n`,
            );
          } else {
            io.stdout.write(kit.text);
          }
        } finally {
          vault.lock();
        }
      } finally {
        await out?.discard();
      }
      return 0;
    }

    let key: string;
    if (values.kit) {
      const path = resolve(values.kit);
      key = recoveryKeyFromKit(
        await readFile(path, 'utf8').catch((e: unknown) => Promise.reject(fromFsError(e, path))),
      );
    } else {
      key = await passphraseFrom(io, 'CUSTOS_RECOVERY_KEY', 'Recovery key', false);
    }
    const vault = await Vault.openWithRecoveryKey(resolve(dir), key);
    try {
      await vault.changePassphrase(
        await passphraseFrom(io, 'CUSTOS_NEW_PASSPHRASE', 'New passphrase', true),
      );
    } finally {
      vault.lock();
    }
    io.stdout.write('vault restored: the new passphrase is set\n');
    return 0;
  },
};
