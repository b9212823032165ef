import { describe, expect, it } from 'vitest';
import { Ledger, userAccount } from '../../packages/server/src/metering/ledger.js';
import { reconcileCharges, recoverOpenCalls } from '../../packages/server/src/metering/settle.js';
import { FakeClock } from '../../packages/server/src/testing/fakeClock.js';
import { connectCall, matchPair, useTestServer, type TestClient } from './harness.js';

const clock = new FakeClock(Date.UTC(2026, 10, 27, 12, 0, 0));
const CREDIT = 1_000_000;

/** Both browsers send heartbeats with growing byte counters every 5 s for `seconds`. */
async function talk(
  pair: { offerer: TestClient; answerer: TestClient; callId: string },
  seconds: number,
  seq: { n: number },
  bytes: { n: number },
  who = [pair.offerer, pair.answerer],
  on = clock,
) {
  for (let t = 0; t < seconds; t += 5) {
    on.advance(5_000);
    seq.n += 1;
    bytes.n += 50_000;
    for (const c of who) c.send({ type: 'heartbeat', callId: pair.callId, seq: seq.n, bytesReceived: bytes.n });
    await Promise.all(who.map((c) => c.roundTrip()));
  }
}

const balance = async (s: ReturnType<ReturnType<typeof useTestServer>>, token: string) =>
  (await s.request('GET', '/api/me/billing', { token })).body as {
    balanceMicros: number;
    calls: Array<{ billedMs: number; chargeMicros: number }>;
  };

describe('metering, per second', () => {
  const server = useTestServer({ env: { PRICE_PER_MINUTE: '1', WELCOME_CREDITS: '2', BILLING_ROUNDING: 'second' }, create: { clock } });

  it('bills each person for the time both receive media; duplicates, replays and gaps change nothing', async () => {
    const s = server();
    const ga = await s.guest();
    const gb = await s.guest();
    expect((await balance(s, ga.token)).balanceMicros).toBe(2 * CREDIT); // welcome credits
    const pair = await matchPair(await s.client('a', { guest: ga }), await s.client('b', { guest: gb }));
    await connectCall(pair);
    const seq = { n: 0 };
    const bytes = { n: 0 };
    await talk(pair, 30, seq, bytes); // 30 s of media both ways
    // A replayed and a late heartbeat: ignored.
    pair.offerer.send({ type: 'heartbeat', callId: pair.callId, seq: seq.n, bytesReceived: bytes.n + 999_999 });
    pair.offerer.send({ type: 'heartbeat', callId: pair.callId, seq: 1, bytesReceived: bytes.n + 999_999 });
    // One side's media stops for 20 s (its counter does not grow): not billed.
    clock.advance(20_000);
    seq.n += 4;
    pair.answerer.send({ type: 'heartbeat', callId: pair.callId, seq: seq.n, bytesReceived: bytes.n });
    await pair.answerer.roundTrip();
    await talk(pair, 15, seq, bytes); // media again for 15 s
    // Only time between two heartbeats that both show media counts: the first 5 s after the gap
    // cannot be told from the gap itself, so it is not billed (doubt goes to the customer).
    const billing = await pair.offerer.next('billing', (m) => m.billedMs >= 40_000);
    expect(billing.billedMs).toBe(40_000);
    // Ending a silent minute later settles at the last evidence of media, not when the silence is noticed.
    clock.advance(60_000);
    pair.offerer.send({ type: 'leave' });
    await pair.answerer.next('call_ended');
    await s.duet.settled();
    for (const g of [ga, gb]) {
      const me = await balance(s, g.token);
      expect(me.balanceMicros).toBe(2 * CREDIT - 666_666); // 40 whole seconds at 1 credit a minute
      expect(me.calls).toEqual([{ callId: pair.callId, at: expect.any(Number), billedMs: 40_000, chargeMicros: 666_666 }]);
    }
    const row = await s.duet.storage.db.selectFrom('calls').select(['billed_ms']).where('id', '=', pair.callId).executeTakeFirstOrThrow();
    expect(Number(row.billed_ms)).toBe(40_000);
  });

  it('warns when credit runs low, ends the call at zero, and refuses to queue without credit', async () => {
    const s = server();
    const ga = await s.guest();
    const pair = await matchPair(await s.client('a', { guest: ga }), await s.client('b'));
    await connectCall(pair);
    const a = pair.offerer.userId === ga.userId ? pair.offerer : pair.answerer;
    const seq = { n: 0 };
    const bytes = { n: 0 };
    await talk(pair, 65, seq, bytes); // 2 credits buy 120 s: under a minute left now
    expect(await a.next('credit_low')).toMatchObject({ callId: pair.callId, secondsLeft: expect.any(Number) });
    await talk(pair, 60, seq, bytes).catch(() => undefined);
    expect(await a.next('call_ended', undefined, 5_000)).toMatchObject({ reason: 'insufficient_credits', by: 'you' });
    await s.duet.settled();
    expect((await balance(s, ga.token)).balanceMicros).toBe(0);
    a.send({ type: 'join' });
    expect(await a.nextError('insufficient_credits')).toMatchObject({ ref: 'join' });
  });
});

