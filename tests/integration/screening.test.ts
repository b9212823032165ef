import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { connectCall, matchPair, useTestServer, type Guest, type TestClient, type TestServer } from './harness.js';

// Screening flags over HTTP (docs/safety.md): only a viewer in the call can flag it, once per call,
// within a per-person rate; a flag is a report with the frame and scores; flags from two different
// viewers hold the person (HOLD_REPORTED), one never does.

const API_TOKEN = 'operator-api-token-0123456789';
const JPEG = `data:image/jpeg;base64,${readFileSync(new URL('../fixtures/faces/grace_hopper.jpg', import.meta.url)).toString('base64')}`;
const SCORES = { Drawing: 0.01, Hentai: 0.05, Neutral: 0.04, Porn: 0.85, Sexy: 0.05 };

const admin = async (s: TestServer, path: string) =>
  (await fetch(`${s.httpUrl}${path}`, { headers: { authorization: `Bearer ${API_TOKEN}` } })).json() as Promise<unknown>;

const flag = (s: TestServer, token: string | undefined, callId: string, json: unknown) =>
  s.request('POST', `/api/calls/${callId}/screen-flag`, { ...(token ? { token } : {}), json });

/** Two people in a connected call; `viewer` flags `flagged`. */
async function call(s: TestServer, flagged?: Guest, by?: Guest) {
  const viewer = by ?? (await s.guest());
  const target = flagged ?? (await s.guest());
  const pair = await matchPair(await s.client('viewer', { guest: viewer }), await s.client('flagged', { guest: target }));
  await connectCall(pair);
  await s.duet.settled(); // the call's row is written
  const side = (id: string): TestClient => (pair.offerer.userId === id ? pair.offerer : pair.answerer);
  return { viewer, target, callId: pair.callId, viewerClient: side(viewer.userId), targetClient: side(target.userId) };
}

