import { resolve } from 'node:path';
import { CustosError } from '../../errors/index.ts';
import { cidOfFile, type CidVersion } from '../../ipfs/index.ts';
import { parseCommandLine, type Command } from '../command.ts';

const help = `usage: custos cid FILE [--cid-version 0|1]

Prints the IPFS content id of FILE, exactly as \`ipfs add -Q --cid-version=N FILE\` (kubo) prints it:
256 KiB chunks, balanced DAG with 174 links per node; raw leaves for CIDv1 (the default).
Nothing is stored or sent anywhere.
`;

/** Parses `--cid-version`; throws UsageError for anything but 0 or 1. */
export function parseCidVersion(value: string | undefined): CidVersion {
  if (value === undefined || value === '1') return 1;
  if (value === '0') return 0;
  throw new CustosError('UsageError', `--cid-version must be 0 or 1, not "${value}"`);
}

export const cid: Command = {
  help,
  async run(argv, io) {
    const { values, positionals } = parseCommandLine(
      argv,
      { 'cid-version': { type: 'string' } },
      help,
    );
    const [file, ...extra] = positionals;
    if (file === undefined || extra.length > 0)
      throw new CustosError('UsageError', `expected one FILE\n${help}`);
    const cidVersion = parseCidVersion(values['cid-version']);
    const root = await cidOfFile(resolve(file), { cidVersion }, io.signal);
    io.stdout.write(`${root.toString()}\n`);
    return 0;
  },
};
