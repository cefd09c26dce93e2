import { resolve } from 'node:path';
import { CustosError } from '../../errors/index.ts';
import { createStaged } from '../../files/index.ts';
import { KDF_PRESETS, Vault, type KdfPreset } from '../../vault/index.ts';
import { parseCommandLine, required, type Command } from '../command.ts';
import { passphraseFrom } from '../vault-access.ts';

const help = `usage: custos init --vault DIR [--kdf interactive|moderate|sensitive] [--recovery-kit FILE]

Creates a vault in DIR. The passphrase comes from CUSTOS_PASSPHRASE when set, else it is asked
for twice. --kdf picks the Argon2id cost (default moderate: 3 passes, 256 MiB). --recovery-kit
writes a recovery kit to FILE at once; otherwise create one later with \`custos recovery export\`.
`;

export const init: Command = {
  help,
  async run(argv, io) {
    const { values, positionals } = parseCommandLine(
      argv,
      { vault: { type: 'string' }, kdf: { type: 'string' }, 'recovery-kit': { type: 'string' } },
      help,
    );
    if (positionals.length > 0)
      throw new CustosError('UsageError', `unexpected argument ${positionals[0]}\n${help}`);
    const dir = resolve(required(values.vault, 'vault'));
    const kdf = values.kdf ?? 'moderate';
    if (!(kdf in KDF_PRESETS))
      throw new CustosError(
        'UsageError',
        `--kdf must be one of ${Object.keys(KDF_PRESETS).join(', ')}`,
      );
    const passphrase = await passphraseFrom(io, 'CUSTOS_PASSPHRASE', 'New vault passphrase', true);
    const kitPath = values['recovery-kit'];
    // Refuse an existing kit path before creating anything.
    const kitFile = kitPath ? await createStaged(resolve(kitPath)) : undefined;
    try {
      const vault = await Vault.create(dir, passphrase, { kdf: kdf as KdfPreset });
      io.stdout.write(`vault created in ${dir} (vault id ${vault.vaultId})\n`);
      if (kitFile) {
        const kit = await vault.createRecoveryKit();
        await kitFile.write(new TextEncoder().encode(kit.text));
        await kitFile.promote();
        io.stdout.write(
          `recovery kit written to ${kitFile.destination} — print it and keep it offline\n`,
        );
      } else {
        io.stderr.write(
          'next: create a recovery kit with `custos recovery export --vault DIR --out FILE`\n',
        );
      }
      vault.lock();
      return 0;
    } finally {
      await kitFile?.discard();
    }
  },
};
