import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  APP_PATH,
  REPO_ROOT,
  collectBundle,
  importsOf,
  measurement,
  measurementOf,
} from './measurement.ts';

let dir: string | undefined;
afterAll(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));

/** A copy of just what the bundle needs, so files can be changed without touching the tree. */
async function copyTree(): Promise<string> {
  dir = await mkdtemp(join(tmpdir(), 'custos-measurement-'));
  const bundle = await collectBundle();
  for (const path of bundle.files.keys()) {
    await cp(join(REPO_ROOT, path), join(dir, path), { recursive: true });
  }
  await cp(join(REPO_ROOT, 'package-lock.json'), join(dir, 'package-lock.json'));
  return dir;
}

describe('measurement', () => {
  it('is a bytes32 hex string, stable across calls', async () => {
    const m = await measurement();
    expect(m).toMatch(/^0x[0-9a-f]{64}$/);
    expect(await measurement()).toBe(m);
  });

  it('covers every source file of the app, what they import, and the packages they use', async () => {
    const bundle = await collectBundle();
    const paths = [...bundle.files.keys()];
    for (const name of [
      'index.ts',
      'params.ts',
      'fhir.ts',
      'csv.ts',
      'cohort.ts',
      'suppression.ts',
      'text.ts',
      'measurement.ts',
    ]) {
      expect(paths).toContain(`${APP_PATH}/${name}`);
    }
    expect(paths).toContain('app/errors/index.ts');
    expect(paths).toContain('app/errors/explain.ts');
    expect(paths.filter((p) => p.endsWith('.test.ts'))).toEqual([]);
    const lock = JSON.parse(await readFile(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version: string; integrity: string }>;
    };
    const zod = lock.packages['node_modules/zod'];
    expect(bundle.packages.get('zod')).toBe(`${zod?.version ?? ''} ${zod?.integrity ?? ''}`);
  });

  it('changes when any byte of any bundled file changes', async () => {
    const bundle = await collectBundle();
    const reference = measurementOf(bundle);
    const seen = new Set([reference]);
    for (const [path, bytes] of bundle.files) {
      for (const at of [0, bytes.length >> 1, bytes.length - 1]) {
        const changed = Uint8Array.from(bytes);
        changed[at] = (changed[at] ?? 0) ^ 1;
        const files = new Map(bundle.files);
        files.set(path, changed);
        const m = measurementOf({ files, packages: bundle.packages });
        expect(seen.has(m), `${path} byte ${String(at)}`).toBe(false);
        seen.add(m);
      }
    }
    // The same bytes under another name.
    const renamed = new Map(bundle.files);
    const text = renamed.get(`${APP_PATH}/text.ts`) as Uint8Array;
    renamed.delete(`${APP_PATH}/text.ts`);
    renamed.set(`${APP_PATH}/text2.ts`, text);
    expect(measurementOf({ files: renamed, packages: bundle.packages })).not.toBe(reference);
    // A package upgrade changes it too.
    const packages = new Map(bundle.packages);
    packages.set('zod', '4.6.8 sha512-other');
    expect(measurementOf({ files: bundle.files, packages })).not.toBe(reference);
  });

  it('does not depend on the checkout location or on file order, only on paths and contents', async () => {
    const root = await copyTree();
    const reference = await measurement();
    expect(await measurement(root)).toBe(reference);
    const bundle = await collectBundle();
    const reversed = new Map([...bundle.files].reverse());
    expect(measurementOf({ files: reversed, packages: bundle.packages })).toBe(reference);
  });

  it('on disk: editing a code file or adding one changes it; a test file does not', async () => {
    const root = await copyTree();
    const reference = await measurement(root);

    const suppression = join(root, APP_PATH, 'suppression.ts');
    const original = await readFile(suppression, 'utf8');
    await writeFile(suppression, original.replace('count < rule.minCellSize', 'count < 3'));
    const edited = await measurement(root);
    expect(edited).not.toBe(reference);
    await writeFile(suppression, original);
    expect(await measurement(root)).toBe(reference);

    const errors = join(root, 'app/errors/explain.ts');
    const errorsText = await readFile(errors, 'utf8');
    await writeFile(errors, `${errorsText}\n`);
    expect(await measurement(root)).not.toBe(reference);
    await writeFile(errors, errorsText);

    await writeFile(join(root, APP_PATH, 'extra.ts'), 'export const x = 1;\n');
    expect(await measurement(root)).not.toBe(reference);
    await rm(join(root, APP_PATH, 'extra.ts'));

    await writeFile(join(root, APP_PATH, 'more.test.ts'), 'it.todo("x");\n');
    expect(await measurement(root)).toBe(reference);
  });

  it('reads static, type-only, re-export and dynamic imports', () => {
    expect(
      importsOf(
        [
          "import { a } from './a.ts';",
          "import type { B } from '../b.ts';",
          "export { c } from './c.ts';",
          "const d = await import('./d.ts');",
          "import 'side-effect';",
          'import { z } from "zod";',
        ].join('\n'),
      ),
    ).toEqual(['./a.ts', '../b.ts', './c.ts', './d.ts', 'side-effect', 'zod']);
  });
});
