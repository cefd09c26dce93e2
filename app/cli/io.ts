import { CustosError } from '../errors/index.ts';
import type { Io } from './command.ts';

/** The process's own terminal and environment. */
export function processIo(): Io {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    signal: controller.signal,
    readSecret: (prompt) => readHidden(prompt),
  };
}

/** Reads one line from the terminal without echoing it. */
function readHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    return Promise.reject(
      new CustosError('UsageError', 'no terminal to ask for the passphrase: set CUSTOS_PASSPHRASE'),
    );
  }
  process.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let line = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (error?: Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(line);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new CustosError('Cancelled', 'cancelled at the prompt'));
        if (ch === '\u007f' || ch === '\b') line = line.slice(0, -1);
        else line += ch;
      }
    };
    stdin.on('data', onData);
  });
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** "1.5 GiB" */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${UNITS[unit]}`;
}

/**
 * A progress line on stderr (bytes, rate, time left), redrawn at most every 200 ms, and only when
 * stderr is a terminal: scripts and CI logs stay clean.
 */
export function progressLine(
  io: Io,
  label: string,
): {
  update(done: number, total?: number): void;
  finish(): void;
} {
  if (!io.stderr.isTTY) return { update: () => undefined, finish: () => undefined };
  const started = performance.now();
  let last = 0;
  let drawn = false;
  return {
    update(done, total) {
      const now = performance.now();
      if (now - last < 200) return;
      last = now;
      drawn = true;
      const seconds = (now - started) / 1000;
      const rate = seconds > 0 ? done / seconds : 0;
      const pct = total ? ` ${((100 * done) / Math.max(total, 1)).toFixed(0)}%` : '';
      const eta = total && rate > 0 ? `, ${Math.ceil((total - done) / rate)} s left` : '';
      const of = total ? ` of ${formatBytes(total)}` : '';
      io.stderr.write(
        `\r${label}${pct} ${formatBytes(done)}${of} (${formatBytes(rate)}/s${eta})   `,
      );
    },
    finish() {
      if (drawn) io.stderr.write('\n');
      drawn = false;
    },
  };
}
