import { CustosError } from '../../errors/index.ts';
import { parseCommandLine, required, type Command } from '../command.ts';
import { openVault, passphraseFrom } from '../vault-access.ts';

const help = `usage: custos passphrase change --vault DIR

Changes the vault passphrase. The current one comes from CUSTOS_PASSPHRASE (or is asked for), the
new one from CUSTOS_NEW_PASSPHRASE (or is asked for twice). Dataset keys and encrypted files are
unchanged.
`;

export const passphrase: Command = {
  help,
  async run(argv, io) {
    const { values, positionals } = parseCommandLine(argv, { vault: { type: 'string' } }, help);
    if (positionals[0] !== 'change' || positionals.length !== 1)
      throw new CustosError('UsageError', help);
    const vault = await openVault(io, required(values.vault, 'vault'));
    try {
      await vault.changePassphrase(
        await passphraseFrom(io, 'CUSTOS_NEW_PASSPHRASE', 'New passphrase', true),
      );
    } finally {
      vault.lock();
    }
    io.stdout.write('passphrase changed\n');
    return 0;
  },
};
