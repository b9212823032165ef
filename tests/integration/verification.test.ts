import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LivenessAction, VerificationChallengeInfo, VerificationResultInfo, VerificationStatus } from '@duet/protocol';
import { FakeClock } from '../../packages/server/src/testing/fakeClock.js';
import { createDetector, type Detector } from '../../packages/server/src/verification/detector.js';
import { loadPortrait, makeClip, prepareSource, type ClipFrame, type SourceFace } from '../fixtures/faces/generate.js';
import { useTestServer } from './harness.js';

// The verification API end to end in one process: the server judges uploads with the real
// detector (human on the WASM backend), on clips generated from a public-domain portrait.

const API_TOKEN = 'operator-api-token-0123456789';
// Servers start and stop around each test while the detector works on two shared cores.
vi.setConfig({ hookTimeout: 60_000 });
const clock = new FakeClock(Date.UTC(2026, 10, 27, 12, 0, 0));
let detector: Detector;
let collins: SourceFace;

beforeAll(async () => {
  detector = await createDetector({ keepLandmarks: true });
  collins = await prepareSource(detector, loadPortrait('collins'));
}, 60_000);
afterAll(() => detector?.close());

/** The frames of a clip as the browser uploads them, once the clip's time has passed on the server's clock. */
function upload(nonce: string, clip: readonly ClipFrame[]) {
  clock.advance(clip.at(-1)!.offsetMs + 500);
  return { nonce, frames: clip.map((f) => ({ offsetMs: f.offsetMs, image: Buffer.from(f.jpeg).toString('base64') })) };
}

