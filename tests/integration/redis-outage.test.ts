import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RedisPool } from '../../packages/server/src/matchmaking/redisPool.js';
import { createTestDatabase } from '../../packages/server/src/testing/postgres.js';
import { ticket } from '../../packages/server/src/testing/tickets.js';
import { captureLogs, OwnRedis, TestServer, type LogLine, type TestClient } from './harness.js';

/**
 * Redis goes away under people who are waiting, and comes back empty: each node keeps its waiting
 * people, says it is degraded meanwhile, puts them back in the shared pool with their original wait
 * once Redis answers again, and matches them — nobody presses anything. Nothing is logged as an
 * unhandled error, and the outage is one warning per node, not one per command.
 */
describe('the shared pool restarts empty', () => {
  let redis: OwnRedis;
  let n1: TestServer;
  let n2: TestServer;
  let dropDb: () => Promise<void>;
  const logs = { n1: captureLogs(), n2: captureLogs() };
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    // ioredis reports an error event nobody listens to on console.error.
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void consoleErrors.push(args.map(String).join(' ')));
    redis = await OwnRedis.start();
    const db = await createTestDatabase();
    dropDb = db.drop;
    const env = {
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      REDIS_PREFIX: 'duet-outage:{pool}:',
      DUET_SECRET: 'outage-test-secret-0123456789-abcdef',
      LOG_LEVEL: 'info',
      CLUSTER_HEARTBEAT_MS: '200',
      POOL_LEASE_MS: '1500',
      // Calls here never connect for real: keep them from timing out while a loaded machine catches up.
      CONNECT_TIMEOUT_MS: '60000',
    };
    n1 = await TestServer.start({ env: { ...env, NODE_ID: 'n1' }, create: { logStream: logs.n1.stream } });
    n2 = await TestServer.start({ env: { ...env, NODE_ID: 'n2' }, create: { logStream: logs.n2.stream } });
  });

  afterAll(async () => {
    await n1?.stop();
    await n2?.stop();
    await redis?.stop();
    await dropDb?.();
    vi.restoreAllMocks();
  });

  const health = async (s: TestServer) => {
    const res = await fetch(`${s.httpUrl}/healthz`);
    return { code: res.status, body: (await res.json()) as { status: string; pool?: string } };
  };
  const poolGauge = async (s: TestServer) => {
    const res = await s.duet.app.inject({ method: 'GET', url: '/metrics' });
    return /^duet_shared_pool_up (\d)$/m.exec(res.body)?.[1];
  };
  const join = async (c: TestClient, language: string) => {
    c.send({ type: 'join', language });
    await c.next('queued');
  };
  const until = async (what: string, ok: () => Promise<boolean>, ms = 10_000) => {
    const end = Date.now() + ms;
    while (!(await ok())) {
      if (Date.now() > end) throw new Error(`still not ${what} after ${ms} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  it('keeps the waiting people of each node and matches them once Redis is back, without a press', async () => {
    expect(await health(n1)).toEqual({ code: 200, body: expect.objectContaining({ status: 'ok', pool: 'shared' }) });
    expect(await poolGauge(n1)).toBe('1');

    // Waiting before the outage: nobody for them yet (different languages).
    const en1 = await n1.client('en1 (waiting on n1)');
    const de2 = await n2.client('de2 (waiting on n2)');
    await join(en1, 'en');
    await join(de2, 'de');
    await until('both in the shared pool', async () => n1.duet.lobby.waiting === 2 && n2.duet.lobby.waiting === 2);

    await redis.kill();
    for (const s of [n1, n2])
      await until(`degraded on ${s.config.cluster!.nodeId}`, async () => (await health(s)).body.status === 'degraded');
    expect(await health(n1)).toEqual({ code: 200, body: expect.objectContaining({ status: 'degraded', pool: 'unavailable' }) });
    expect(await poolGauge(n2)).toBe('0');

    // Their partners arrive during the outage, each on the other node: told they wait, nothing more.
    const de1 = await n1.client('de1 (arrives on n1 during the outage)');
    const en2 = await n2.client('en2 (arrives on n2 during the outage)');
    await join(de1, 'de');
    await join(en2, 'en');
    await new Promise((r) => setTimeout(r, 1_500));
    for (const c of [en1, de2, de1, en2]) {
      await c.roundTrip();
      expect(c.all('matched')).toEqual([]);
      expect(c.all('error')).toEqual([]);
    }

    await redis.start(); // empty
    const [m1, m2, m3, m4] = await Promise.all([en1, en2, de2, de1].map((c) => c.next('matched', () => true, 10_000)));
    expect(m1!.callId).toBe(m2!.callId);
    expect(m3!.callId).toBe(m4!.callId);
    // The one who waited longer offers: their original wait was kept.
    expect(m1!.role).toBe('offerer');
    expect(m3!.role).toBe('offerer');
    for (const s of [n1, n2]) await until(`ok on ${s.config.cluster!.nodeId}`, async () => (await health(s)).body.status === 'ok');
    expect(await health(n2)).toEqual({ code: 200, body: expect.objectContaining({ status: 'ok', pool: 'shared' }) });
    expect(await poolGauge(n1)).toBe('1');

    // Matching goes on as before the outage.
    const fr1 = await n1.client('fr1');
    const fr2 = await n2.client('fr2');
    await join(fr1, 'fr');
    await join(fr2, 'fr');
    const [f1, f2] = await Promise.all([fr1.next('matched'), fr2.next('matched')]);
    expect(f1.callId).toBe(f2.callId);
    for (const c of [en1, en2, de1, de2, fr1, fr2]) {
      await c.roundTrip();
      expect(c.all('matched')).toHaveLength(1);
    }

    expect(consoleErrors.filter((e) => e.includes('Unhandled error event'))).toEqual([]);
    for (const [node, { lines }] of Object.entries(logs)) {
      const cluster = (l: LogLine) => l.module === 'cluster';
      expect(
        lines.filter((l) => l.level >= 50).map((l) => l.msg),
        node,
      ).toEqual([]);
      expect(
        lines.filter((l) => cluster(l) && l.level === 40).map((l) => l.msg),
        node,
      ).toEqual([expect.stringContaining('unavailable')]);
      // One recovery line per outage. (A node starved of CPU may also miss its own heartbeat and say
      // so — "this node was missing from Redis … go back in the pool" — which is not an outage.)
      expect(
        lines.filter((l) => cluster(l) && l.level === 30 && l.msg?.startsWith('shared pool back')),
        node,
      ).toHaveLength(1);
    }
  });

  it('puts its waiting people back when Redis is emptied under it without dropping a connection', async () => {
    const it1 = await n1.client('it1 (waiting on n1)');
    await join(it1, 'it');
    await until('in the shared pool', async () => n2.duet.lobby.waiting >= 1);
    expect(await redis.command('FLUSHALL')).toBe('+OK');
    const it2 = await n2.client('it2 (arrives on n2 after the flush)');
    await join(it2, 'it');
    // n1 finds its alive key gone at its next beat, and puts it1 back with the wait it had.
    const [m1, m2] = await Promise.all([it1.next('matched'), it2.next('matched')]);
    expect(m1.callId).toBe(m2.callId);
    expect(m1.role).toBe('offerer');
    expect((await health(n1)).body.status).toBe('ok');
    expect(logs.n1.lines.filter((l) => l.level >= 50)).toEqual([]);
  });

  it('enters a waiting person again when a node claimed them and died before saying so', async () => {
    const pt1 = await n1.client('pt1 (waiting on n1)');
    await join(pt1, 'pt');
    await until('in the shared pool', async () => n2.duet.lobby.waiting >= 1);
    // A third node puts its person in the pool, claims pt1 for them, and dies before its `matched`.
    const commands = new Redis(redis.url);
    try {
      const dead = new RedisPool({ redis: commands, prefix: 'duet-outage:{pool}:', policy: n1.config.matchPolicy, leaseMs: 1500 });
      await dead.enqueue(ticket('ghost-on-a-dead-node', { language: 'pt', joinedAt: Date.now() }));
      const claimed = await dead.matchFor('ghost-on-a-dead-node', Date.now());
      if (!Array.isArray(claimed)) throw new Error(`the dead node claimed nobody: ${String(claimed)}`);
      expect(claimed.map((t) => t.userId).sort()).toEqual(['ghost-on-a-dead-node', pt1.userId].sort());
    } finally {
      commands.disconnect();
    }
    // n1 finds pt1's entry gone at two renewals running, with no call for them: in again, same wait.
    await until('entered again', async () => logs.n1.lines.some((l) => l.msg?.startsWith('claimed by a node that never said so')));
    const pt2 = await n2.client('pt2 (arrives on n2)');
    await join(pt2, 'pt');
    const [m1, m2] = await Promise.all([pt1.next('matched'), pt2.next('matched')]);
    expect(m1.callId).toBe(m2.callId);
    expect(m1.role).toBe('offerer');
    await pt1.roundTrip();
    expect(pt1.all('matched')).toHaveLength(1);
  });
});