describe('metering, per started minute', () => {
  const server = useTestServer({
    env: { PRICE_PER_MINUTE: '0.5', WELCOME_CREDITS: '10', BILLING_ROUNDING: 'minute', RECONNECT_GRACE_MS: '60000' },
    create: { clock },
  });

  it('charges each started minute once per call, also across a reconnect', async () => {
    const s = server();
    const ga = await s.guest();
    const pair = await matchPair(await s.client('a', { guest: ga }), await s.client('b'));
    await connectCall(pair);
    const seq = { n: 0 };
    const bytes = { n: 0 };
    await talk(pair, 40, seq, bytes);
    // Media drops and comes back within the grace window: the same call, the gap unbilled.
    pair.offerer.send({ type: 'peer_state', callId: pair.callId, state: 'disconnected' });
    await pair.answerer.next('call_reconnecting');
    clock.advance(30_000);
    pair.offerer.send({ type: 'peer_state', callId: pair.callId, state: 'connected' });
    await pair.answerer.next('call_connected');
    await talk(pair, 30, seq, bytes); // 40 + 25 = 65 s billed in all (the gap and its first beat are not): two started minutes
    pair.offerer.send({ type: 'leave' });
    await pair.answerer.next('call_ended');
    await s.duet.settled();
    const me = await balance(s, ga.token);
    expect(me.calls[0]).toMatchObject({ billedMs: 65_000, chargeMicros: 1_000_000 });
    expect(me.balanceMicros).toBe(9_000_000);
    // The ledger balances.
    const unbalanced = await s.duet.storage.db
      .selectFrom('ledger_entries')
      .select(['txn_id', (eb) => eb.fn.sum<number>('amount').as('s')])
      .groupBy('txn_id')
      .having((eb) => eb.fn.sum('amount'), '!=', 0)
      .execute();
    expect(unbalanced).toEqual([]);
  });
});

describe('metering, when the balance runs out between two heartbeats', () => {
  const server = useTestServer({ env: { PRICE_PER_MINUTE: '1.1', WELCOME_CREDITS: '2', BILLING_ROUNDING: 'second' }, create: { clock } });

  it('charges what is left, down to zero and never below, and ends the call', async () => {
    const s = server();
    const ga = await s.guest();
    const pair = await matchPair(await s.client('a', { guest: ga }), await s.client('b'));
    await connectCall(pair);
    const a = pair.offerer.userId === ga.userId ? pair.offerer : pair.answerer;
    const seq = { n: 0 };
    const bytes = { n: 0 };
    // 2 credits at 1.1 a minute buy 109 s. At 105 s four are left; the next heartbeat bills 110 s,
    // which costs more than the balance: the person is charged the rest, not given the seconds free.
    await talk(pair, 115, seq, bytes).catch(() => undefined);
    expect(await a.next('call_ended', undefined, 5_000)).toMatchObject({ reason: 'insufficient_credits', by: 'you' });
    await s.duet.settled();
    const me = await balance(s, ga.token);
    expect(me.balanceMicros).toBe(0);
    expect(me.calls[0]).toMatchObject({ billedMs: 110_000, chargeMicros: 2 * CREDIT });
  });
});