describe('verified humans over HTTP and in matching', () => {
  const server = useTestServer({ env: { ADMIN_TOKEN: API_TOKEN, VERIFICATION_FAILURES_PER_HOUR: '3' }, create: { clock } });

  it(
    'verifies a person who performs the challenge, refuses a reused nonce and the wrong order, and limits failures',
    { timeout: 120_000 },
    async () => {
      const s = server();
      const ann = await s.guest();
      const status = async () => (await s.request('GET', '/api/me/verification', { token: ann.token })).body as VerificationStatus;
      expect(await status()).toMatchObject({ enabled: true, required: false, verified: false, verifiedUntil: null, attemptsLeft: 3 });
      expect((await s.request('GET', '/api/me/verification')).status).toBe(401);

      // The model files the browser needs come from Duet itself.
      const models = await fetch(`${s.httpUrl}/models/human/blazeface.json`);
      expect(models.status).toBe(200);

      const challenge = (await s.request('POST', '/api/me/verification/challenge', { token: ann.token, json: {} }))
        .body as VerificationChallengeInfo;
      expect(challenge.actions.length).toBeGreaterThanOrEqual(2);
      expect(challenge.ttlMs).toBeGreaterThan(5_000);

      // The wrong order first (a fresh challenge each time: nonces are single-use).
      const other = (await s.request('POST', '/api/me/verification/challenge', { token: ann.token, json: {} }))
        .body as VerificationChallengeInfo;
      const reversed = [...other.actions].reverse() as LivenessAction[];
      const wrong = (
        await s.request('POST', '/api/me/verification', {
          token: ann.token,
          timeoutMs: 60_000,
          json: upload(other.nonce, makeClip(collins, reversed, { seed: 5 })),
        })
      ).body as VerificationResultInfo;
      expect(wrong.ok).toBe(false);
      expect(wrong.message.length).toBeGreaterThan(10);
      expect((await status()).attemptsLeft).toBe(2);

      const right = (
        await s.request('POST', '/api/me/verification', {
          token: ann.token,
          timeoutMs: 60_000,
          json: upload(challenge.nonce, makeClip(collins, challenge.actions, { seed: 7 })),
        })
      ).body as VerificationResultInfo;
      expect(right, JSON.stringify(right)).toMatchObject({ ok: true, reasons: [] });
      expect(right.verifiedUntil).toBeGreaterThan(clock.now() + 29 * 24 * 3600_000);
      expect(await status()).toMatchObject({ verified: true, verifiedUntil: right.verifiedUntil });

      const replay = (
        await s.request('POST', '/api/me/verification', {
          token: ann.token,
          timeoutMs: 60_000,
          json: upload(challenge.nonce, makeClip(collins, challenge.actions, { seed: 7 })),
        })
      ).body as VerificationResultInfo;
      expect(replay).toMatchObject({ ok: false, reasons: ['nonce_reused'] });
      // Malformed uploads are refused at the edge, and count as failures.
      expect((await s.request('POST', '/api/me/verification', { token: ann.token, json: { nonce: 'x', frames: [] } })).status).toBe(400);
      const limited = await s.request('POST', '/api/me/verification/challenge', { token: ann.token, json: {} });
      expect(limited.status).toBe(429);
      expect((await status()).attemptsLeft).toBe(0);

      // Moderators see the status and the attempts, and can revoke (audited).
      const view = await fetch(`${s.httpUrl}/api/admin/users/${ann.userId}/verification`, {
        headers: { authorization: `Bearer ${API_TOKEN}` },
      });
      const seen = (await view.json()) as { verifiedUntil: number | null; attempts: Array<{ ok: boolean; reasons: string[] }> };
      expect(seen.verifiedUntil).toBe(right.verifiedUntil);
      expect(seen.attempts.filter((a) => a.ok)).toHaveLength(1);
      const revoke = (json: unknown) =>
        fetch(`${s.httpUrl}/api/admin/users/${ann.userId}/verification/revoke`, {
          method: 'POST',
          headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify(json),
        });
      expect((await revoke({})).status).toBe(400);
      expect((await revoke({ reason: 'a recording, per a report' })).status).toBe(204);
      expect(await status()).toMatchObject({ verified: false, verifiedUntil: null });
      expect((await revoke({ reason: 'again' })).status).toBe(404);
    },
  );

  it('shows partners who is verified, and matches people who ask for it only with verified people', { timeout: 120_000 }, async () => {
    const s = server();
    const vera = await s.guest();
    const challenge = (await s.request('POST', '/api/me/verification/challenge', { token: vera.token, json: {} }))
      .body as VerificationChallengeInfo;
    const result = (
      await s.request('POST', '/api/me/verification', {
        token: vera.token,
        timeoutMs: 60_000,
        json: upload(challenge.nonce, makeClip(collins, challenge.actions, { seed: 9 })),
      })
    ).body as VerificationResultInfo;
    expect(result, JSON.stringify(result)).toMatchObject({ ok: true });

    const picky = await s.client('picky');
    const plain = await s.client('plain');
    picky.send({ type: 'join', verifiedOnly: true });
    await picky.next('queued');
    plain.send({ type: 'join' });
    await plain.next('queued');
    // Neither is verified, and picky asked for verified people only: they are not put together.
    await picky.roundTrip();
    expect(picky.all('matched')).toEqual([]);

    const v = await s.client('vera', { guest: vera });
    v.send({ type: 'join' });
    const [toVera, toPicky] = await Promise.all([v.next('matched'), picky.next('matched')]);
    expect(toPicky.callId).toBe(toVera.callId);
    expect(toPicky.partnerVerified).toBe(true);
    expect(toVera.partnerVerified).toBeUndefined();
    expect(plain.all('matched')).toEqual([]);
  });
});

describe('a server that connects only verified people', () => {
  const server = useTestServer({ env: { VERIFIED_ONLY: 'true' } });

  it('refuses to queue someone unverified, with a clear code', async () => {
    const s = server();
    const a = await s.client('a');
    a.send({ type: 'join' });
    expect(await a.nextError('verification_required')).toMatchObject({ ref: 'join' });
    const status = (await s.request('GET', '/api/me/verification', { token: (await s.guest()).token })).body as VerificationStatus;
    expect(status).toMatchObject({ enabled: true, required: true });
  });
});
