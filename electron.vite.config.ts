// The Electron build: main (ESM), preload (CommonJS — a sandboxed preload cannot be ESM, and it
// must be one self-contained file), and the same renderer the web host serves.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';
import { fileURLToPath } from 'node:url';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  main: {
    build: {
      outDir: here('./out/main'),
      // One bundle: only electron and the two sodium backends (a native addon, a WASM build) stay
      // outside, so the package ships those node_modules and nothing else.
      externalizeDeps: false,
      rollupOptions: {
        input: { main: here('./main/electron/main.ts') },
        external: ['electron', /^sodium-native/, /^libsodium-wrappers-sumo/],
        output: { format: 'es', entryFileNames: '[name].js' },
      },
    },
  },
  preload: {
    build: {
      outDir: here('./out/preload'),
      externalizeDeps: false,
      rollupOptions: {
        input: { preload: here('./main/electron/preload.ts') },
        external: ['electron'],
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: here('./renderer'),
    base: './',
    plugins: [react()],
    build: {
      outDir: here('./out/renderer'),
      minify: true,
      assetsInlineLimit: 0,
      modulePreload: { polyfill: false },
      rollupOptions: { input: { index: here('./renderer/index.html') } },
    },
  },
});
