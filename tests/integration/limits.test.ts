import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../packages/server/src/testing/postgres.js';
import { connectRedis, TEST_REDIS_URL, testPrefix } from '../../packages/server/src/testing/redis.js';
import { PERSON_LIMITS } from '../../packages/server/src/safety/limits.js';
import { matchPair, TestServer, useTestServer, type TestClient } from './harness.js';

describe('connection limits', () => {
  const server = useTestServer({ env: { WS_MAX_PER_ADDRESS: '3' } });

  it('refuses sockets beyond the per-address limit with a plain error, and frees the slot on close', async () => {
    const s = server();
    const open = await Promise.all([s.rawClient('1'), s.rawClient('2'), s.rawClient('3')]);
    const fourth = await s.rawClient('4');
    expect(await fourth.nextError('rate_limited')).toMatchObject({ message: expect.stringContaining('Too many connections') });
    expect((await fourth.waitForClose()).code).toBe(1008);
    await open[0]!.close();
    const fifth = await s.rawClient('5');
    const guest = await s.guest();
    expect(await fifth.hello(guest.token)).toMatchObject({ type: 'welcome' });
  });
});

/** Reports, joins and chat are limited per person: closing the socket and coming back starts nothing afresh. */
describe('person limits across reconnects', () => {
  const server = useTestServer();

  /** Matches `reporter` with a fresh partner, reports them, and says whether the report was filed. */
  async function reportSomeone(s: TestServer, reporter: TestClient, partnerFrom?: string): Promise<'filed' | 'refused' | 'neither'> {
    const partner = await s.client('partner', partnerFrom ? { from: partnerFrom } : {});
    const { callId } = await matchPair(reporter, partner);
    reporter.send({ type: 'report', callId, reason: 'spam' });
    // Refused or not, the call ends and the two are blocked; the outcome is told just before.
    expect(await reporter.next('call_ended', (m) => m.callId === callId)).toMatchObject({ reason: 'reported', by: 'you' });
    const filed = reporter.pending('report_filed').some((m) => m.callId === callId);
    const refused = reporter.pending('error').filter((e) => e.code === 'rate_limited' && e.ref === 'report');
    const outcome = filed ? 'filed' : refused.length === 1 ? 'refused' : 'neither';
    if (outcome === 'filed') await reporter.next('report_filed', (m) => m.callId === callId);
    if (outcome === 'refused')
      expect(await reporter.nextError('rate_limited')).toMatchObject({
        ref: 'report',
        message: expect.stringContaining('This person is blocked'),
      });
    await partner.next('call_ended', (m) => m.callId === callId);
    await partner.close(); // out of the pool, so the next partner meets the reporter
    return outcome;
  }

  async function reportsIn(s: TestServer, reporterId: string): Promise<number> {
    const row = await s.duet.storage.db
      .selectFrom('reports')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('reporter_id', '=', reporterId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  it('5 reports an hour: the 6th is refused, and reconnecting does not let the 7th and 8th through', async () => {
    const s = server();
    const guest = await s.guest();
    let reporter = await s.client('reporter', { guest });
    const outcomes: string[] = [];
    for (let i = 1; i <= 8; i++) {
      if (i === 7) {
        // Close and reopen the socket: the same person, a new connection.
        await reporter.close();
        reporter = await s.client('reporter again', { guest });
      }
      outcomes.push(await reportSomeone(s, reporter));
    }
    expect(outcomes).toEqual(['filed', 'filed', 'filed', 'filed', 'filed', 'refused', 'refused', 'refused']);
    expect(await reportsIn(s, guest.userId)).toBe(5);
  });

  it('reports per address: fresh guests from one address cannot report-bomb', async () => {
    const s = server();
    const from = s.newVisitorAddress();
    const outcomes: string[] = [];
    for (let i = 0; i < PERSON_LIMITS.addressReports.burst + 1; i++) {
      const reporter = await s.client(`guest ${i}`, { from: i % 2 === 0 ? from : from.replace(/::1$/, '::2') }); // one /64
      outcomes.push(await reportSomeone(s, reporter));
      await reporter.close();
    }
    expect(outcomes.filter((o) => o === 'filed')).toHaveLength(PERSON_LIMITS.addressReports.burst);
    expect(outcomes.at(-1)).toBe('refused');
    // Another address is not affected.
    expect(await reportSomeone(s, await s.client('elsewhere', { from: s.newVisitorAddress() }))).toBe('filed');
  });

  it('joining and skipping: the limit holds across a reconnect', async () => {
    const s = server();
    const guest = await s.guest();
    const first = await s.client('J', { guest });
    for (let i = 0; i < PERSON_LIMITS.moves.burst; i++) {
      first.send({ type: 'join' });
      await first.next('queued');
    }
    first.send({ type: 'join' });
    expect(await first.nextError('rate_limited')).toMatchObject({ ref: 'join', message: expect.stringContaining('skipping very fast') });
    await first.close();

    const again = await s.client('J again', { guest });
    again.send({ type: 'join' });
    again.send({ type: 'next' });
    again.send({ type: 'join' });
    // A token refills every 3 s: a reconnect that takes less than that gets at most one through.
    const refused = await again.nextError('rate_limited');
    expect(['join', 'next']).toContain(refused.ref);
    await again.roundTrip();
    expect(again.all('queued').length).toBeLessThanOrEqual(1);
  });

  it('chat: the limit holds across a reconnect into a new call', async () => {
    const s = server();
    const guest = await s.guest();
    const a = await s.client('A', { guest });
    const b = await s.client('B');
    const { callId } = await matchPair(a, b);
    for (let i = 0; i < 6; i++) a.send({ type: 'chat', callId, text: `before ${i}` });
    expect(await a.nextError('rate_limited')).toMatchObject({ ref: 'chat', message: expect.stringContaining('too fast') });
    const spentAt = Date.now();

    // The connection drops before the call connected (the call ends); A comes back and meets C.
    await a.close();
    await b.next('call_ended', (m) => m.callId === callId);
    await b.close();
    const back = await s.client('A again', { guest });
    const c = await s.client('C');
    const second = await matchPair(back, c);
    for (let i = 0; i < 5; i++) back.send({ type: 'chat', callId: second.callId, text: `after ${i}` });
    await back.nextError('rate_limited');
    await back.roundTrip();
    await c.roundTrip();
    // One message a second refills: only what the elapsed time paid for gets through, never a fresh burst.
    expect(c.all('chat').length).toBeLessThanOrEqual(Math.floor((Date.now() - spentAt) / 1000));
  });
});

/** A frame over the WebSocket cap: closed with 1009, one warn line, no error and no stack in the log. */
describe('oversized frames', () => {
  const lines: Array<{ level: number; msg?: string; stack?: unknown; err?: unknown }> = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as (typeof lines)[number]);
      done();
    },
  });
  const server = useTestServer({ env: { LOG_LEVEL: 'debug' }, create: { logStream } });

  it('closes the socket with 1009 and logs it once, at warn, without a stack', async () => {
    const s = server();
    const c = await s.client('big');
    lines.length = 0;
    c.sendRaw(`{"type":"ping","pad":"${'x'.repeat(300 * 1024)}"}`);
    c.sendRaw(`{"type":"ping","pad":"${'x'.repeat(300 * 1024)}"}`);
    expect((await c.waitForClose(5_000)).code).toBe(1009);
    const healthy = await s.client('next one');
    await healthy.roundTrip();
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    const warnings = lines.filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ msg: expect.stringContaining('size cap') });
    expect(JSON.stringify(lines)).not.toContain('    at ');
  });
});