describe('the call that silently fails to end', () => {
  const server = useTestServer({
    env: { PRICE_PER_MINUTE: '1', WELCOME_CREDITS: '2', BILLING_ROUNDING: 'second', METER_SILENCE_MS: '30000' },
    create: { clock },
  });

  it('is ended once a side has shown no media for the silence limit, billed to its last evidence', async () => {
    const s = server();
    const pair = await matchPair(await s.client('a'), await s.client('b'));
    await connectCall(pair);
    const seq = { n: 0 };
    const bytes = { n: 0 };
    await talk(pair, 20, seq, bytes);
    // One side's heartbeats go on, but its counter stops growing; the other side goes quiet.
    for (let i = 0; i < 5; i++) {
      clock.advance(5_000);
      seq.n += 1;
      pair.offerer.send({ type: 'heartbeat', callId: pair.callId, seq: seq.n, bytesReceived: bytes.n });
      await pair.offerer.roundTrip();
    }
    expect(pair.offerer.pending('call_ended')).toEqual([]);
    clock.advance(5_000); // 30 s since the last media
    expect(await pair.offerer.next('call_ended')).toMatchObject({ callId: pair.callId, reason: 'connection_lost', by: 'server' });
    await s.duet.settled();
    const row = await s.duet.storage.db
      .selectFrom('calls')
      .select(['billed_ms', 'end_reason'])
      .where('id', '=', pair.callId)
      .executeTakeFirstOrThrow();
    expect(Number(row.billed_ms)).toBe(20_000);
  });
});

describe('reconciling the ledger with the call records', () => {
  const server = useTestServer({ env: { PRICE_PER_MINUTE: '1', WELCOME_CREDITS: '2', BILLING_ROUNDING: 'second' }, create: { clock } });

  it('posts a final charge that never landed, exactly once', async () => {
    const s = server();
    const ga = await s.guest();
    const pair = await matchPair(await s.client('a', { guest: ga }), await s.client('b'));
    await connectCall(pair);
    const seq = { n: 0 };
    const bytes = { n: 0 };
    await talk(pair, 30, seq, bytes);
    pair.offerer.send({ type: 'leave' });
    await pair.answerer.next('call_ended');
    await s.duet.settled();
    const db = s.duet.storage.db;
    const charged = (await balance(s, ga.token)).balanceMicros;
    expect(charged).toBe(2 * CREDIT - 500_000); // 30 s at 1 credit a minute
    // The last posting for this person is lost (as if the database had refused the final write).
    const last = await db
      .selectFrom('ledger_txns')
      .innerJoin('ledger_entries', 'ledger_entries.txn_id', 'ledger_txns.id')
      .select(['ledger_txns.id'])
      .where('ledger_entries.account', '=', `user:${ga.userId}`)
      .where('ledger_txns.kind', '=', 'charge')
      .orderBy('ledger_txns.created_at', 'desc')
      .orderBy('ledger_txns.ref', 'desc')
      .executeTakeFirstOrThrow();
    await db.deleteFrom('ledger_entries').where('txn_id', '=', last.id).execute();
    await db.deleteFrom('ledger_txns').where('id', '=', last.id).execute();
    expect((await balance(s, ga.token)).balanceMicros).toBeGreaterThan(charged);

    const log = s.duet.log;
    const window = { since: clock.now() - 3_600_000, until: clock.now() + 1, now: clock.now(), overdraftMicros: 0, log };
    const price = { perMinuteMicros: CREDIT, rounding: 'second' as const };
    expect(await reconcileCharges(db, new Ledger(db, s.duet.storage.kind), price, window)).toBe(1);
    expect((await balance(s, ga.token)).balanceMicros).toBe(charged);
    expect(await reconcileCharges(db, new Ledger(db, s.duet.storage.kind), price, window)).toBe(0);
    expect((await balance(s, ga.token)).balanceMicros).toBe(charged);
  });
});

