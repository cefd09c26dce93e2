import { describe, expect, it } from 'vitest';
import { dependencyClosure, packageProblems } from './check-package.ts';

const BUILT = [
  '/out/main/main.js',
  '/out/preload/preload.cjs',
  '/out/renderer/index.html',
  '/package.json',
];

describe('package contents check', () => {
  it('knows the run-time closure of the sodium backends', () => {
    const closure = dependencyClosure(['sodium-native', 'libsodium-wrappers-sumo']);
    expect(closure).toContain('sodium-native');
    expect(closure).toContain('libsodium-sumo');
    expect(closure).not.toContain('zod');
  });

  it('passes the built app with allowed modules only', () => {
    expect(
      packageProblems(
        [...BUILT, '/node_modules/sodium-native/index.js'],
        new Set(['sodium-native']),
      ),
    ).toEqual([]);
  });

  it('flags missing entries, sources, maps, stray files and other modules', () => {
    const problems = packageProblems(
      [
        '/out/main/main.js',
        '/package.json',
        '/out/main/main.js.map',
        '/out/renderer/src/App.tsx',
        '/app/vault/vault.ts',
        '/node_modules/eslint/lib/api.js',
        '/node_modules/@types/node/index.d.ts',
      ],
      new Set(['sodium-native']),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        'missing /out/preload/preload.cjs',
        'missing /out/renderer/index.html',
        'source or map packaged: /out/main/main.js.map',
        'source or map packaged: /out/renderer/src/App.tsx',
        'unexpected file /app/vault/vault.ts',
        'unexpected module eslint (/node_modules/eslint/lib/api.js)',
        'unexpected module @types/node (/node_modules/@types/node/index.d.ts)',
      ]),
    );
  });
});
