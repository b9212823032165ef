import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useTestServer } from './harness.js';

// A normal build publishes no source maps (apps/web/vite.config.ts: only with SOURCEMAP=true), and
// the server answers 404 for a map that is not there rather than the app's page. Runs against the
// built apps/web/dist (`npm run build`); skipped when the app is not built, except in CI, where
// `npm test` builds it first and a missing build must fail rather than pass unseen.

const dist = fileURLToPath(new URL('../../apps/web/dist', import.meta.url));
const built = existsSync(`${dist}/index.html`);

describe.skipIf(!built && !process.env.CI)('source maps in a production build', () => {
  const server = useTestServer();

  it('are not built, and /assets/*.map is 404', async () => {
    const assets = readdirSync(`${dist}/assets`);
    expect(assets.filter((f) => f.endsWith('.map'))).toEqual([]);
    const script = assets.find((f) => f.endsWith('.js'))!;
    const { httpUrl } = server();
    expect((await fetch(`${httpUrl}/assets/${script}`)).status).toBe(200);
    for (const name of [`${script}.map`, 'nothing-here.js.map']) {
      // Also for a browser asking for a page: a missing file is never answered with index.html.
      const res = await fetch(`${httpUrl}/assets/${name}`, { headers: { accept: 'text/html,*/*' } });
      expect(res.status, name).toBe(404);
    }
  });
});
