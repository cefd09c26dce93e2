import { CustosError } from '../../errors/index.ts';
import { LedgerEmulator } from '../../signer/emulator/index.ts';
import { parseCommandLine, required, type Command } from '../command.ts';

const help = `usage: custos dev apdu --mnemonic "<words>" HEX [HEX …]

Developer tools.

  apdu   Sends the APDUs, in order, to one emulated Ledger running the Ethereum app (seeded from
         the BIP-39 mnemonic, every on-device prompt approved) and prints one line per APDU: the
         response data followed by the status word, lowercase hex, no prefix.
`;

function parseHex(arg: string): Uint8Array {
  const hex = arg.replace(/^0x/i, '');
  if (hex.length < 8 || hex.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(hex)) {
    throw new CustosError('UsageError', `not an APDU in hex: "${arg}"`);
  }
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

async function apdu(argv: readonly string[], io: Parameters<Command['run']>[1]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, { mnemonic: { type: 'string' } }, help);
  const mnemonic = required(values.mnemonic, 'mnemonic');
  if (positionals.length === 0)
    throw new CustosError('UsageError', `expected at least one HEX APDU\n${help}`);
  const apdus = positionals.map(parseHex);
  let device: LedgerEmulator;
  try {
    device = new LedgerEmulator({ mnemonic });
  } catch (error) {
    throw new CustosError('UsageError', `--mnemonic is not a valid BIP-39 mnemonic`, {
      cause: error,
    });
  }
  for (const bytes of apdus) {
    const response = await device.exchange(bytes);
    io.stdout.write(`${Buffer.from(response).toString('hex')}\n`);
  }
  return 0;
}

export const dev: Command = {
  help,
  async run(argv, io) {
    const [sub, ...rest] = argv;
    if (sub === 'apdu') return apdu(rest, io);
    throw new CustosError('UsageError', `unknown dev command "${sub ?? ''}"\n${help}`);
  },
};
