import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  plugins: [react()],
  resolve: {
    // Bundle the SDK and protocol from source: no separate build step, one module graph.
    alias: {
      '@duet/client': src('../../packages/client/src/index.ts'),
      '@duet/protocol': src('../../packages/protocol/src/index.ts'),
    },
  },
  // The screening classifier's worker is an ES module: its model weights can be their own chunk.
  worker: { format: 'es' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Source maps publish the whole client source: only when asked for (`SOURCEMAP=true npm run build`).
    sourcemap: process.env.SOURCEMAP === 'true',
    target: 'es2022',
    // Two pages: the people-facing app, and the insights console (its own bundle, with Chart.js).
    rolldownOptions: { input: { main: src('./index.html'), admin: src('./admin.html') } },
    // The face detector for the liveness check (human with TensorFlow.js, ~1.5 MB) is one chunk,
    // loaded only when someone opens the check; the pages themselves stay small.
    chunkSizeWarningLimit: 2_000,
  },
  server: {
    // `npm run dev -w apps/web` next to a running server (`npm start`) for hot reload.
    proxy: {
      '/api': 'http://localhost:8080',
      '/healthz': 'http://localhost:8080',
      '/ws': { target: 'ws://localhost:8080', ws: true },
    },
  },
});
