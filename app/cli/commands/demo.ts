import { resolve } from 'node:path';
import { CustosError } from '../../errors/index.ts';
import { runDemo } from '../../demo/story.ts';
import { parseCommandLine, type Command } from '../command.ts';

const help = `usage: custos demo [--out DIR] [--patients N] [--ai]

Runs the Custos story on embedded defaults and tells it as it goes. --out keeps every artifact
(vault, dataset, container, recovery kit, result, usage proof) in DIR. --ai adds the AI chapter:\na model trained in the enclave, then an owner's encrypted model run on another owner's records.
`;

export const demo: Command = {
  help,
  async run(argv, io) {
    const { values, positionals } = parseCommandLine(
      argv,
      { out: { type: 'string' }, patients: { type: 'string' }, ai: { type: 'boolean' } },
      help,
    );
    if (positionals.length > 0) throw new CustosError('UsageError', help);
    const patients = values.patients === undefined ? undefined : Number(values.patients);
    if (patients !== undefined && !(Number.isInteger(patients) && patients > 0)) {
      throw new CustosError('UsageError', '--patients is a positive whole number');
    }
    await runDemo({
      ...(values.out ? { out: resolve(values.out) } : {}),
      ...(patients ? { patients } : {}),
      ai: values.ai === true,
      log: (line) => io.stdout.write(`${line}\n`),
    });
    return 0;
  },
};
