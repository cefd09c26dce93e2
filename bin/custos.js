#!/usr/bin/env node
// The `custos` command. Custos runs its TypeScript directly on Node ≥ 22.18 (type stripping).
// Called through npm/npx, PATH already puts the project's Node 22 first; called directly on an older
// system Node, re-run this file with the Node 22 that the project installs from the npm registry.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);

if (major > 22 || (major === 22 && minor >= 18)) {
  const cli = /** @type {{ main: (argv: string[]) => Promise<number> }} */ (
    await import(pathToFileURL(join(root, 'app/cli/main.ts')).href)
  );
  const { main } = cli;
  process.exitCode = await main(process.argv.slice(2));
} else {
  let node22;
  try {
    node22 = join(
      dirname(createRequire(import.meta.url).resolve('node/package.json')),
      'bin',
      'node',
    );
  } catch {
    node22 = join(root, 'node_modules', 'node', 'bin', 'node');
  }
  if (!existsSync(node22)) {
    process.stderr.write(
      `custos: needs Node ≥ 22.18 (found ${process.versions.node}); run \`npm install\` in ${root} first.\n`,
    );
    process.exit(2);
  }
  const child = spawn(node22, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'])
    process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}
