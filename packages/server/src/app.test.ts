import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDuetServer, type DuetServer } from './app.js';
import { loadConfig } from './config.js';

describe('HTTP edge', () => {
  let dir: string;
  let duet: DuetServer;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duet-app-'));
    const webDir = path.join(dir, 'web');
    fs.mkdirSync(webDir);
    fs.writeFileSync(path.join(webDir, 'index.html'), '<!doctype html><title>Duet</title>');
    const config = loadConfig({
      DATA_DIR: dir,
      LOG_LEVEL: 'silent',
      SESSION_RATE_LIMIT: '3',
      WEB_DIR: webDir,
      TURN_MODE: 'off',
      METRICS_TOKEN: 'scrape-token-0123456789',
    });
    duet = await createDuetServer(config, { sqliteFile: ':memory:' });
  });

  afterAll(async () => {
    await duet?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('limits guest creation per address, with a coded error', async () => {
    const post = () => duet.app.inject({ method: 'POST', url: '/api/session', payload: {} });
    for (let i = 0; i < 3; i++) expect((await post()).statusCode).toBe(200);
    const limited = await post();
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ error: { code: 'rate_limited' } });
  });

  it('rejects a malformed session body without creating anyone', async () => {
    const before = await duet.storage.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const res = await duet.app.inject({
      method: 'POST',
      url: '/api/session',
      payload: { token: 42, extra: true },
      remoteAddress: '192.0.2.10',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'invalid_request' } });
    const after = await duet.storage.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });

  it('serves the web app with a strict content security policy, and pages for client routes', async () => {
    const res = await duet.app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['permissions-policy']).toContain('camera=(self)');
    expect(res.headers['cache-control']).toBe('no-cache');
    const page = await duet.app.inject({ method: 'GET', url: '/admin', headers: { accept: 'text/html' } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<title>Duet</title>');
  });

  it('answers unknown API routes with a JSON 404', async () => {
    const res = await duet.app.inject({ method: 'GET', url: '/api/nope', headers: { accept: 'text/html' } });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: { code: 'not_found' } });
  });

  it('serves /metrics only to a scraper with the token, when one is configured', async () => {
    expect((await duet.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    const res = await duet.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer scrape-token-0123456789' } });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('duet_calls_total');
  });

  it('reports health', async () => {
    const res = await duet.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.json()).toEqual({
      status: 'ok',
      storage: 'sqlite',
      relay: { mode: 'off', state: 'off' },
      warnings: ['No TURN relay: some calls cannot connect.'],
      online: 0,
      waiting: 0,
      calls: 0,
    });
  });
});
