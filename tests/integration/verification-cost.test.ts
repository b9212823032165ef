import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import type { VerificationChallengeInfo, VerificationResultInfo } from '@duet/protocol';
import { VerificationRepository } from '../../packages/server/src/verification/sqlStore.js';
import { matchPair, useTestServer } from './harness.js';

// What the liveness check costs an attacker over HTTP (issue 13): who may ask, how often per
// person and per address, and whose nonce is whose. Uploads here are blank frames, refused by the
// cheap checks, so no test waits on the detector's full pipeline.

const API_TOKEN = 'operator-api-token-0123456789';
const blank = Buffer.from(jpeg.encode({ data: Buffer.alloc(480 * 360 * 4, 90), width: 480, height: 360 }, 80).data).toString('base64');
const blankUpload = (nonce: string) => ({ nonce, frames: [0, 1, 2, 3].map((i) => ({ offsetMs: 100 * i, image: blank })) });

describe('who may ask the detector for time', () => {
  const server = useTestServer({ env: { ADMIN_TOKEN: API_TOKEN } });

  it('gives challenges only to people who accepted the rules', async () => {
    const s = server();
    const stranger = await s.guest({ acceptRules: false });
    const refused = await s.request('POST', '/api/me/verification/challenge', { token: stranger.token, json: {} });
    expect(refused).toMatchObject({ status: 403, body: { error: { code: 'rules_not_accepted' } } });
    await s.acceptRules(stranger.token);
    expect((await s.request('POST', '/api/me/verification/challenge', { token: stranger.token, json: {} })).status).toBe(200);
  });

  it('lets only the person a nonce was issued to spend it', async () => {
    const s = server();
    const ann = await s.guest();
    const eve = await s.guest();
    const challenge = (await s.request('POST', '/api/me/verification/challenge', { token: ann.token, json: {} }))
      .body as VerificationChallengeInfo;
    const stolen = (await s.request('POST', '/api/me/verification', { token: eve.token, json: blankUpload(challenge.nonce) }))
      .body as VerificationResultInfo;
    expect(stolen).toMatchObject({ ok: false, reasons: ['nonce_unknown'] });
    // Eve's try did not burn it: Ann's own upload is judged (and refused for its blank frames).
    const own = (await s.request('POST', '/api/me/verification', { token: ann.token, json: blankUpload(challenge.nonce) }))
      .body as VerificationResultInfo;
    expect(own).toMatchObject({ ok: false, reasons: ['blank_frame'] });
  });

  it('limits uploads per address across fresh guests, with a retry-after', async () => {
    const s = server();
    const attacker = '203.0.113.50';
    const upload = async () => {
      const g = await s.guest();
      const c = (await s.request('POST', '/api/me/verification/challenge', { token: g.token, json: {}, from: attacker }))
        .body as VerificationChallengeInfo;
      return fetch(`${s.httpUrl}/api/me/verification`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${g.token}`, 'x-forwarded-for': attacker },
        body: JSON.stringify(blankUpload(c.nonce)),
      });
    };
    for (let i = 0; i < 3; i++) expect((await upload()).status).toBe(200);
    const fourth = await upload();
    expect(fourth.status).toBe(429);
    expect(Number(fourth.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await fourth.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'rate_limited',
      message: expect.stringContaining('network'),
    });
    // Someone on another network is not affected.
    const other = await s.guest();
    const c = (await s.request('POST', '/api/me/verification/challenge', { token: other.token, json: {} }))
      .body as VerificationChallengeInfo;
    expect((await s.request('POST', '/api/me/verification', { token: other.token, json: blankUpload(c.nonce) })).status).toBe(200);
  });

  it("shows moderators each live call's participants' real verification status", async () => {
    const s = server();
    const vera = await s.guest();
    await new VerificationRepository(s.duet.storage.db).setVerifiedUntil(vera.userId, Date.now() + 24 * 3600_000);
    const pair = await matchPair(await s.client('vera', { guest: vera }), await s.client('plain'));
    const res = await fetch(`${s.httpUrl}/api/admin/live-calls`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    const { calls } = (await res.json()) as { calls: Array<{ id: string; participants: Array<{ userId: string; verified: boolean }> }> };
    const call = calls.find((c) => c.id === pair.callId)!;
    expect(call.participants.map((p) => [p.userId === vera.userId, p.verified]).sort()).toEqual([
      [false, false],
      [true, true],
    ]);
  });
});
