/**
 * The app's measurement: a SHA-256 over its code bundle, which is what a grant names. The bundle is
 * every source file of the app's folder (tests excluded), every file of ours they import (followed
 * transitively, e.g. app/errors), and the exact version and lockfile integrity of every npm package
 * they import. Change any of it and the measurement changes, so the grant no longer admits the app.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CustosError, fromFsError } from '../../../app/errors/index.ts';

/** The repository root the bundle's paths are relative to. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** The app's folder, relative to the repository root. */
export const APP_PATH = 'enclave-bridge/apps/cohort-stats';
/** Domain separation: bumped if the encoding below ever changes. */
export const MEASUREMENT_DOMAIN = 'custos-enclave-app-measurement/1';

export interface Bundle {
  /** Repository-relative path (forward slashes) → file bytes. */
  readonly files: ReadonlyMap<string, Uint8Array>;
  /** npm package name → `version integrity` from package-lock.json; `node:` modules → `builtin`. */
  readonly packages: ReadonlyMap<string, string>;
}

const isSource = (name: string): boolean => name.endsWith('.ts') && !name.endsWith('.test.ts');

async function listSources(root: string, dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(root, dir), { withFileTypes: true })) {
    const path = posix.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listSources(root, path)));
    else if (entry.isFile() && isSource(entry.name)) out.push(path);
  }
  return out;
}

/** Module specifiers a TypeScript source imports or re-exports (static and dynamic). */
export function importsOf(source: string): string[] {
  const specifiers: string[] = [];
  const pattern = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g;
  for (const match of source.matchAll(pattern)) if (match[1]) specifiers.push(match[1]);
  return specifiers;
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

/**
 * Collects the bundle from a source tree.
 * @throws CustosError `NotFound` / `FileSystemError` when a file cannot be read; `Internal` when an
 *   import leaves the tree or names a package missing from package-lock.json.
 */
export async function collectBundle(root: string = REPO_ROOT, appPath = APP_PATH): Promise<Bundle> {
  const files = new Map<string, Uint8Array>();
  const packages = new Map<string, string>();
  const read = async (path: string): Promise<Uint8Array> => {
    try {
      return await readFile(join(root, path));
    } catch (error) {
      throw fromFsError(error, path);
    }
  };
  let lock: { packages?: Record<string, { version?: string; integrity?: string }> } | undefined;

  const pending = await listSources(root, appPath);
  while (pending.length > 0) {
    const path = pending.pop() as string;
    if (files.has(path)) continue;
    const bytes = await read(path);
    files.set(path, bytes);
    for (const specifier of importsOf(new TextDecoder().decode(bytes))) {
      if (specifier.startsWith('.')) {
        const target = posix.normalize(posix.join(posix.dirname(path), specifier));
        if (target.startsWith('..')) {
          throw new CustosError('Internal', `${path} imports ${specifier}, outside the tree`);
        }
        pending.push(target);
      } else if (specifier.startsWith('node:')) {
        packages.set(specifier, 'builtin');
      } else {
        const name = packageName(specifier);
        if (packages.has(name)) continue;
        lock ??= JSON.parse(new TextDecoder().decode(await read('package-lock.json'))) as {
          packages?: Record<string, { version?: string; integrity?: string }>;
        };
        const entry = lock.packages?.[`node_modules/${name}`];
        if (entry?.version === undefined) {
          throw new CustosError('Internal', `${path} imports ${name}, not in package-lock.json`);
        }
        packages.set(name, `${entry.version} ${entry.integrity ?? 'no-integrity'}`);
      }
    }
  }
  return { files, packages };
}

/** SHA-256 over the bundle in canonical order, as a 0x-prefixed bytes32 hex string. */
export function measurementOf(bundle: Bundle): string {
  const hash = createHash('sha256');
  const text = (s: string): void => {
    hash.update(s, 'utf8');
  };
  text(`${MEASUREMENT_DOMAIN}\n`);
  const byPath = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  for (const path of [...bundle.files.keys()].sort(byPath)) {
    const bytes = bundle.files.get(path) as Uint8Array;
    text(`file ${path}\n${String(bytes.byteLength)}\n`);
    hash.update(bytes);
    text('\n');
  }
  for (const name of [...bundle.packages.keys()].sort(byPath)) {
    text(`package ${name} ${bundle.packages.get(name) ?? ''}\n`);
  }
  return `0x${hash.digest('hex')}`;
}

/**
 * The measurement of the cohort-stats app as it is in this tree (or in `root`).
 * @throws CustosError as {@link collectBundle}.
 */
export async function measurement(root: string = REPO_ROOT): Promise<string> {
  return measurementOf(await collectBundle(root));
}

/** Repository-relative form of an absolute path under `root` (for messages and tests). */
export function relativePath(root: string, path: string): string {
  return relative(root, path).split(sep).join('/');
}
