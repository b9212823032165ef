import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { findBinary } from '../../packages/server/src/relay/relay.js';
import type { CallDetail, InsightsResponse } from '@duet/protocol';
import { FakeClock } from '../../packages/server/src/testing/fakeClock.js';
import { connectCall, useTestServer, type TestClient } from './harness.js';

const ADMIN = 'admin-token-for-tests-0123456789';
const clock = new FakeClock(Date.UTC(2026, 10, 27, 10, 0, 0));
const T0 = clock.now();
const EXTERNAL_RELAY = {
  TURN_MODE: 'external',
  TURN_URLS: 'turn:198.51.100.7:3478',
  TURN_SECRET: 'external-fleet-secret-0123456789abcdef',
};

/**
 * A scripted set of calls with known outcomes, timed by a fake clock, then the exact numbers
 * /metrics and the insights API must show for them.
 */
describe('telemetry of a scripted set of calls', () => {
  const server = useTestServer({
    // An external relay fleet: people are handed relay credentials, so a browser's relayed path and
    // bytes count, bounded by TURN_MAX_BPS over the connected time.
    env: { ADMIN_TOKEN: ADMIN, CONNECT_TIMEOUT_MS: '15000', HEARTBEAT_INTERVAL_MS: '500', ...EXTERNAL_RELAY },
    create: { clock, defaultMetrics: false },
  });

  /** `first` joins, the clock moves `waitMs`, `second` joins; returns the call id. */
  async function meet(first: TestClient, second: TestClient, waitMs: number) {
    first.send({ type: 'join' });
    await first.next('queued');
    clock.advance(waitMs);
    second.send({ type: 'join' });
    const [m1, m2] = await Promise.all([first.next('matched'), second.next('matched')]);
    expect(m1.callId).toBe(m2.callId);
    const offerer = m1.role === 'offerer' ? first : second;
    return { offerer, answerer: offerer === first ? second : first, callId: m1.callId };
  }

  const metric = (text: string, line: string) => {
    const found = text.split('\n').find((l) => l.startsWith(line + ' '));
    return found === undefined ? undefined : Number(found.slice(line.length + 1));
  };

  it('counts outcomes, reasons, waits, connect times, lengths, relay share and the funnel exactly', async () => {
    const s = server();
    const [a, b, c, d, e, f, g, h, i, j] = await Promise.all(
      ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'].map((n) => s.client(n, { manualPong: n === 'h' })),
    );
    for (const p of [a, b, c, d, e, f, g, h, i, j]) p!.send({ type: 'funnel', step: 'camera_allowed' });

    // 1. A waits 2 s for B; connected after 0.3 s; talks 45 s; A presses Next.
    const call1 = await meet(a!, b!, 2_000);
    clock.advance(300);
    await connectCall(call1);
    call1.offerer.send({
      type: 'stats',
      callId: call1.callId,
      sample: { rttMs: 40, packetLoss: 0, estDelayMs: 90, path: { local: 'host', remote: 'host', protocol: 'udp' } },
    });
    call1.answerer.send({ type: 'stats', callId: call1.callId, sample: { rttMs: 42, packetLoss: 0.01, estDelayMs: 95 } });
    await Promise.all([a!.roundTrip(), b!.roundTrip()]); // two sockets: make sure both samples landed first
    clock.advance(45_000);
    a!.send({ type: 'next' });
    await b!.next('call_ended', (m) => m.reason === 'next');
    call1.offerer.send({ type: 'stats', callId: call1.callId, final: true, sample: { rttMs: 41, packetLoss: 0.002 } });
    for (const p of [a!, b!]) p.send({ type: 'leave' });
    await Promise.all([a!.next('idle'), b!.next('idle')]);

    // 2. C waits 0.7 s; connected after 0.5 s over a relay; 5 s later C stops.
    const call2 = await meet(c!, d!, 700);
    clock.advance(500);
    await connectCall(call2);
    clock.advance(5_000);
    call2.offerer.send({
      type: 'stats',
      callId: call2.callId,
      sample: {
        rttMs: 180,
        packetLoss: 0.08,
        estDelayMs: 320,
        totalFreezesMs: 1500,
        bytesTotal: 12_345,
        path: { local: 'relay', remote: 'srflx', protocol: 'udp', relayProtocol: 'tcp' },
      },
    });
    await c!.roundTrip();
    c!.send({ type: 'leave' });
    await d!.next('call_ended', (m) => m.reason === 'leave');
    d!.send({ type: 'leave' });
    await d!.next('idle');

    // 3. E waits 30 s; never connects: ice_failed after 15 s.
    const call3 = await meet(e!, f!, 30_000);
    clock.advance(15_000);
    await Promise.all([e!, f!].map((p) => p.next('call_ended', (m) => m.callId === call3.callId && m.reason === 'ice_failed')));
    for (const p of [e!, f!]) p.send({ type: 'leave' });
    await Promise.all([e!.next('idle'), f!.next('idle')]);

    // 4. G waits 0.1 s; connected after 1 s; 20 s in, H stops answering pings.
    const call4 = await meet(g!, h!, 100);
    clock.advance(1_000);
    await connectCall(call4);
    clock.advance(20_000);
    h!.answeringPings = false;
    await g!.next('call_reconnecting', undefined, 5_000);
    clock.advance(15_000); // the reconnect grace window passes without H
    await g!.next('call_ended', (m) => m.reason === 'heartbeat_timeout', 5_000);
    g!.send({ type: 'leave' });
    await g!.next('idle');

    // 5. I and J are matched at once; I leaves before they connect: abandoned.
    const call5 = await meet(i!, j!, 0);
    i!.send({ type: 'leave' });
    await j!.next('call_ended', (m) => m.callId === call5.callId);
    j!.send({ type: 'leave' });
    await j!.next('idle');

    // Everything sent has been handled (a ping answered after it) and stored.
    await Promise.all([a, b, c, d, e, f, g, i, j].map((p) => p!.roundTrip()));
    await s.duet.settled();
    // Calls are counted by path once their final reports have had their minute.
    clock.advance(60_000);
    await Promise.all([a, b, c, d, e, f, g, i, j].map((p) => p!.roundTrip()));

    // ---- /metrics --------------------------------------------------------------------------
    const res = await fetch(`${s.httpUrl}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    const m = (line: string) => metric(text, line);
    expect(m('duet_calls_total{outcome="connected"}')).toBe(3);
    expect(m('duet_calls_total{outcome="ice_failed"}')).toBe(1);
    expect(m('duet_calls_total{outcome="abandoned"}')).toBe(1);
    expect(m('duet_calls_ended_total{reason="next"}')).toBe(1);
    expect(m('duet_calls_ended_total{reason="leave"}')).toBe(2);
    expect(m('duet_calls_ended_total{reason="ice_failed"}')).toBe(1);
    expect(m('duet_calls_ended_total{reason="heartbeat_timeout"}')).toBe(1);
    expect(m('duet_calls_ended_total{reason="blocked"}')).toBe(0);
    // Waits: 2, 0, 0.7, 0, 30, 0, 0.1, 0, 0, 0 seconds.
    expect(m('duet_time_to_match_seconds_bucket{le="0.1"}')).toBe(7);
    expect(m('duet_time_to_match_seconds_bucket{le="0.5"}')).toBe(7);
    expect(m('duet_time_to_match_seconds_bucket{le="1"}')).toBe(8);
    expect(m('duet_time_to_match_seconds_bucket{le="2"}')).toBe(9);
    expect(m('duet_time_to_match_seconds_bucket{le="10"}')).toBe(9);
    expect(m('duet_time_to_match_seconds_bucket{le="30"}')).toBe(10);
    expect(m('duet_time_to_match_seconds_count')).toBe(10);
    expect(m('duet_time_to_match_seconds_sum')).toBeCloseTo(32.8, 6);
    // Connect times: 0.3, 0.5, 1 seconds.
    expect(m('duet_time_to_connect_seconds_bucket{le="0.25"}')).toBe(0);
    expect(m('duet_time_to_connect_seconds_bucket{le="0.5"}')).toBe(2);
    expect(m('duet_time_to_connect_seconds_bucket{le="1"}')).toBe(3);
    expect(m('duet_time_to_connect_seconds_count')).toBe(3);
    // Lengths of connected calls: 45, 5 and 20 seconds (the 15 s reconnect grace after H went silent is no talk time).
    expect(m('duet_call_duration_seconds_bucket{le="10"}')).toBe(1);
    expect(m('duet_call_duration_seconds_bucket{le="30"}')).toBe(2);
    expect(m('duet_call_duration_seconds_bucket{le="60"}')).toBe(3);
    expect(m('duet_call_duration_seconds_sum')).toBe(70);
    expect(m('duet_connected_calls_by_path_total{path="direct"}')).toBe(1);
    expect(m('duet_connected_calls_by_path_total{path="relay"}')).toBe(1);
    expect(m('duet_quality_samples_total{accepted="true"}')).toBe(4);
    expect(m('duet_quality_rtt_seconds_count')).toBe(4);
    expect(m('duet_people_online')).toBe(9); // h was dropped
    expect(m('duet_people_waiting')).toBe(0);
    expect(m('duet_calls_active')).toBe(0);
    // Label values are bounded: no user or call ids anywhere.
    for (const id of [call1.callId, call2.callId, a!.userId]) expect(text).not.toContain(id);

    // ---- insights API ----------------------------------------------------------------------
    const from = T0 - 3_600_000;
    const to = T0 + 3_600_000;
    const get = (path: string, token = ADMIN) => fetch(`${s.httpUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
    expect((await get(`/api/admin/insights?from=${from}&to=${to}`, 'wrong-token')).status).toBe(401);
    expect((await get(`/api/admin/insights?from=${to}&to=${from}`)).status).toBe(400);
    const insights = (await (await get(`/api/admin/insights?from=${from}&to=${to}&bucket=hour`)).json()) as InsightsResponse;
    expect(insights.totals).toEqual({ calls: 5, connected: 3, iceFailed: 1, abandoned: 1, successRate: 0.75, relayShare: 0.5 });
    expect(insights.series).toHaveLength(2);
    expect(insights.series[0]).toEqual({ t: T0 - 3_600_000, calls: 0, connected: 0, iceFailed: 0, successRate: null });
    expect(insights.series[1]).toEqual({ t: T0, calls: 5, connected: 3, iceFailed: 1, successRate: 0.75 });
    expect(insights.timeToMatchMs).toEqual({ p50: 0, p95: 30_000, count: 10 });
    expect(insights.timeToConnectMs).toEqual({ p50: 500, p95: 1_000, count: 3 });
    expect(insights.durations).toEqual([
      { le: 10, count: 1 },
      { le: 30, count: 1 },
      { le: 60, count: 1 },
      { le: 120, count: 0 },
      { le: 300, count: 0 },
      { le: 600, count: 0 },
      { le: 1800, count: 0 },
      { le: null, count: 0 },
    ]);
    expect(insights.endReasons).toEqual([
      { reason: 'leave', count: 2 },
      { reason: 'next', count: 1 },
      { reason: 'ice_failed', count: 1 },
      { reason: 'heartbeat_timeout', count: 1 },
    ]);
    expect(insights.funnel).toEqual([
      { day: '2026-11-27', steps: { page_opened: 10, camera_allowed: 10, queued: 10, matched: 10, connected: 6, talked_30s: 2 } },
    ]);
    // The relayed, lossy, frozen call ranks worst.
    expect(insights.worstCalls.map((w) => w.id)).toEqual([call2.callId, call1.callId]);
    expect(insights.worstCalls[0]).toMatchObject({
      relayed: true,
      bytesRelayed: 12_345,
      endReason: 'leave',
      endedBy: 'a',
      durationMs: 5_000,
    });

    const detail = (await (await get(`/api/admin/calls/${call1.callId}`)).json()) as CallDetail;
    expect(detail).toMatchObject({
      outcome: 'connected',
      endReason: 'next',
      waitMs: { a: 2_000, b: 0 },
      timeToConnectMs: 300,
      durationMs: 45_000,
      path: { a: { local: 'host', remote: 'host', protocol: 'udp' }, b: null },
      relayed: false,
    });
    expect(detail.samples.map((x) => [x.side, x.final, x.rttMs])).toEqual([
      ['a', false, 40],
      ['b', false, 42],
      ['a', true, 41],
    ]);
    expect((await get('/api/admin/calls/00000000-0000-4000-8000-000000000000')).status).toBe(404);

    const csv = await (await get(`/api/admin/calls/export?from=${from}&to=${to}&format=csv`)).text();
    const lines = csv.trim().split('\r\n');
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatch(/^id,matched_at,connected_at,/);
    expect(lines.find((l) => l.startsWith(call2.callId))).toContain('relay-srflx/tcp');
    const json = (await (await get(`/api/admin/calls/export?from=${from}&to=${to}&format=json`)).json()) as { calls: unknown[] };
    expect(json.calls).toHaveLength(5);
  });

  it('bounds quality uploads: too frequent, after the final, or for someone else’s call', async () => {
    const s = server();
    const [x, y, z] = await Promise.all(['x', 'y', 'z'].map((n) => s.client(n)));
    const call = await meet(x!, y!, 0);
    await connectCall(call);
    const { offerer } = call;
    offerer.send({ type: 'stats', callId: call.callId, sample: { rttMs: 10 } });
    offerer.send({ type: 'stats', callId: call.callId, sample: { rttMs: 11 } });
    await offerer.nextError('rate_limited');
    z!.send({ type: 'stats', callId: call.callId, sample: { rttMs: 1 } });
    await z!.nextError('not_in_call');
    offerer.send({ type: 'stats', callId: call.callId, sample: { rttMs: -5 } });
    await offerer.nextError('invalid_message');
    offerer.send({ type: 'stats', callId: call.callId, final: true, sample: {} });
    clock.advance(10_000);
    offerer.send({ type: 'stats', callId: call.callId, sample: { rttMs: 12 } });
    await offerer.nextError('rate_limited');
  });
});

/**
 * Browsers' quality samples are quality data: one forged sample claiming a relay path and 10 TB
 * must not write the cost books (/api/admin/economics) nor the relayed-calls count (/metrics).
 */
describe('a forged quality sample does not move the relay economics', () => {
  const POISON = { bytesTotal: 1e13, path: { local: 'relay', remote: 'relay', protocol: 'udp', relayProtocol: 'udp' } } as const;

  /** A direct call of 60 s connected time in which one browser uploads the poisoned sample. */
  async function poisonedCall(s: ReturnType<ReturnType<typeof useTestServer>>) {
    const start = clock.now();
    const [x, y] = await Promise.all(['x', 'y'].map((n) => s.client(n)));
    x!.send({ type: 'join' });
    await x!.next('queued');
    y!.send({ type: 'join' });
    const [mx] = await Promise.all([x!.next('matched'), y!.next('matched')]);
    const offerer = mx.role === 'offerer' ? x! : y!;
    const pair = { offerer, answerer: offerer === x ? y! : x!, callId: mx.callId };
    await connectCall(pair);
    clock.advance(60_000);
    pair.offerer.send({ type: 'stats', callId: pair.callId, sample: POISON });
    await pair.offerer.roundTrip();
    pair.offerer.send({ type: 'leave' });
    await pair.answerer.next('call_ended');
    await s.duet.settled();
    clock.advance(60_000); // the grace for final samples, after which the call is counted by path
    await pair.answerer.roundTrip();
    const economics = (await (
      await fetch(`${s.httpUrl}/api/admin/economics?from=${start - 1}&to=${clock.now() + 1}`, {
        headers: { authorization: `Bearer ${ADMIN}` },
      })
    ).json()) as {
      days: Array<{ relayGb: number; costMicros: number }>;
    };
    const metrics = await (await fetch(`${s.httpUrl}/metrics`)).text();
    const relayedCalls = Number(/^duet_connected_calls_by_path_total\{path="relay"\} (\d+)$/m.exec(metrics)?.[1]);
    const row = await s.duet.storage.db
      .selectFrom('calls')
      .select(['bytes_relayed', 'relayed'])
      .where('id', '=', pair.callId)
      .executeTakeFirstOrThrow();
    return { day: economics.days[0]!, relayedCalls, row };
  }

  describe('with no relay', () => {
    const server = useTestServer({ env: { ADMIN_TOKEN: ADMIN }, create: { clock, defaultMetrics: false } });
    it('leaves relayed GB, relay cost and the relayed-calls count where they were', async () => {
      const { day, relayedCalls, row } = await poisonedCall(server());
      // Defaults: 0.05 credits per relayed GB, 0.05 per server hour (24 h a day: 1.2 credits).
      expect(day).toMatchObject({ relayGb: 0, costMicros: 1_200_000 });
      expect(relayedCalls).toBe(0);
      expect(row).toEqual({ bytes_relayed: null, relayed: 0 });
    });
  });

  describe('with an external relay fleet (no accounting feed)', () => {
    const server = useTestServer({
      env: { ADMIN_TOKEN: ADMIN, ...EXTERNAL_RELAY, TURN_MAX_BPS: '500000' },
      create: { clock, defaultMetrics: false },
    });
    it('takes the browser’s figure only up to connected time × TURN_MAX_BPS × 2 legs', async () => {
      const { day, relayedCalls, row } = await poisonedCall(server());
      // 60 s × 500,000 B/s × 2 = 0.06 GB at 0.05 credits/GB: 0.003 credits on top of the server hours.
      expect(day).toMatchObject({ relayGb: 0.06, costMicros: 1_203_000 });
      expect(Number(row.bytes_relayed)).toBe(60_000_000);
      // The person did hold relay credentials for the call: at most this one call counts as relayed.
      expect(relayedCalls).toBe(1);
    });
  });
});

/** A UDP port free on 127.0.0.1 with the 200 above it for relay allocations (coturn listens on UDP and TCP). */
async function freeRelayPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 30_000 + Math.floor(Math.random() * 15_000);
    const udp = dgram.createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '127.0.0.1', () => resolve(true));
    });
    await new Promise<void>((r) => (ok ? udp.close(() => r()) : r()));
    if (ok) return port;
  }
  throw new Error('no free port for the relay');
}