describe('welcome credits that cannot be farmed', () => {
  const server = useTestServer({
    env: { PRICE_PER_MINUTE: '1', WELCOME_CREDITS: '2', WELCOME_PER_ADDRESS_PER_DAY: '2' },
    create: { clock },
  });

  it('gives them to a few new people per address a day and to each browser once', async () => {
    const s = server();
    const from = '2001:db8:feed::7';
    const newGuest = async (json: object = {}, address = from) => {
      const res = await s.request('POST', '/api/session', { from: address, json });
      return (res.body as { token: string }).token;
    };
    const balanceOf = async (token: string) => (await balance(s, token)).balanceMicros;
    expect(await balanceOf(await newGuest())).toBe(2 * CREDIT);
    expect(await balanceOf(await newGuest())).toBe(2 * CREDIT);
    // A third new guest from the same address the same day starts at zero (and can still top up).
    const third = await newGuest();
    expect(await balanceOf(third)).toBe(0);
    // Another address is not affected; the same browser (device id) never gets them twice.
    expect(await balanceOf(await newGuest({ deviceId: 'browser-0123456789' }, '2001:db8:beef::1'))).toBe(2 * CREDIT);
    expect(await balanceOf(await newGuest({ deviceId: 'browser-0123456789' }, '2001:db8:cafe::1'))).toBe(0);
    // A returning guest (token) is the same person: nothing new.
    expect((await s.request('POST', '/api/session', { from, json: { token: third } })).status).toBe(200);
    expect(await balanceOf(third)).toBe(0);
    // A day later the address gets them again.
    clock.advance(24 * 3600_000 + 1);
    expect(await balanceOf(await newGuest())).toBe(2 * CREDIT);
  });
});

