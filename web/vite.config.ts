// Builds the workbench into dist/web (`npm run build:web`; `cortical-rnn serve` builds it when
// missing). Every asset is emitted as a file, the engine's WGSL included (found through its
// `new URL('../../shaders/…', import.meta.url)`), and paths are relative, so the bundle works
// under any prefix and needs nothing from the network.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: './',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    assetsInlineLimit: 0,
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
  },
});
