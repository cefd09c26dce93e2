import { resolve } from 'node:path';
import { CustosError } from '../../errors/index.ts';
import { decryptFile, sodium } from '../../crypto/index.ts';
import { parseCommandLine, required, type Command } from '../command.ts';
import { progressLine } from '../io.ts';
import { openVault } from '../vault-access.ts';

const help = `usage: custos decrypt IN OUT --vault DIR

Decrypts container IN into a new file OUT. Exit 0 only if the whole container verified; on any
failure OUT is not created and one line says why (TamperedCiphertext, TruncatedCiphertext,
WrongKey, UnsupportedVersion, …).
`;

export const decrypt: Command = {
  help,
  async run(argv, io) {
    const { values, positionals } = parseCommandLine(argv, { vault: { type: 'string' } }, help);
    const [input, output, ...extra] = positionals;
    if (!input || !output || extra.length > 0)
      throw new CustosError('UsageError', `expected IN and OUT\n${help}`);
    const vault = await openVault(io, required(values.vault, 'vault'));
    const progress = progressLine(io, 'Decrypting');
    let total: number | undefined;
    try {
      const { header, plaintextBytes } = await decryptFile(
        { sodium: await sodium(), keyFor: (id) => vault.datasetKey(id) },
        resolve(input),
        resolve(output),
        {
          onStart: (n) => (total = n),
          onProgress: (n) => progress.update(n, total),
          signal: io.signal,
        },
      );
      progress.finish();
      io.stderr.write(`verified dataset ${header.datasetId}: ${plaintextBytes} bytes\n`);
      return 0;
    } finally {
      vault.lock();
    }
  },
};
