/**
 * What the UI benchmarks share: the renderer built into the run's scratch folder (never into
 * out/renderer, which the e2e tests may be serving), the system Chromium driven by playwright-core
 * (the same browser and flags as e2e/playwright.config.ts), and medians.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

const ROOT = resolve(import.meta.dirname, '..');

/** Builds the renderer (vite, production) into `<scratch>/renderer` and returns that folder. */
export async function buildRenderer(scratch: string): Promise<string> {
  const outDir = join(scratch, 'renderer');
  await new Promise<void>((ok, fail) => {
    const child = spawn(
      join(ROOT, 'node_modules', '.bin', 'vite'),
      ['build', '-c', 'renderer.vite.config.ts', '--logLevel', 'warn', '--outDir', outDir],
      { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] },
    );
    child.on('error', fail);
    child.on('exit', (code) =>
      code === 0 ? ok() : fail(new Error(`vite build exited with ${code}`)),
    );
  });
  return outDir;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

export const round = (ms: number): number => Math.round(ms * 10) / 10;