/**
 * Managed mode: coturn's own per-allocation accounting (its verbose "usage" reports, attributed by
 * the TURN username Duet issued for the call) is what the call's record holds; a browser's figure is
 * ignored. Traffic is real: coturn's test client relays between two allocations made with the
 * person's credentials, as a relayed call's two legs do. Skipped without coturn on a developer's
 * machine; CI installs it (.ci/run), so there it always runs and fails if coturn is missing.
 */
describe.skipIf((!findBinary('turnserver') || !findBinary('turnutils_uclient')) && !process.env.CI)(
  'relayed bytes from the managed relay (coturn)',
  async () => {
    const port = await freeRelayPort();
    const server = useTestServer({
      env: {
        ADMIN_TOKEN: ADMIN,
        TURN_PORT: String(port),
        TURN_MIN_PORT: String(port + 1),
        TURN_MAX_PORT: String(port + 200),
        TURN_MODE: 'managed',
        TURN_LISTEN_IPS: '127.0.0.1',
        TURN_HOST: '127.0.0.1',
        TURN_ALLOW_LOOPBACK_PEERS: 'true',
      },
    });

    it('records what coturn carried for the call, not what a browser claims', { timeout: 60_000 }, async () => {
      const s = server();
      const [x, y] = await Promise.all(['x', 'y'].map((n) => s.client(n)));
      x!.send({ type: 'join' });
      await x!.next('queued');
      y!.send({ type: 'join' });
      const [mx, my] = await Promise.all([x!.next('matched'), y!.next('matched')]);
      const offerer = mx.role === 'offerer' ? x! : y!;
      const pair = { offerer, answerer: offerer === x ? y! : x!, callId: mx.callId };
      await connectCall(pair);
      // The forged sample: in managed mode a browser's byte count never reaches the books.
      offerer.send({
        type: 'stats',
        callId: pair.callId,
        sample: { bytesTotal: 1e13, path: { local: 'relay', remote: 'relay', protocol: 'udp', relayProtocol: 'udp' } },
      });
      await offerer.roundTrip();

      const turn = (offerer === x ? mx : my).iceServers.find((i) => i.username);
      expect(turn?.username).toMatch(new RegExp(`:${offerer.userId}$`));
      // 100 messages of 500 bytes each way between two allocations, twice over (-m 1 -y: 4 allocations).
      const uclient = spawn(
        'turnutils_uclient',
        ['-u', turn!.username!, '-w', turn!.credential!, '-p', String(port), '-n', '100', '-m', '1', '-l', '500', '-y', '127.0.0.1'],
        { stdio: 'ignore' },
      );
      const code = await new Promise<number | null>((resolve) => uclient.once('exit', resolve));
      expect(code).toBe(0);

      // coturn reports each allocation when it closes (a few seconds after the client goes).
      const row = async () =>
        s.duet.storage.db.selectFrom('calls').select(['bytes_relayed', 'relayed']).where('id', '=', pair.callId).executeTakeFirstOrThrow();
      await s.duet.settled();
      const deadline = Date.now() + 30_000;
      while (Number((await row()).bytes_relayed ?? 0) < 400_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
      await s.duet.settled();
      const stored = await row();
      // 4 allocations × (50,000 B of payload each way + TURN/ChannelData framing), as coturn counts it.
      expect(Number(stored.bytes_relayed)).toBeGreaterThanOrEqual(400_000);
      expect(Number(stored.bytes_relayed)).toBeLessThan(500_000);
      expect(stored.relayed).toBe(1);
    });
  },
);