/** Two nodes sharing Redis: a person's report limit is one count wherever they connect. */
describe('person limits across nodes', () => {
  let n1: TestServer;
  let n2: TestServer;
  let dropDb: () => Promise<void>;
  const redis = connectRedis();
  const { prefix, cleanup } = testPrefix();

  beforeAll(async () => {
    const db = await createTestDatabase();
    dropDb = db.drop;
    const env = {
      DATABASE_URL: db.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: prefix,
      DUET_SECRET: 'limits-test-secret-0123456789-abcdef',
      CLUSTER_HEARTBEAT_MS: '200',
      CONNECT_TIMEOUT_MS: '60000',
    };
    n1 = await TestServer.start({ env: { ...env, NODE_ID: 'n1' } });
    n2 = await TestServer.start({ env: { ...env, NODE_ID: 'n2' } });
  });

  afterEach(async () => {
    await n1.releaseClients();
    await n2.releaseClients();
  });

  afterAll(async () => {
    await n1?.stop();
    await n2?.stop();
    await dropDb?.();
    await cleanup(redis);
    redis.disconnect();
  });

  /** Reports a fresh partner on `node`; true when the report was filed. */
  async function report(node: TestServer, reporter: TestClient): Promise<boolean> {
    const partner = await node.client('partner');
    reporter.send({ type: 'join' });
    await reporter.next('queued');
    partner.send({ type: 'join' });
    const { callId } = await reporter.next('matched');
    await partner.next('matched');
    reporter.send({ type: 'report', callId, reason: 'spam' });
    await reporter.next('call_ended', (m) => m.callId === callId);
    await partner.close();
    return reporter.pending('report_filed').some((m) => m.callId === callId);
  }

  it('5 reports on one node, then a reconnect to the other: the 6th and 7th are refused there', async () => {
    const guest = await n1.guest();
    const onFirst = await n1.client('reporter', { guest });
    const filed: boolean[] = [];
    for (let i = 0; i < 5; i++) filed.push(await report(n1, onFirst));
    await onFirst.close();
    const onSecond = await n2.client('reporter on n2', { guest });
    for (let i = 0; i < 2; i++) filed.push(await report(n2, onSecond));
    expect(filed).toEqual([true, true, true, true, true, false, false]);
    expect(onSecond.all('error').filter((e) => e.code === 'rate_limited' && e.ref === 'report')).toHaveLength(2);
  });
});
