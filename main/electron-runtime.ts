/**
 * Finds an installed Electron binary without `require('electron')`, which would start downloading
 * one (the npm package fetches its binary lazily) — impossible on the build machines, and never
 * wanted as a side effect of `npm start` or a test.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The Electron executable in `node_modules/electron` (or ELECTRON_OVERRIDE_DIST_PATH), or null. */
export function installedElectron(root: string, env = process.env): string | null {
  const pkg = join(root, 'node_modules', 'electron');
  let relative = 'electron';
  try {
    relative = readFileSync(join(pkg, 'path.txt'), 'utf8').trim() || relative;
  } catch {
    if (!env.ELECTRON_OVERRIDE_DIST_PATH) return null;
  }
  const path = env.ELECTRON_OVERRIDE_DIST_PATH
    ? join(env.ELECTRON_OVERRIDE_DIST_PATH, relative)
    : join(pkg, 'dist', relative);
  return existsSync(path) ? path : null;
}
