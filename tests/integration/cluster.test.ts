import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../packages/server/src/testing/postgres.js';
import { connectRedis, testPrefix } from '../../packages/server/src/testing/redis.js';
import { connectCall, TestServer, type TestClient } from './harness.js';

/**
 * Two Duet nodes sharing one Redis pool and one PostgreSQL: people connected to different nodes
 * meet, talk, skip and leave as if on one server; a node that goes silent ends its calls on the
 * other node and its people leave the shared pool.
 */
describe('two nodes sharing Redis and PostgreSQL', () => {
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
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      REDIS_PREFIX: prefix,
      DUET_SECRET: 'cluster-test-secret-0123456789-abcdef',
      CLUSTER_HEARTBEAT_MS: '200',
      POOL_LEASE_MS: '1500',
      MATCH_INTERESTS_WAIT_MS: '300',
      // Calls here never connect for real: keep them from timing out while a loaded machine catches up.
      CONNECT_TIMEOUT_MS: '60000',
      // Paid, so the meter's work across nodes is checked too.
      PRICE_PER_MINUTE: '1',
      WELCOME_CREDITS: '100',
      METER_HEARTBEAT_MS: '1000',
      ADMIN_TOKEN: 'cluster-admin-token-0123456789',
    };
    n1 = await TestServer.start({ env: { ...env, NODE_ID: 'n1' } });
    n2 = await TestServer.start({ env: { ...env, NODE_ID: 'n2' } });
  });

  afterAll(async () => {
    await n1?.stop();
    await n2?.stop();
    await dropDb?.();
    await cleanup(redis);
    redis.disconnect();
  });

  const release = async () => {
    await n1.releaseClients();
    await n2.releaseClients();
  };
  afterEach(release);

  async function meetAcross(a: TestClient, b: TestClient) {
    a.send({ type: 'join' });
    await a.next('queued');
    b.send({ type: 'join' });
    const [ma, mb] = await Promise.all([a.next('matched'), b.next('matched')]);
    expect(ma.callId).toBe(mb.callId);
    const offerer = ma.role === 'offerer' ? a : b;
    return { offerer, answerer: offerer === a ? b : a, callId: ma.callId };
  }

  it('matches people on different nodes and carries their call across', async () => {
    const a = await n1.client('a');
    const b = await n2.client('b');
    const call = await meetAcross(a, b);
    expect(call.offerer).toBe(a); // a waited longer
    await connectCall(call); // offer crosses nodes, both peer states meet, both hear call_connected
    b.send({ type: 'chat', callId: call.callId, text: 'hello from node 2' });
    expect(await a.next('chat')).toMatchObject({ from: 'partner', text: 'hello from node 2' });
    b.send({
      type: 'signal',
      callId: call.callId,
      candidate: { candidate: 'candidate:1 1 udp 1 198.51.100.7 5000 typ srflx', sdpMid: '0', sdpMLineIndex: 0 },
    });
    expect((await a.next('signal')).candidate?.candidate).toContain('typ srflx');

    a.send({ type: 'next' });
    expect(await a.next('call_ended')).toMatchObject({ reason: 'next', by: 'you', then: 'waiting' });
    expect(await b.next('call_ended')).toMatchObject({ reason: 'next', by: 'partner', then: 'waiting' });

    // Both went back to the shared pool: the next arrival meets one of them, wherever it connects.
    const c = await n2.client('c');
    c.send({ type: 'join' });
    const mc = await c.next('matched');
    const partnerOfC = (await Promise.race([
      a.next('matched', (m) => m.callId === mc.callId).then(() => a),
      b.next('matched', (m) => m.callId === mc.callId).then(() => b),
    ])) as TestClient;
    const other = partnerOfC === a ? b : a;
    await other.roundTrip();
    expect(other.pending('matched')).toEqual([]);

    // One record per call, kept by the node that matched it.
    await Promise.all([n1.duet.settled(), n2.duet.settled()]);
    const rows = await n1.duet.storage.db.selectFrom('calls').select(['id', 'end_reason']).where('id', '=', call.callId).execute();
    expect(rows).toEqual([{ id: call.callId, end_reason: 'next' }]);
  });

  it('meters a call across nodes: the mirror side’s heartbeats reach the metering node, both pay, both see the meter', async () => {
    const a = await n1.client('a');
    const b = await n2.client('b');
    const call = await meetAcross(a, b); // matched (and metered) on n1, mirrored on n2
    await connectCall(call);
    for (let seq = 1; seq <= 8; seq++) {
      await new Promise((r) => setTimeout(r, 400));
      for (const c of [a, b]) c.send({ type: 'heartbeat', callId: call.callId, seq, bytesReceived: seq * 50_000 });
    }
    // b is on n2: its heartbeats were forwarded to n1, and n1's billing messages delivered back.
    const seen = await b.next('billing', (m) => m.billedMs >= 2_000, 5_000);
    expect(seen.chargedMicros).toBeGreaterThan(0);
    b.send({ type: 'leave' });
    await a.next('call_ended');
    await Promise.all([n1.duet.settled(), n2.duet.settled()]);
    for (const c of [a, b]) {
      const balance = await n1.duet.storage.db
        .selectFrom('ledger_entries')
        .select((eb) => eb.fn.sum<number>('amount').as('s'))
        .where('account', '=', `user:${c.userId}`)
        .executeTakeFirstOrThrow();
      // 100 welcome credits, less what this call cost: each person pays for their own minutes.
      expect(Number(balance.s), `${c.name} paid for the call`).toBeLessThan(100_000_000);
      expect(Number(balance.s)).toBeGreaterThan(99_000_000);
    }
  });

  it('Stop and Block work across nodes; a blocked pair never meets again', async () => {
    const a = await n1.client('a');
    const b = await n2.client('b');
    const first = await meetAcross(a, b);
    b.send({ type: 'leave' });
    expect(await a.next('call_ended')).toMatchObject({ callId: first.callId, reason: 'leave', by: 'partner', then: 'waiting' });
    expect(await b.next('call_ended')).toMatchObject({ reason: 'leave', by: 'you', then: 'idle' });
    a.send({ type: 'leave' });
    await a.next('idle');

    const c = await n1.client('c');
    const d = await n2.client('d');
    const second = await meetAcross(c, d);
    d.send({ type: 'block', callId: second.callId });
    expect(await c.next('call_ended')).toMatchObject({ reason: 'blocked', by: 'partner' });
    // Both wait; with the recent-partner rule relaxed after a wait in a tiny pool, only the block keeps them apart.
    await c.roundTrip();
    await d.roundTrip();
    await new Promise((r) => setTimeout(r, 700)); // past MATCH_INTERESTS_WAIT_MS: both are matched again
    await c.roundTrip();
    expect(c.pending('matched')).toEqual([]);
    expect(d.pending('matched')).toEqual([]);
  });

  it('hands nobody to two partners when many join on both nodes at once', async () => {
    const people = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? n1 : n2).client(`p${i}`)));
    for (const p of people) p.send({ type: 'join' });
    // Generous: claims lost in the stampede wait for the next widening step (300 ms here), and CI shares two cores.
    const matched = await Promise.all(people.map((p) => p.next('matched', undefined, 20_000)));
    await Promise.all(people.map((p) => p.roundTrip()));
    for (const p of people) expect(p.all('matched')).toHaveLength(1);
    const byCall = new Map<string, number>();
    for (const m of matched) byCall.set(m.callId, (byCall.get(m.callId) ?? 0) + 1);
    expect([...byCall.values()].every((n) => n === 2)).toBe(true);
    expect(byCall.size).toBe(15);
  });

  it('a Next for the old call is refused on either node and never ends the new cross-node call', async () => {
    const a = await n1.client('a');
    const b = await n2.client('b');
    b.autoRequeue = false;
    const old = await meetAcross(a, b);
    const c = await n2.client('c');
    c.send({ type: 'join' });
    await c.next('queued');

    a.send({ type: 'next', callId: old.callId });
    const [am, cm] = await Promise.all([a.next('matched', undefined, 5_000), c.next('matched', undefined, 5_000)]);
    expect(am.callId).toBe(cm.callId);
    // a's second tap, and b's Next that crossed a's (the end reached b's node from a's).
    a.send({ type: 'next', callId: old.callId });
    expect(await a.nextError('stale_call')).toMatchObject({ ref: 'next' });
    expect(await b.next('call_ended')).toMatchObject({ callId: old.callId, reason: 'next', by: 'partner', then: 'waiting' });
    b.send({ type: 'next', callId: old.callId });
    expect(await b.nextError('stale_call')).toMatchObject({ ref: 'next' });

    await c.roundTrip();
    expect(c.all('call_ended')).toEqual([]);
    c.send({ type: 'chat', callId: cm.callId, text: 'across the nodes' });
    expect(await a.next('chat')).toMatchObject({ callId: am.callId, from: 'partner', text: 'across the nodes' });
  });

  it('the partner on the other node is matched again only once their client acknowledges the end', async () => {
    const a = await n1.client('a');
    const b = await n2.client('b');
    b.autoRequeue = false;
    const { callId } = await meetAcross(a, b);
    a.send({ type: 'leave', callId });
    expect(await b.next('call_ended')).toEqual({ type: 'call_ended', callId, reason: 'leave', by: 'partner', then: 'waiting' });
    const d = await n1.client('d');
    d.send({ type: 'join' });
    await d.next('queued');
    await Promise.all([b.roundTrip(), d.roundTrip()]);
    // b is out of the shared pool: nobody on either node can claim them.
    expect(n2.duet.lobby.statusOf(b.userId)).toBe('idle');
    expect(await n2.duet.cluster!.pool.has(b.userId)).toBe(false);
    expect(b.pending('matched')).toEqual([]);

    b.send({ type: 'requeue', callId });
    const [bm, dm] = await Promise.all([b.next('matched', undefined, 5_000), d.next('matched', undefined, 5_000)]);
    expect(bm.callId).toBe(dm.callId);
  });

  it('a ban made on one node removes the person from the node they are connected to', async () => {
    const c = await n2.client('c');
    const res = await fetch(`${n1.httpUrl}/api/admin/bans`, {
      method: 'POST',
      headers: { authorization: 'Bearer cluster-admin-token-0123456789', 'content-type': 'application/json' },
      body: JSON.stringify({ userId: c.userId, reason: 'spam across the cluster', days: 1 }),
    });
    expect(res.status).toBe(201);
    expect(await c.next('banned', undefined, 5_000)).toMatchObject({ reason: 'spam across the cluster' });
    expect((await c.closed).code).toBe(4004);
  });

  it('a hold decided on one node moves the person waiting on another into the held pool at once', async () => {
    const c = await n2.client('c');
    c.send({ type: 'join' });
    await c.next('queued');
    // A node learns of a new node within a second: resent until n2 has heard (the event is idempotent).
    const heldOnN2 = async () => {
      await n1.duet.cluster!.broadcast({ t: 'held', userId: c.userId, held: true });
      return (await n2.duet.cluster!.pool.get(c.userId))?.held;
    };
    await expect.poll(heldOnN2, { timeout: 5_000, interval: 250 }).toBe(true);
    const d = await n1.client('d');
    d.send({ type: 'join' });
    await d.next('queued');
    await Promise.all([c.roundTrip(), d.roundTrip()]);
    expect(c.pending('matched')).toEqual([]);
    expect(d.pending('matched')).toEqual([]);
  });

  const ADMIN = 'cluster-admin-token-0123456789';
  type Listed = { id: string; node: string; participants: Array<{ userId: string; node: string }> };
  const liveCalls = async (s: TestServer) => {
    const res = await s.request('GET', '/api/admin/live-calls', { token: ADMIN });
    expect(res.status).toBe(200);
    return res.body as { calls: Listed[]; unreachable: string[] };
  };
  const primaryOf = (callId: string) => (n1.duet.lobby.calls.get(callId)?.primary ? 'n1' : 'n2');

  it('the console on either node lists every live call of the cluster once, with the node that keeps it', async () => {
    const here = await meetAcross(await n2.client('c'), await n2.client('d')); // both people on n2
    const split = await meetAcross(await n1.client('a'), await n2.client('b')); // kept by the node that matched
    for (const s of [n1, n2]) {
      const { calls, unreachable } = await liveCalls(s);
      expect(calls.filter((c) => c.id === here.callId)).toEqual([
        expect.objectContaining({
          node: 'n2',
          participants: [expect.objectContaining({ node: 'n2' }), expect.objectContaining({ node: 'n2' })],
        }),
      ]);
      expect(calls.filter((c) => c.id === split.callId)).toEqual([expect.objectContaining({ node: primaryOf(split.callId) })]);
      expect(
        calls
          .find((c) => c.id === split.callId)!
          .participants.map((p) => p.node)
          .sort(),
      ).toEqual(['n1', 'n2']);
      expect(unreachable).toEqual([]);
    }
  });

  it('End call on one node ends a call on the other: both told `moderator`, one audit entry', async () => {
    const call = await meetAcross(await n2.client('c'), await n2.client('d'));
    await connectCall(call);
    const res = await n1.request('POST', `/api/admin/calls/${call.callId}/end`, { token: ADMIN });
    expect(res.status).toBe(204);
    for (const c of [call.offerer, call.answerer])
      expect(await c.next('call_ended')).toMatchObject({ callId: call.callId, reason: 'moderator', by: 'server', then: 'idle' });
    expect((await liveCalls(n1)).calls.map((c) => c.id)).not.toContain(call.callId);
    const audit = await n1.duet.storage.db.selectFrom('audit_log').select(['action']).where('target', '=', call.callId).execute();
    expect(audit).toEqual([{ action: 'end_call' }]);
    // A call that is nowhere: not found, and nothing written.
    expect((await n1.request('POST', `/api/admin/calls/${call.callId}/end`, { token: ADMIN })).status).toBe(404);
    expect(await n1.duet.storage.db.selectFrom('audit_log').select('id').where('target', '=', call.callId).execute()).toHaveLength(1);
  });

  it('the same person connecting to the other node replaces their first connection (4002), and their call ends at once', async () => {
    const guest = await n1.guest();
    const first = await n1.client('first', { guest });
    const partner = await n2.client('partner');
    const call = await meetAcross(first, partner);
    await connectCall(call);

    const second = await n2.client('second', { guest }); // same token, other node
    await first.nextError('session_replaced');
    expect((await first.waitForClose()).code).toBe(4002);
    // The call cannot follow them to another node: it ends now, not after the reconnect grace window.
    expect(await partner.next('call_ended')).toMatchObject({ callId: call.callId, reason: 'connection_lost', by: 'partner' });
    expect(second.all('welcome')[0]!.callId).toBeUndefined();
    await second.roundTrip();
    expect(second.isOpen).toBe(true);

    // The newest connection wins wherever it is: back on n1, the n2 one goes.
    const third = await n1.client('third', { guest });
    await second.nextError('session_replaced');
    expect((await second.waitForClose()).code).toBe(4002);
    await third.roundTrip();
    expect(third.isOpen).toBe(true);
  });

  it('ends calls with a node that went silent, and its people leave the shared pool', async () => {
    const a = await n1.client('a');
    const b = await n2.client('b');
    const call = await meetAcross(a, b);
    await connectCall(call);
    // A call with both people on n1, metered there.
    const local = await meetAcross(await n1.client('c'), await n1.client('d'));
    await connectCall(local);
    for (let seq = 1; seq <= 9; seq++) {
      await new Promise((r) => setTimeout(r, 300));
      for (const c of [local.offerer, local.answerer])
        c.send({ type: 'heartbeat', callId: local.callId, seq, bytesReceived: seq * 50_000 });
    }
    await local.offerer.next('billing', (m) => m.billedMs >= 2_000, 5_000);
    await n1.duet.settled();
    const waiter = await n1.client('w');
    waiter.send({ type: 'join' });
    await waiter.next('queued');
    n1.duet.cluster!.crash();
    const ended = await b.next('call_ended', undefined, 5_000);
    expect(ended).toMatchObject({ callId: call.callId, reason: 'connection_lost', by: 'partner', then: 'waiting' });
    // n1's waiting person's lease lapses and a sweep drops them: b is not matched with a ghost.
    const deadline = Date.now() + 5_000;
    const pool = n2.duet.cluster!.pool;
    while (Date.now() < deadline && (await pool.has(waiter.userId))) await new Promise((r) => setTimeout(r, 100));
    expect(await pool.has(waiter.userId)).toBe(false);
    await b.roundTrip();
    expect(b.pending('matched')).toEqual([]);

    // Once n1's alive key has lapsed, n2 settles the calls n1 kept: ended at their last heartbeat,
    // each person charged exactly what its billable time costs.
    const db = n2.duet.storage.db;
    const settledBy = Date.now() + 10_000;
    const row = async () =>
      db
        .selectFrom('calls')
        .select(['ended_at', 'end_reason', 'billed_ms', 'user_a', 'user_b', 'node'])
        .where('id', '=', local.callId)
        .executeTakeFirstOrThrow();
    while (Date.now() < settledBy && (await row()).ended_at === null) await new Promise((r) => setTimeout(r, 200));
    const settled = await row();
    expect(settled).toMatchObject({ node: 'n1', end_reason: 'server_shutdown' });
    expect(settled.ended_at).not.toBeNull();
    expect(Number(settled.billed_ms)).toBeGreaterThanOrEqual(2_000);
    await n2.duet.settled();
    for (const userId of [settled.user_a, settled.user_b]) {
      const charged = await db
        .selectFrom('ledger_entries')
        .innerJoin('ledger_txns', 'ledger_txns.id', 'ledger_entries.txn_id')
        .select((eb) => eb.fn.sum<number>('ledger_entries.amount').as('s'))
        .where('ledger_entries.account', '=', `user:${userId}`)
        .where('ledger_txns.kind', '=', 'charge')
        .where('ledger_txns.ref', 'like', `call:${local.callId}:%`)
        .executeTakeFirstOrThrow();
      expect(-Number(charged.s)).toBe(Math.floor((Math.floor(Number(settled.billed_ms) / 1000) * 1_000_000) / 60));
    }
  });
});
