import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installedElectron } from './electron-runtime.ts';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'custos-runtime-'));
  await mkdir(join(root, 'node_modules', 'electron'), { recursive: true });
});
afterEach(() => rm(root, { recursive: true, force: true }));

describe('installedElectron', () => {
  it('is null when the package has no downloaded binary', async () => {
    expect(installedElectron(root, {})).toBeNull();
    await writeFile(join(root, 'node_modules', 'electron', 'path.txt'), 'electron');
    expect(installedElectron(root, {})).toBeNull();
  });

  it('finds the binary named by path.txt, or under ELECTRON_OVERRIDE_DIST_PATH', async () => {
    await writeFile(join(root, 'node_modules', 'electron', 'path.txt'), 'electron');
    await mkdir(join(root, 'node_modules', 'electron', 'dist'));
    await writeFile(join(root, 'node_modules', 'electron', 'dist', 'electron'), '');
    expect(installedElectron(root, {})).toBe(
      join(root, 'node_modules', 'electron', 'dist', 'electron'),
    );
    expect(installedElectron(root, { ELECTRON_OVERRIDE_DIST_PATH: join(root, 'none') })).toBeNull();
    expect(
      installedElectron(root, {
        ELECTRON_OVERRIDE_DIST_PATH: join(root, 'node_modules', 'electron', 'dist'),
      }),
    ).toBe(join(root, 'node_modules', 'electron', 'dist', 'electron'));
  });
});
