/**
 * Checks what a packaged Custos contains, without an Electron binary (none can be downloaded on
 * the build machines): builds with electron-vite, packs `linux-unpacked` with electron-builder
 * against a stand-in Electron that carries only the fuse wire (sentinel + Electron's default
 * fuses), then asserts:
 * - app.asar holds the built main, preload and renderer, and package.json points at the main;
 * - no source, test, map or stray file is packaged; node_modules is exactly the closure of the two
 *   sodium backends (everything else is bundled into main.js);
 * - every fuse was flipped as electron-builder.yml says.
 * Usage: node main/electron/check-package.ts
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);
const run = promisify(execFile);
const bin = (name: string): string => join(ROOT, 'node_modules', '.bin', name);

const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
// Electron's own defaults, in FuseV1Options order: RunAsNode, CookieEncryption, NODE_OPTIONS,
// --inspect, asar integrity, only-from-asar, browser V8 snapshot, file:// extra privileges.
const DEFAULT_WIRE = '10110001';
const EXPECTED_WIRE = '01001100';
const FUSE_NAMES = [
  'RunAsNode',
  'EnableCookieEncryption',
  'EnableNodeOptionsEnvironmentVariable',
  'EnableNodeCliInspectArguments',
  'EnableEmbeddedAsarIntegrityValidation',
  'OnlyLoadAppFromAsar',
  'LoadBrowserProcessSpecificV8Snapshot',
  'GrantFileProtocolExtraPrivileges',
];
const RUNTIME_MODULES = ['sodium-native', 'libsodium-wrappers-sumo'];

/** The packages a module needs at run time (its dependency closure, itself included). */
export function dependencyClosure(roots: readonly string[], root = ROOT): Set<string> {
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    const manifest = JSON.parse(
      readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8'),
    ) as { dependencies?: Record<string, string> };
    for (const dep of Object.keys(manifest.dependencies ?? {})) visit(dep);
  };
  roots.forEach(visit);
  return seen;
}

/** The problems with a packaged file list (paths inside app.asar, starting with '/'). */
export function packageProblems(
  files: readonly string[],
  allowedModules: ReadonlySet<string>,
): string[] {
  const problems: string[] = [];
  for (const required of [
    '/out/main/main.js',
    '/out/preload/preload.cjs',
    '/out/renderer/index.html',
    '/package.json',
  ]) {
    if (!files.includes(required)) problems.push(`missing ${required}`);
  }
  for (const file of files) {
    const parts = file.split('/').filter(Boolean);
    if (parts[0] === 'node_modules') {
      const name = parts[1]?.startsWith('@') ? `${parts[1]}/${parts[2] ?? ''}` : (parts[1] ?? '');
      if (!allowedModules.has(name)) problems.push(`unexpected module ${name} (${file})`);
      continue;
    }
    if (parts[0] === 'out') {
      if (/\.(ts|tsx|map)$/.test(file)) problems.push(`source or map packaged: ${file}`);
      continue;
    }
    if (file !== '/package.json') problems.push(`unexpected file ${file}`);
  }
  return [...new Set(problems)];
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'custos-pack-'));
  const env = { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: join(work, 'no-electron') };
  try {
    await run(bin('electron-vite'), ['build'], { cwd: ROOT, env, timeout: 300_000 });
    const standIn = join(work, 'electron-dist');
    await mkdir(standIn);
    await writeFile(join(standIn, 'electron'), `${SENTINEL}\x01\x08${DEFAULT_WIRE}`, {
      mode: 0o755,
    });
    const output = join(work, 'dist');
    await run(
      bin('electron-builder'),
      [
        '--linux',
        '--dir',
        '--config',
        'electron-builder.yml',
        `-c.electronDist=${standIn}`,
        `-c.directories.output=${output}`,
      ],
      { cwd: ROOT, env, timeout: 600_000, maxBuffer: 64 * 1024 * 1024 },
    );
    const unpacked = join(output, 'linux-unpacked');
    const asar = require('@electron/asar') as {
      listPackage(path: string, options?: object): string[];
      extractFile(path: string, file: string): Buffer;
      statFile(path: string, file: string): { files?: unknown; size?: number };
    };
    const archive = join(unpacked, 'resources', 'app.asar');
    const entries = asar.listPackage(archive, { isPack: false });
    const files = entries.filter((f) => asar.statFile(archive, f.slice(1)).files === undefined);
    const problems = packageProblems(files, dependencyClosure(RUNTIME_MODULES));
    const manifest = JSON.parse(asar.extractFile(archive, 'package.json').toString()) as {
      main?: string;
    };
    if (manifest.main !== 'out/main/main.js')
      problems.push(`package.json main is ${manifest.main}`);

    const binary = await readFile(join(unpacked, 'custos'), 'latin1');
    const at = binary.indexOf(SENTINEL) + SENTINEL.length;
    const wire = binary.slice(at + 2, at + 2 + binary.charCodeAt(at + 1));
    FUSE_NAMES.forEach((name, i) => {
      if (wire[i] !== EXPECTED_WIRE[i])
        problems.push(`fuse ${name} is ${wire[i]}, expected ${EXPECTED_WIRE[i]}`);
    });

    if (problems.length > 0) {
      process.stderr.write(
        `package check: ${problems.length} problem(s):\n${problems.join('\n')}\n`,
      );
      process.exitCode = 1;
    } else {
      process.stdout.write(
        `package check: ${files.length} files in app.asar, only the sodium backends in node_modules, fuses ${wire}\n`,
      );
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
