import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '@duet/protocol';
import { TestClient } from '../integration/harness.js';
import { useDuet } from './harness.js';

const GRACE_MS = 4_000;
const ENV = { PRICE_PER_MINUTE: '1', WELCOME_CREDITS: '10', METER_HEARTBEAT_MS: '2000', RECONNECT_GRACE_MS: String(GRACE_MS) };

// No browser: the test speaks the protocol itself, to a server it kills with SIGKILL and restarts.
const duet = useDuet({ server: false, browser: false });

/** The built server as `npm start` runs it, on this test's data folder, so a restart finds its state. */
const start = (dataDir: string) => duet.serve(ENV, { dataDir });

async function guest(url: string) {
  const s = (await (
    await fetch(`${url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  ).json()) as { token: string; userId: string };
  await fetch(`${url}/api/rules/accept`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${s.token}` },
    body: JSON.stringify({ adult: true, rulesVersion: 1 }),
  });
  return s;
}

const billing = async (url: string, token: string) =>
  (await (await fetch(`${url}/api/me/billing`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
    balanceMicros: number;
    calls: Array<{ billedMs: number; chargeMicros: number }>;
  };

/** What `ms` of talk costs at 1 credit a minute, per whole second (the test's own arithmetic). */
const truth = (ms: number) => Math.floor((Math.floor(ms / 1000) * 1_000_000) / 60);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Six seconds of media both ways: heartbeats every second with growing counters. */
async function talk(clients: TestClient[], callId: string, from: number, beats: number): Promise<number> {
  for (let seq = from; seq < from + beats; seq++) {
    await sleep(1_000);
    for (const c of clients) c.send({ type: 'heartbeat', callId, seq, bytesReceived: seq * 100_000 });
  }
  return from + beats;
}

describe('kill -9 during a live call', () => {
  it('resumes the same call when both come back within grace, settles it at its last heartbeat when they do not, and never charges twice', async () => {
    const dataDir = duet.tempDir();
    let server = await start(dataDir);
    const [ga, gb] = [await guest(server.url), await guest(server.url)];
    let a = await TestClient.open(server.wsUrl, 'a');
    let b = await TestClient.open(server.wsUrl, 'b');
    await a.hello(ga.token);
    await b.hello(gb.token);
    a.send({ type: 'join' });
    b.send({ type: 'join' });
    const { callId } = await a.next('matched');
    await b.next('matched');
    for (const c of [a, b]) c.send({ type: 'peer_state', callId, state: 'connected' });
    await Promise.all([a.next('call_connected'), b.next('call_connected')]);

    // Media flows for about six seconds (the server expects a heartbeat every 2 s, so a slow
    // machine does not turn a late beat into a gap).
    let seq = await talk([a, b], callId, 1, 6);
    await a.next('billing', (m) => m.billedMs >= 4_000, 5_000);
    await sleep(500); // the last postings' billing messages
    const beforeCrash = Math.max(...a.all('billing').map((m) => m.billedMs));

    // Crash 1: both browsers come back within the grace window to the same call, which goes on.
    const crashedAt = Date.now();
    await server.kill();
    a.terminate();
    b.terminate();
    server = await start(dataDir);
    a = await TestClient.open(server.wsUrl, 'a again');
    b = await TestClient.open(server.wsUrl, 'b again');
    expect((await a.hello(ga.token)).callId).toBe(callId);
    expect((await b.hello(gb.token)).callId).toBe(callId);
    for (const c of [a, b]) c.send({ type: 'peer_state', callId, state: 'connected' });
    await Promise.all([a.next('call_connected'), b.next('call_connected')]);
    seq = await talk([a, b], callId, seq, 4);
    // Billing goes on from where it was: the restart's gap is not billed, nothing is billed twice.
    const resumed = await a.next('billing', (m) => m.billedMs > beforeCrash, 5_000);
    expect(resumed.callId).toBe(callId);
    await sleep(500);
    const lastBilled = Math.max(...a.all('billing').map((m) => m.billedMs));
    expect(lastBilled).toBeGreaterThan(beforeCrash);
    // A restart shorter than two heartbeats reads as unbroken media (it flows peer to peer meanwhile);
    // never more than the time that actually passed.
    expect(lastBilled - beforeCrash).toBeLessThanOrEqual(Date.now() - crashedAt + 1_000);

    // Crash 2: nobody comes back. After the grace window the call is settled at its last heartbeat.
    await server.kill();
    a.terminate();
    b.terminate();
    server = await start(dataDir);
    await sleep(GRACE_MS + 1_000);
    for (const g of [ga, gb]) {
      const me = await billing(server.url, g.token);
      expect(me.calls).toHaveLength(1);
      const [call] = me.calls;
      // At most one heartbeat of billable time is lost to the crash, and what was billed is charged exactly.
      expect(call!.billedMs).toBeGreaterThanOrEqual(lastBilled - 1_000);
      expect(call!.billedMs).toBeLessThanOrEqual(lastBilled);
      expect(call!.chargeMicros).toBe(truth(call!.billedMs));
      expect(me.balanceMicros).toBe(10_000_000 - truth(call!.billedMs));
    }
    const before = await billing(server.url, ga.token);

    // Crash 3: the settlement is idempotent.
    await server.kill();
    server = await start(dataDir);
    expect(await billing(server.url, ga.token)).toEqual(before);
    const health = (await (await fetch(`${server.url}/healthz`)).json()) as { status: string };
    expect(health.status).toBe('ok');
    expect(PROTOCOL_VERSION).toBe(1);
    void seq;
  });
});
