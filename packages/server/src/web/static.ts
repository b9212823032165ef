import fs from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/**
 * Serves the built web app at `/`, with index.html for client-side routes such as `/admin`.
 * Hashed assets are cached for a year; index.html never, so a deploy takes effect at once.
 */
export async function serveWebApp(app: FastifyInstance, webDir: string | undefined): Promise<'served' | 'missing'> {
  if (!webDir || !fs.existsSync(path.join(webDir, 'index.html'))) {
    app.get('/', async (_req, reply) =>
      reply.code(503).type('text/plain').send('The web app is not built. Run `npm run build` (npm start does it for you).'),
    );
    return 'missing';
  }
  // The console is its own page (apps/web/admin.html), so people never download its charts.
  const hasAdmin = fs.existsSync(path.join(webDir, 'admin.html'));
  await app.register(fastifyStatic, {
    root: webDir,
    wildcard: false,
    cacheControl: false, // set below, per file
    setHeaders(res, filePath) {
      const immutable = filePath.includes(`${path.sep}assets${path.sep}`);
      res.setHeader('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  app.setNotFoundHandler((req, reply) => {
    // A missing file (an asset, a source map that was not built) is a 404, never the app's page.
    const pathname = req.url.split('?')[0]!;
    const isFile = pathname.startsWith('/assets/') || /\.[a-z0-9]+$/i.test(pathname);
    const wantsPage = req.method === 'GET' && !req.url.startsWith('/api/') && !isFile && (req.headers.accept ?? '').includes('text/html');
    if (wantsPage) {
      const page = hasAdmin && /^\/admin(\/|\?|$)/.test(req.url) ? 'admin.html' : 'index.html';
      return reply.header('cache-control', 'no-cache').sendFile(page);
    }
    return reply.code(404).send({ error: { code: 'not_found', message: `No route for ${req.method} ${req.url.split('?')[0]}` } });
  });
  return 'served';
}
