import { resolve } from 'node:path';
import { CustosError } from '../../errors/index.ts';
import { encryptFile, sodium } from '../../crypto/index.ts';
import { parseCommandLine, required, type Command } from '../command.ts';
import { progressLine } from '../io.ts';
import { openVault } from '../vault-access.ts';

const help = `usage: custos encrypt IN OUT --vault DIR [--label TEXT] [--chunk-size BYTES]

Encrypts file IN into a new container OUT with a new dataset key kept in the vault, and prints the
dataset id. OUT must not exist; it appears only when complete.
`;

export const encrypt: Command = {
  help,
  async run(argv, io) {
    const { values, positionals } = parseCommandLine(
      argv,
      { vault: { type: 'string' }, label: { type: 'string' }, 'chunk-size': { type: 'string' } },
      help,
    );
    const [input, output, ...extra] = positionals;
    if (!input || !output || extra.length > 0)
      throw new CustosError('UsageError', `expected IN and OUT\n${help}`);
    const chunkSize = values['chunk-size'] === undefined ? undefined : Number(values['chunk-size']);
    if (chunkSize !== undefined && !Number.isInteger(chunkSize))
      throw new CustosError('UsageError', '--chunk-size is a number of bytes');
    const vault = await openVault(io, required(values.vault, 'vault'));
    const s = await sodium();
    const { id } = await vault.addDataset(values.label ?? '');
    const progress = progressLine(io, 'Encrypting');
    let total: number | undefined;
    try {
      const key = vault.datasetKey(id);
      await encryptFile(
        {
          sodium: s,
          datasetKey: key,
          datasetId: id,
          ...(chunkSize === undefined ? {} : { chunkSize }),
        },
        resolve(input),
        resolve(output),
        {
          onStart: (n) => (total = n),
          onProgress: (n) => progress.update(n, total),
          signal: io.signal,
        },
      );
      s.memzero(key);
    } catch (error) {
      // No container was produced: the new key protects nothing, so it is dropped again.
      await vault.removeDataset(id).catch(() => undefined);
      throw error;
    } finally {
      progress.finish();
      vault.lock();
    }
    io.stdout.write(`${id}\n`);
    return 0;
  },
};
