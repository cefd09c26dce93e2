// Lint with type information, plus the process/trust boundaries of docs DESIGN "Layout":
//   app/ imports neither electron nor react; renderer/ imports no Node built-ins and no app runtime
//   (types only); only main/electron/ imports electron.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'node:*',
  'fs',
  'fs/*',
  'path',
  'os',
  'child_process',
  'crypto',
  'net',
  'http',
  'https',
  'stream',
  'stream/*',
  'util',
  'worker_threads',
  'zlib',
  'events',
  'url',
  'buffer',
  'process',
  'readline',
  'tls',
  'dns',
  'dgram',
  'cluster',
  'module',
  'vm',
  'assert',
  'v8',
  'perf_hooks',
];
const electron = {
  group: ['electron', 'electron/*'],
  message: 'Only main/electron/ may import electron.',
};
const react = {
  group: ['react', 'react/*', 'react-dom', 'react-dom/*'],
  message: 'app/ is UI-free: no react.',
};

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'out/**',
      'dist/**',
      'bench/results/**',
      'contracts/out/**',
      'contracts/cache/**',
      'contracts/lib/**',
      'docs/**',
      '**/*.generated.ts',
      'eslint.config.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['bin/*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // TypeScript checks names; no-undef knows no Node or DOM globals.
      'no-undef': 'off',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-restricted-imports': ['error', { patterns: [electron] }],
    },
  },
  {
    files: ['app/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            electron,
            react,
            {
              group: ['**/main/**', '**/renderer/**', '**/enclave-bridge/**'],
              message: 'app/ imports nothing of ours above it.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['enclave-bridge/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            electron,
            react,
            {
              group: ['**/main/**', '**/renderer/**'],
              message: 'enclave-bridge/ builds on app/ only.',
            },
          ],
        },
      ],
    },
  },
  {
    // The CLI commands and the demo are composition roots: they may wire enclave-bridge/ (still not
    // main/, renderer/).
    files: ['app/cli/commands/**/*.ts', 'app/demo/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            electron,
            react,
            {
              group: ['**/main/**', '**/renderer/**'],
              message: 'app/ imports nothing of ours above it.',
            },
          ],
        },
      ],
    },
  },
  {
    // The CLI shim imports the TypeScript entry by computed path: its module type is unknown to lint.
    files: ['bin/*.js'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  {
    files: ['main/electron/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.tsx'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins
            .filter((n) => !n.includes('*'))
            .map((name) => ({ name, message: 'renderer/ is unprivileged: no Node built-ins.' })),
          patterns: [
            electron,
            {
              group: ['node:*', 'fs/*', 'stream/*'],
              message: 'renderer/ is unprivileged: no Node built-ins.',
            },
            {
              group: ['**/app/**', '!**/app/api', '!**/app/api/**'],
              message: 'renderer/ may only import types from app/api.',
            },
            {
              group: ['**/app/api', '**/app/api/**'],
              allowTypeImports: true,
              message: 'renderer/ may only import *types* from app/api.',
            },
          ],
        },
      ],
    },
  },
);
