import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CustosError } from '../errors/index.ts';

/** Where a command reads and writes: the process, or a test's buffers. */
export interface Io {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean };
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Asks for a secret on the terminal without echo; fails with UsageError where there is none. */
  readSecret(prompt: string): Promise<string>;
  /** Aborted on Ctrl-C. */
  readonly signal: AbortSignal;
}

export interface Command {
  readonly help: string;
  run(argv: readonly string[], io: Io): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** `node:util` parseArgs, with its errors turned into `UsageError`. */
export function parseCommandLine<O extends Options>(
  argv: readonly string[],
  options: O,
  help: string,
) {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new CustosError('UsageError', `${(error as Error).message}\n${help}`.trimEnd());
  }
}

/** Reads a required string option, or throws UsageError naming it. */
export function required(value: string | boolean | undefined, name: string): string {
  if (typeof value !== 'string' || value === '')
    throw new CustosError('UsageError', `--${name} is required`);
  return value;
}
