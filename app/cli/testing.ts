import type { Io } from './command.ts';

/**
 * An `Io` for tests: collects what a command writes, has no terminal (a passphrase prompt fails;
 * pass secrets in `env`), and is interrupted through `signal`.
 */
export function bufferIo(
  env: Record<string, string | undefined> = {},
  signal: AbortSignal = new AbortController().signal,
): Io & { out: () => string; err: () => string; clear: () => void } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (err += t), isTTY: false },
    env,
    signal,
    readSecret: () => Promise.reject(new Error('no terminal in tests')),
    out: () => out,
    err: () => err,
    clear: () => {
      out = '';
      err = '';
    },
  };
}
