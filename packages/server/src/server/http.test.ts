import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { LoadGauge, securityHeaders, shedLoad } from './http.js';

describe('shedLoad: requests in flight', () => {
  let app: FastifyInstance;
  let gauge: LoadGauge;
  let base: string;
  let release: () => void = () => undefined;

  async function start(pending: number) {
    app = Fastify();
    gauge = shedLoad(app, { lagMs: 0, pending, retryAfterMs: 1_000, utilization: 0 });
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

describe('LoadGauge: the share of new sessions taken', () => {
  const busyFor = (gauge: LoadGauge, ticks: number, utilization: number) => {
    for (let i = 0; i < ticks; i++) gauge.observe(0, utilization);
  };

  it('falls while the loop stays busier than the limit, to 5 %, and climbs back once it is not', () => {
    const gauge = new LoadGauge(0.9);
    gauge.stop();
    busyFor(gauge, 3, 0.5);
    expect(gauge.newcomerShare).toBe(1);
    // One busy tick is not enough: the utilization is a moving average.
    busyFor(gauge, 1, 1);
    expect(gauge.newcomerShare).toBe(1);
    busyFor(gauge, 10, 1);
    expect(gauge.utilization).toBeGreaterThan(0.9);
    expect(gauge.newcomerShare).toBeLessThan(0.4);
    busyFor(gauge, 40, 1);
    expect(gauge.newcomerShare).toBe(LoadGauge.MIN_SHARE);
    // Between the limit and a tenth below it, the share holds.
    busyFor(gauge, 30, 0.85);
    expect(gauge.newcomerShare).toBe(LoadGauge.MIN_SHARE);
    busyFor(gauge, 40, 0.3);
    expect(gauge.newcomerShare).toBe(1);
  });

  it('never limits with no limit set, however busy the loop', () => {
    const gauge = new LoadGauge(0);
    gauge.stop();
    busyFor(gauge, 50, 1);
    expect(gauge.utilization).toBeGreaterThan(0.99);
    expect(gauge.newcomerShare).toBe(1);
  });

  it('refuses most new sessions at the lowest share, and nothing else', async () => {
    const app = Fastify();
    const gauge = new LoadGauge(0.9);
    gauge.stop();
    busyFor(gauge, 60, 1);
    shedLoad(app, { lagMs: 0, pending: 0, retryAfterMs: 1_000, utilization: 0.9 }, gauge);
    app.post('/api/session', async () => ({ ok: true }));
    app.post('/api/rules/accept', async () => ({ ok: true }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
      const sessions = await Promise.all(Array.from({ length: 40 }, () => fetch(`${base}/api/session`, { method: 'POST' })));
      const refused = sessions.filter((r) => r.status === 503).length;
      // Each is taken with probability 5 %: 10 or more of 40 taken would happen once in 100,000 runs.
      expect(refused).toBeGreaterThan(30);
      const accepts = await Promise.all(Array.from({ length: 10 }, () => fetch(`${base}/api/rules/accept`, { method: 'POST' })));
      expect(accepts.map((r) => r.status)).toEqual(Array(10).fill(200));
      busyFor(gauge, 40, 0.2);
      expect((await fetch(`${base}/api/session`, { method: 'POST' })).status).toBe(200);
    } finally {
      await app.close();
    }
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
