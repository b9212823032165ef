import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin, type Rollup } from 'vite';
import { cacheable } from './src/pwa/swPolicy.js';

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  plugins: [react(), serviceWorker()],
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

/** The public files of the shell (apps/web/public): the manifest and its icons. */
const PUBLIC_SHELL = [
  '/manifest.webmanifest',
  '/icon.svg',
  '/icons/icon-192.png',
  '/icons/icon-512.png',
  '/icons/icon-maskable-512.png',
  '/icons/apple-touch-icon.png',
];

/**
 * Builds src/pwa/sw.ts to /sw.js with this build's shell: the app page, its entry chunk and every
 * chunk, stylesheet and font it imports up front, its message catalogues (app and device, each
 * language) and the public icons. Not the console, not the chunks loaded on demand (the face
 * detector, the screening models), never anything swPolicy refuses. The version is a hash of all
 * of it, so any change to the shell is a new worker, which waits for the person's Update.
 */
function serviceWorker(): Plugin {
  return {
    name: 'duet-service-worker',
    apply: 'build',
    enforce: 'post',
    buildStart() {
      this.emitFile({ type: 'chunk', id: src('./src/pwa/sw.ts'), fileName: 'sw.js' });
    },
    generateBundle(_options, bundle) {
      const chunks = Object.values(bundle).filter((f): f is Rollup.OutputChunk => f.type === 'chunk');
      const main = chunks.find((c) => c.isEntry && c.name === 'main');
      const sw = bundle['sw.js'];
      if (!main || !sw || sw.type !== 'chunk') throw new Error('service worker: the main entry or sw.js is missing from the build');
      const files = new Set<string>();
      const visit = (c: Rollup.OutputChunk) => {
        if (files.has(c.fileName)) return;
        files.add(c.fileName);
        for (const css of c.viteMetadata?.importedCss ?? []) files.add(css);
        // Fonts and pictures the code imports; not workers (the screening classifier) or models.
        for (const asset of c.viteMetadata?.importedAssets ?? []) if (/\.(woff2?|ttf|otf|svg|png)$/i.test(asset)) files.add(asset);
        for (const name of c.imports) {
          const next = bundle[name];
          if (next?.type === 'chunk') visit(next);
        }
      };
      visit(main);
      for (const c of chunks) if (c.facadeModuleId && /\/src\/i18n\/(app|device)\/[a-z]+\.json$/.test(c.facadeModuleId)) visit(c);
      const shell = ['/', ...[...files].sort().map((f) => `/${f}`), ...PUBLIC_SHELL].filter((p) => cacheable(p));
      const hash = createHash('sha256');
      for (const p of shell) {
        const out = bundle[p.slice(1)];
        if (out) hash.update(p).update(out.type === 'chunk' ? out.code : out.source);
        else if (p !== '/') hash.update(p).update(fs.readFileSync(src(`./public${p}`)));
      }
      const html = bundle['index.html'];
      if (html?.type === 'asset') hash.update(html.source);
      hash.update(sw.code);
      const version = hash.digest('hex').slice(0, 12);
      sw.code = sw.code.replaceAll('__DUET_SW_VERSION__', JSON.stringify(version)).replaceAll('__DUET_SHELL__', JSON.stringify(shell));
    },
  };
}