describe('top-ups, adjustments, refunds and unit economics', () => {
  const WEBHOOK_SECRET = 'whsec_test_0123456789abcdef';
  const TOKEN = 'operator-api-token-0123456789';
  // An operator's relay fleet (no accounting feed): a browser's relayed bytes count up to connected time × TURN_MAX_BPS × 2.
  const EXTERNAL_RELAY = {
    TURN_MODE: 'external',
    TURN_URLS: 'turn:198.51.100.7:3478',
    TURN_SECRET: 'external-fleet-secret-0123456789abcdef',
    TURN_MAX_BPS: '20000000',
  };
  const server = useTestServer({
    env: {
      PRICE_PER_MINUTE: '1',
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      TOPUP_PACKS: 'eur:500=5',
      ADMIN_TOKEN: TOKEN,
      RELAY_COST_PER_GB: '0.5',
      SERVER_COST_PER_HOUR: '0',
      PAYMENT_FEE_PERCENT: '0',
      ...EXTERNAL_RELAY,
    },
    create: { clock },
  });

  it('credits a paid Stripe checkout once, verifying Stripe’s signature on the raw body', async () => {
    const s = server();
    const guest = await s.guest();
    const { default: Stripe } = await import('stripe');
    const stripe = new Stripe('sk_test_unused');
    const event = {
      id: 'evt_test_1',
      object: 'event',
      type: 'checkout.session.completed',
      data: {
        object: {
          id: 'cs_test_1',
          object: 'checkout.session',
          payment_status: 'paid',
          amount_total: 500,
          currency: 'eur',
          metadata: { duet_user_id: guest.userId, credits: '5' },
        },
      },
    };
    const payload = JSON.stringify(event);
    const send = (body: string, signature: string) =>
      fetch(`${s.httpUrl}/api/billing/stripe-webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': signature },
        body,
      });
    const timestamp = Math.floor(clock.now() / 1000); // signed on the server's (fake) clock
    const signature = stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET, timestamp });
    expect(await (await send(payload, signature)).json()).toEqual({ received: true, credited: true });
    expect(await (await send(payload, signature)).json()).toEqual({ received: true, credited: false }); // Stripe retries: once only
    // The same session's delayed-payment event (a different event id) does not credit it again.
    const later = JSON.stringify({ ...event, id: 'evt_test_2', type: 'checkout.session.async_payment_succeeded' });
    expect(
      await (await send(later, stripe.webhooks.generateTestHeaderString({ payload: later, secret: WEBHOOK_SECRET, timestamp }))).json(),
    ).toEqual({ received: true, credited: false });
    const forged = stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_someone_else', timestamp });
    expect((await send(payload, forged)).status).toBe(400);
    const tampered = payload.replace('"5"', '"500"');
    expect((await send(tampered, signature)).status).toBe(400);
    expect((await balance(s, guest.token)).balanceMicros).toBe(5 * CREDIT);
  });

  it('adjusts and refunds with compensating entries an admin gives a reason for, and reports margin per minute', async () => {
    const s = server();
    const admin = (path: string, json?: unknown) =>
      fetch(`${s.httpUrl}${path}`, {
        method: json ? 'POST' : 'GET',
        headers: { authorization: `Bearer ${TOKEN}`, ...(json ? { 'content-type': 'application/json' } : {}) },
        ...(json ? { body: JSON.stringify(json) } : {}),
      });
    const ga = await s.guest();
    const gb = await s.guest();
    expect((await admin('/api/admin/credits/adjust', { userId: ga.userId, credits: 3, reason: 'goodwill' })).status).toBe(201);
    expect((await admin('/api/admin/credits/adjust', { userId: gb.userId, credits: 3, reason: 'goodwill' })).status).toBe(201);
    const start = clock.now();
    const pair = await matchPair(await s.client('a', { guest: ga }), await s.client('b', { guest: gb }));
    await connectCall(pair);
    await talk(pair, 60, { n: 0 }, { n: 0 });
    pair.offerer.send({
      type: 'stats',
      callId: pair.callId,
      final: false,
      sample: { bytesTotal: 2_000_000_000, path: { local: 'relay', remote: 'srflx', protocol: 'udp', relayProtocol: 'udp' } },
    });
    await pair.offerer.roundTrip();
    pair.offerer.send({ type: 'leave' });
    await pair.answerer.next('call_ended');
    await s.duet.settled();
    expect((await balance(s, ga.token)).balanceMicros).toBe(2 * CREDIT); // 3 - 1 minute

    const refund = await admin('/api/admin/credits/refund', { userId: ga.userId, callId: pair.callId, reason: 'bad connection' });
    expect(await refund.json()).toEqual({ refundedMicros: CREDIT });
    expect((await admin('/api/admin/credits/refund', { userId: ga.userId, callId: pair.callId, reason: 'again' })).status).toBe(409);
    expect((await balance(s, ga.token)).balanceMicros).toBe(3 * CREDIT);

    const report = (await (await admin(`/api/admin/economics?from=${start - 1}&to=${clock.now() + 1}`)).json()) as {
      days: Array<{ minutes: number; revenueMicros: number; relayGb: number; costMicros: number; perMinute: { marginMicros: number } }>;
    };
    const day = report.days[0]!;
    // Two people billed one minute each, one refunded; 2 GB relayed at 0.5 credits/GB.
    expect(day).toMatchObject({ minutes: 2, revenueMicros: CREDIT, relayGb: 2, costMicros: CREDIT });
    expect(day.perMinute.marginMicros).toBe(0);
    const audit = (await (await admin('/api/admin/audit')).json()) as { entries: Array<{ action: string }> };
    expect(audit.entries.map((e) => e.action)).toEqual(expect.arrayContaining(['credit_adjust', 'refund']));
  });
});

describe('metering, with daily free minutes', () => {
  const day = new FakeClock(Date.UTC(2026, 11, 1, 10, 0, 0));
  const server = useTestServer({
    env: { PRICE_PER_MINUTE: '1', BILLING_ROUNDING: 'second', DAILY_FREE_MINUTES: '1', MATCH_RECENT_PARTNERS: '0' },
    create: { clock: day },
  });
  const give = (s: ReturnType<typeof server>, userId: string, credits: number) =>
    new Ledger(s.duet.storage.db, s.duet.storage.kind).post(
      {
        ref: `test:${userId}:${credits}`,
        kind: 'adjustment',
        entries: [
          { account: 'adjustments', amount: -credits * CREDIT },
          { account: userAccount(userId), amount: credits * CREDIT },
        ],
      },
      day.now(),
    );
  /** A call between two people who are idle, `seconds` of media both ways, ended by `a`. */
  const call = async (s: ReturnType<typeof server>, a: TestClient, b: TestClient, seconds: number) => {
    const pair = await matchPair(a, b);
    await connectCall(pair);
    await talk(pair, seconds, { n: 0 }, { n: 0 }, undefined, day);
    a.send({ type: 'leave' });
    await b.next('call_ended', (m) => m.callId === pair.callId);
    b.send({ type: 'leave' }); // out of the queue the partner of a leave is put back in
    await b.next('idle');
    await s.duet.settled();
    return pair.callId;
  };
  const freeOf = async (s: ReturnType<typeof server>, callId: string) => {
    const row = await s.duet.storage.db
      .selectFrom('calls')
      .select(['user_a', 'a_free_ms', 'b_free_ms'])
      .where('id', '=', callId)
      .executeTakeFirstOrThrow();
    return { [row.user_a]: Number(row.a_free_ms), other: Number(row.b_free_ms) };
  };

  it('uses the free minute first; a second call that day is paid in full, a call across midnight uses its first day; the next day it is back', async () => {
    const s = server();
    const [ga, gb] = [await s.guest(), await s.guest()];
    for (const g of [ga, gb]) await give(s, g.userId, 5);
    const [a, b] = [await s.client('a', { guest: ga }), await s.client('b', { guest: gb })];

    const first = await call(s, a, b, 90); // 60 s free, 30 s paid
    expect(await freeOf(s, first)).toMatchObject({ other: 60_000 });
    for (const g of [ga, gb]) {
      const me = await balance(s, g.token);
      expect(me.balanceMicros).toBe(4.5 * CREDIT);
      expect(me.calls).toEqual([{ callId: first, at: expect.any(Number), billedMs: 90_000, chargeMicros: CREDIT / 2 }]);
    }
    await call(s, b, a, 30); // nothing left today: 30 s paid
    for (const g of [ga, gb]) expect((await balance(s, g.token)).balanceMicros).toBe(4 * CREDIT);

    day.advance(Date.UTC(2026, 11, 1, 23, 59, 40) - day.now());
    const late = await call(s, a, b, 30); // ends at 00:00:10, but connected on the day already used up
    expect(await freeOf(s, late)).toMatchObject({ other: 0 });
    for (const g of [ga, gb]) expect((await balance(s, g.token)).balanceMicros).toBe(3.5 * CREDIT);

    const next = await call(s, a, b, 90); // the next UTC day: a free minute again
    expect(await freeOf(s, next)).toMatchObject({ other: 60_000 });
    for (const g of [ga, gb]) expect((await balance(s, g.token)).balanceMicros).toBe(3 * CREDIT);
    expect(await new Ledger(s.duet.storage.db, s.duet.storage.kind).unbalanced()).toEqual([]);
  });

  it('lets someone without credit queue while free time is left today, ends the call when it is used up, and lets them in again the next day', async () => {
    const s = server();
    const [gz, gy] = [await s.guest(), await s.guest()];
    await give(s, gy.userId, 5);
    const [z, y] = [await s.client('z', { guest: gz }), await s.client('y', { guest: gy })];
    await call(s, z, y, 30); // z has no credit: half of the free minute
    expect((await balance(s, gz.token)).balanceMicros).toBe(0);

    const pair = await matchPair(z, y); // 30 s of free time left: z may still queue
    await connectCall(pair);
    await talk(pair, 60, { n: 0 }, { n: 0 }, undefined, day).catch(() => undefined);
    expect(await z.next('call_ended', (m) => m.callId === pair.callId, 5_000)).toMatchObject({ reason: 'insufficient_credits', by: 'you' });
    await s.duet.settled();
    expect((await balance(s, gz.token)).balanceMicros).toBe(0); // never below zero: the free time ran out, the call ended
    expect((await balance(s, gy.token)).balanceMicros).toBe(5 * CREDIT); // y's free minute covered the 60 s too
    z.send({ type: 'join' });
    expect(await z.nextError('insufficient_credits')).toMatchObject({ ref: 'join' });
    y.send({ type: 'leave' });
    await y.next('idle');

    day.advance(Date.UTC(2026, 11, 3, 0, 0, 1) - day.now());
    z.send({ type: 'join' });
    await z.next('queued');
    z.send({ type: 'leave' });
    await z.roundTrip();
  });

  it('keeps each person’s allowance through a crash: resumed calls carry it, settled calls are charged after it', async () => {
    const s = server();
    day.advance(Date.UTC(2026, 11, 4, 9, 0, 0) - day.now());
    const [ga, gb, gc] = [await s.guest(), await s.guest(), await s.guest()];
    for (const g of [ga, gb, gc]) await give(s, g.userId, 5);
    const [a, b, c] = [await s.client('a', { guest: ga }), await s.client('b', { guest: gb }), await s.client('c', { guest: gc })];
    await call(s, b, c, 60); // b's free minute is used up today; a's is not

    const pair = await matchPair(a, b);
    await connectCall(pair);
    await talk(pair, 90, { n: 0 }, { n: 0 }, undefined, day);
    await s.duet.settled();
    const { db, kind } = s.duet.storage;
    const ledger = new Ledger(db, kind);
    const price = { perMinuteMicros: CREDIT, rounding: 'second' as const };
    const row = await db.selectFrom('calls').select(['user_a']).where('id', '=', pair.callId).executeTakeFirstOrThrow();
    const aSide = row.user_a === ga.userId ? 'a' : 'b';
    const expectedFree = aSide === 'a' ? { a: 60_000, b: 0 } : { a: 0, b: 60_000 };

    // A restarted server that puts the call back gets the allowance with the meter's state.
    const [resumable] = await recoverOpenCalls(db, ledger, price, day.now(), s.duet.log, { resumeWithinMs: 60_000 });
    expect(resumable).toMatchObject({ id: pair.callId, meter: { billedMs: 90_000, free: expectedFree } });

    // The crash lost every charge posted for the call; settlement works them out again from the stored call.
    const lost = (await db.selectFrom('ledger_txns').select('id').where('ref', 'like', `call:${pair.callId}:%`).execute()).map((t) => t.id);
    await db.deleteFrom('ledger_entries').where('txn_id', 'in', lost).execute();
    await db.deleteFrom('ledger_txns').where('id', 'in', lost).execute();
    expect(await recoverOpenCalls(db, ledger, price, day.now(), s.duet.log, { resumeWithinMs: null })).toEqual([]);
    expect((await balance(s, ga.token)).balanceMicros).toBe(4.5 * CREDIT); // 30 s after a's free minute
    expect((await balance(s, gb.token)).balanceMicros).toBe(3.5 * CREDIT); // all 90 s
    expect(await ledger.sumByRef(userAccount(ga.userId), `call:${pair.callId}:${ga.userId}:30`)).toBe(-CREDIT / 2);
    // A second settlement, or the live call ending, changes nothing.
    await recoverOpenCalls(db, ledger, price, day.now(), s.duet.log, { resumeWithinMs: null });
    a.send({ type: 'leave' });
    await b.next('call_ended');
    await s.duet.settled();
    expect((await balance(s, ga.token)).balanceMicros).toBe(4.5 * CREDIT);
    expect((await balance(s, gb.token)).balanceMicros).toBe(3.5 * CREDIT);
    expect(await ledger.unbalanced()).toEqual([]);
  });
});