describe('screening flags', () => {
  const server = useTestServer({
    env: { ADMIN_TOKEN: API_TOKEN, HOLD_REPORTED: 'true', SCREEN_HOLD_VIEWERS: '2', SCREEN_THRESHOLD: '0.7', SCREEN_FLAGS_PER_HOUR: '3' },
  });

  it('files a flag from a viewer in the call with frame and scores, refuses everyone else, and raises the call', async () => {
    const s = server();
    const settings = (await s.request('GET', '/api/screening')).body;
    expect(settings).toMatchObject({ enabled: true, thresholds: { default: 0.7 } });

    const { viewer, target, callId } = await call(s);
    const stranger = await s.guest();
    expect((await flag(s, undefined, callId, { frame: JPEG, scores: SCORES })).status).toBe(401);
    expect((await flag(s, stranger.token, callId, { frame: JPEG, scores: SCORES })).status).toBe(403);
    expect((await flag(s, viewer.token, callId, { frame: 'data:image/png;base64,AAAA', scores: SCORES })).status).toBe(400);
    expect((await flag(s, viewer.token, callId, { frame: JPEG, scores: { ...SCORES, Porn: 2 } })).status).toBe(400);
    expect((await flag(s, viewer.token, callId, { frame: `${JPEG}${'A'.repeat(400_000)}`, scores: SCORES })).status).toBe(400);
    expect((await flag(s, viewer.token, callId, { frame: JPEG, scores: { ...SCORES, Porn: 0.1, Hentai: 0.1 } })).status).toBe(422);

    const filed = await flag(s, viewer.token, callId, { frame: JPEG, scores: SCORES, ms: 42 });
    expect(filed.status, JSON.stringify(filed.body)).toBe(201);
    expect(filed.body).toMatchObject({ viewers: 1, held: false });
    const again = await flag(s, viewer.token, callId, { frame: JPEG, scores: SCORES });
    expect(again).toMatchObject({ status: 200, body: { duplicate: true } });

    // The console's live view raises the call, with the per-person signal.
    const live = (await admin(s, '/api/admin/live-calls')) as {
      calls: Array<{ id: string; screenFlags: number; participants: Array<{ userId: string; flaggedBy: number }> }>;
    };
    expect(live.calls[0]).toMatchObject({ id: callId, screenFlags: 1 });
    expect(live.calls[0]!.participants.find((p) => p.userId === target.userId)?.flaggedBy).toBe(1);

    // The moderation queue holds the evidence: this frame and these scores, nothing else.
    const queue = (await admin(s, '/api/admin/reports')) as { reports: Array<{ id: string; reason: string; screenScores: unknown }> };
    const entry = queue.reports.find((r) => r.id === (filed.body as { reportId: string }).reportId)!;
    expect(entry).toMatchObject({ reason: 'screening', screenScores: { ...SCORES, ms: 42 } });
    const detail = (await admin(s, `/api/admin/reports/${entry.id}`)) as { frame: string; transcript: unknown; flaggedBy: number };
    expect(detail.frame).toBe(JPEG);
    expect(detail.transcript).toBeNull();
    expect(detail.flaggedBy).toBe(1);
  });

  it('holds a person flagged by two different viewers, never on one; limits flags per viewer', async () => {
    const s = server();
    const first = await call(s);
    expect((await flag(s, first.viewer.token, first.callId, { frame: JPEG, scores: SCORES })).body).toMatchObject({ held: false });
    first.targetClient.send({ type: 'leave' });
    await first.targetClient.next('call_ended');
    first.viewerClient.autoRequeue = false;
    await s.releaseClients();

    // One viewer's flag: the person still meets the common pool.
    const once = await s.client('flagged once', { guest: first.target });
    once.send({ type: 'join' });
    await once.next('queued');
    const clean = await s.client('clean');
    clean.send({ type: 'join' });
    await clean.next('queued');
    expect((await clean.next('matched', undefined, 5_000)).callId).toBeTruthy();
    await s.releaseClients();

    const second = await call(s, first.target);
    expect((await flag(s, second.viewer.token, second.callId, { frame: JPEG, scores: SCORES })).body).toMatchObject({
      viewers: 2,
      held: true,
    });
    await s.releaseClients();
    // Held at the next connection (as HOLD_REPORTED does): a clean newcomer is not matched with them.
    const held = await s.client('held', { guest: first.target });
    held.send({ type: 'join' });
    await held.next('queued');
    const newcomer = await s.client('newcomer');
    newcomer.send({ type: 'join' });
    await newcomer.next('queued');
    await newcomer.roundTrip();
    expect(newcomer.pending('matched')).toEqual([]);
    await s.releaseClients();

    // Per-viewer rate: three flags an hour here the fourth refused.
    const busy = await s.guest();
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const c = await call(s, undefined, busy);
      statuses.push((await flag(s, busy.token, c.callId, { frame: JPEG, scores: SCORES })).status);
      await s.releaseClients();
    }
    expect(statuses).toEqual([201, 201, 201, 429]);
  });

  it('holds a person at once when the second viewer flags them, not from their next connection', async () => {
    const s = server();
    const target = await s.guest();
    const targetClient = await s.client('flagged', { guest: target });
    targetClient.autoRequeue = false;
    for (const [n, held] of [
      [1, false],
      [2, true],
    ] as const) {
      const viewer = await s.guest();
      const viewerClient = await s.client(`viewer ${n}`, { guest: viewer });
      viewerClient.autoRequeue = false;
      const pair = await matchPair(targetClient, viewerClient);
      await connectCall(pair);
      await s.duet.settled();
      expect((await flag(s, viewer.token, pair.callId, { frame: JPEG, scores: SCORES })).body).toMatchObject({ viewers: n, held });
      viewerClient.send({ type: 'leave' });
      await targetClient.next('call_ended');
    }
    // Still on the same connection: back in line, they wait among the held, away from a newcomer.
    targetClient.send({ type: 'join' });
    await targetClient.next('queued');
    const newcomer = await s.client('newcomer');
    newcomer.send({ type: 'join' });
    await newcomer.next('queued');
    await newcomer.roundTrip();
    await targetClient.roundTrip();
    expect(newcomer.pending('matched')).toEqual([]);
    expect(targetClient.pending('matched')).toEqual([]);
    await s.releaseClients();
  });
});
