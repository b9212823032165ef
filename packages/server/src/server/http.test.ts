import { Writable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { createHttp, securityHeaders, shedLoad, type LoadGauge } from './http.js';

describe('request log', () => {
  it('writes one line per API request when it is answered, secrets redacted, and none for other paths', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const { app } = await createHttp(loadConfig({ LOG_LEVEL: 'info', TURN_MODE: 'off' }), stream);
    app.post('/api/thing', async (_req, reply) => reply.code(201).send({ ok: true }));
    app.get('/page', async () => 'page');
    try {
      await app.inject({ method: 'POST', url: '/api/thing', headers: { authorization: 'Bearer secret-token' }, payload: {} });
      await app.inject({ method: 'GET', url: '/page' });
      const requests = lines.filter((l) => l.req !== undefined || l.res !== undefined);
      expect(requests).toHaveLength(1);
      expect(requests[0]).toMatchObject({ msg: 'request completed', req: { method: 'POST', url: '/api/thing' }, res: { statusCode: 201 } });
      expect(requests[0]!.responseTime).toEqual(expect.any(Number));
      expect(JSON.stringify(lines)).not.toContain('secret-token');
    } finally {
      await app.close();
    }
  });
});

describe('shedLoad: requests in flight', () => {
  let app: FastifyInstance;
  let gauge: LoadGauge;
  let base: string;
  let release: () => void = () => undefined;

  async function start(pending: number) {
    app = Fastify();
    gauge = shedLoad(app, { lagMs: 0, pending, retryAfterMs: 1_000 });
    const gate = new Promise<void>((r) => (release = r));
    app.get('/slow', async () => {
      await gate;
      return 'ok';
    });
    app.post('/api/session', async () => ({ ok: true }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  }

  afterEach(async () => {
    release();
    await app.close();
  });

  const until = async (check: () => boolean) => {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(check()).toBe(true);
  };

  it('refuses a new session while `pending` requests are in flight, and takes it once they are done', async () => {
    await start(2);
    const slow = [fetch(`${base}/slow`), fetch(`${base}/slow`)];
    await until(() => gauge.inFlight === 2);
    const refused = await fetch(`${base}/api/session`, { method: 'POST' });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^[12]$/);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('server_busy');
    release();
    await Promise.all(slow.map((p) => p.then((r) => r.text())));
    await until(() => gauge.inFlight === 0);
    expect((await fetch(`${base}/api/session`, { method: 'POST' })).status).toBe(200);
  });

  it('does not count a request whose client gave up after its answer is sent into the void', async () => {
    await start(100);
    await Promise.all(Array.from({ length: 10 }, () => fetch(`${base}/slow`, { signal: AbortSignal.timeout(50) }).catch(() => null)));
    release();
    await until(() => gauge.inFlight === 0);
  });
});

describe('securityHeaders', () => {
  it("is helmet's set plus the camera's permissions policy; HSTS only with TLS", async () => {
    const plain = await securityHeaders({ tls: undefined });
    expect(plain['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(plain['x-content-type-options']).toBe('nosniff');
    expect(plain['permissions-policy']).toBe('camera=(self), microphone=(self), geolocation=(), payment=()');
    expect(plain['strict-transport-security']).toBeUndefined();
    const tls = await securityHeaders({ tls: { certFile: 'c', keyFile: 'k' } });
    expect(tls['strict-transport-security']).toContain('max-age=15552000');
  });
});
