import { describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { FakeClock } from '../testing/fakeClock.js';
import { seededRandom } from '../testing/random.js';
import { type Challenge, issueChallenge, LIVENESS_ACTIONS, MemoryNonceStore, type RandomSource } from './challenge.js';
import type { FaceMeasure, FrameAnalysis } from './detector.js';
import { decodeImage, ImageDecodeError } from './image.js';
import { parseSubmission, VERIFICATION_LIMITS } from './schema.js';
import { isVerified } from './service.js';
import { type AnalyzedFrame, decide, VERIFICATION_REASONS } from './verify.js';

// Decisions over hand-made detector output; the real detector runs in liveness.test.ts.

const neutral: FaceMeasure = {
  score: 0.99,
  box: [100, 80, 120, 120],
  yaw: 0.01,
  pitch: 0.08,
  roll: 0,
  eyeOpenness: 0.3,
  mouthOpenness: 0.05,
  embedding: [1, 0.5, 0.25, 0],
  real: 0.8,
  live: 0.9,
};
const shows: Record<string, Partial<FaceMeasure>> = {
  turn_left: { yaw: -0.3 },
  turn_right: { yaw: 0.3 },
  look_up: { pitch: -0.2 },
  blink: { eyeOpenness: 0.15 },
  open_mouth: { mouthOpenness: 0.4 },
  neutral: {},
};
const face = (what: string, extra: Partial<FaceMeasure> = {}): FrameAnalysis => ({
  faces: 1,
  face: { ...neutral, ...shows[what], ...extra },
  ms: 1,
});
const frames = (...what: (string | FrameAnalysis)[]): AnalyzedFrame[] =>
  what.map((w, i) => ({ offsetMs: 500 + i * 400, analysis: typeof w === 'string' ? face(w) : w }));
const challenge = (...actions: Challenge['actions']): Challenge => ({
  nonce: '0'.repeat(32),
  subject: 'u1',
  actions,
  issuedAt: 0,
  deadline: 20_000,
});
const at = { receivedAt: 10_000 };

describe('decide', () => {
  it('accepts the requested actions in order, returning to neutral or not in between', () => {
    const r = decide(challenge('turn_left', 'blink', 'open_mouth'), frames('neutral', 'turn_left', 'neutral', 'blink', 'open_mouth'), at);
    expect(r).toMatchObject({ ok: true, reasons: [], observed: ['turn_left', 'blink', 'open_mouth'] });
    expect(r.scores).toEqual({ real: 0.8, live: 0.9, similarity: 1 });
  });

  it('refuses the same frames against another order', () => {
    const r = decide(challenge('blink', 'turn_left', 'open_mouth'), frames('neutral', 'turn_left', 'neutral', 'blink', 'open_mouth'), at);
    expect(r.reasons).toEqual(['wrong_order']);
  });

  it('refuses a missing action and an action nobody asked for, but tolerates a blink', () => {
    expect(decide(challenge('turn_left', 'look_up'), frames('neutral', 'turn_left', 'neutral'), at).reasons).toEqual(['action_missing']);
    expect(decide(challenge('turn_left', 'look_up'), frames('neutral', 'turn_right', 'turn_left', 'look_up'), at).reasons).toEqual([
      'unexpected_action',
    ]);
    expect(decide(challenge('turn_left', 'look_up'), frames('neutral', 'blink', 'turn_left', 'look_up'), at).ok).toBe(true);
  });

  it('refuses a still picture: nothing moves', () => {
    expect(decide(challenge('blink', 'turn_right'), frames('neutral', 'neutral', 'neutral', 'neutral'), at).reasons).toEqual([
      'action_missing',
    ]);
  });

  it('takes actions starting in the same frame in the requested order', () => {
    const both = face('turn_left', { eyeOpenness: 0.1 });
    expect(decide(challenge('blink', 'turn_left'), frames('neutral', both), at).ok).toBe(true);
    expect(decide(challenge('turn_left', 'blink'), frames('neutral', both), at).ok).toBe(true);
  });

  it('measures actions against the first frame, which must face the camera', () => {
    // A head already turned at the start is no baseline.
    expect(decide(challenge('turn_left', 'blink'), frames('turn_left', 'neutral', 'blink'), at).reasons).toContain('no_baseline');
    // Small eyes are fine: a blink is relative to the baseline's openness.
    const small = (e: number) => face('neutral', { eyeOpenness: e });
    expect(decide(challenge('blink', 'turn_left'), frames(small(0.2), small(0.12), face('turn_left', { eyeOpenness: 0.2 })), at).ok).toBe(
      true,
    );
  });

  it('refuses frames after the deadline, out of order, or later than the upload', () => {
    const late = frames('neutral', 'turn_left', 'blink');
    late[2]!.offsetMs = 20_001;
    expect(decide(challenge('turn_left', 'blink'), late, { receivedAt: 20_000 }).reasons).toContain('deadline_missed');
    expect(decide(challenge('turn_left', 'blink'), frames('neutral', 'turn_left', 'blink'), { receivedAt: 20_001 }).reasons).toEqual([
      'deadline_missed',
    ]);
    const swapped = frames('neutral', 'turn_left', 'blink');
    swapped[1]!.offsetMs = 5000;
    expect(decide(challenge('turn_left', 'blink'), swapped, at).reasons).toEqual(['bad_timestamps']);
    // Claims frames captured 9 s after the challenge, uploaded 2 s after it.
    const future = frames('neutral', 'turn_left', 'blink');
    future[2]!.offsetMs = 9000;
    expect(decide(challenge('turn_left', 'blink'), future, { receivedAt: 2000 }).reasons).toEqual(['bad_timestamps']);
  });

  it('refuses frames without a face (one miss after the first frame is tolerated), with two faces, or with another face', () => {
    const none: FrameAnalysis = { faces: 0, ms: 1 };
    expect(decide(challenge('turn_left', 'blink'), frames('neutral', 'turn_left', none, 'turn_left', 'blink'), at)).toMatchObject({
      ok: true,
      observed: ['turn_left', 'blink'],
    });
    expect(decide(challenge('turn_left', 'blink'), frames('neutral', none, 'turn_left', none, 'blink'), at).reasons).toEqual(['no_face']);
    expect(decide(challenge('turn_left', 'blink'), frames(none, 'neutral', 'turn_left', 'blink'), at).reasons).toEqual(['no_face']);
    const two: FrameAnalysis = { ...face('turn_left'), faces: 2 };
    expect(decide(challenge('turn_left', 'blink'), frames('neutral', two, 'blink'), at).reasons).toEqual(['multiple_faces']);
    const other = face('blink', { embedding: [0, 0.2, 0, 1] });
    const r = decide(challenge('turn_left', 'blink'), frames('neutral', 'turn_left', other), at);
    expect(r.reasons).toEqual(['face_changed']);
    expect(r.scores.similarity).toBeLessThan(0.55);
  });

  it('refuses low anti-spoofing or liveness scores (median over the frames)', () => {
    const spoof = (w: string) => face(w, { real: 0.1 });
    expect(decide(challenge('turn_left', 'blink'), frames(spoof('neutral'), spoof('turn_left'), 'blink'), at).reasons).toEqual([
      'spoof_suspected',
    ]);
    expect(decide(challenge('turn_left', 'blink'), frames(spoof('neutral'), 'turn_left', 'blink'), at).ok).toBe(true);
    const dead = (w: string) => face(w, { live: 0.2 });
    expect(decide(challenge('turn_left', 'blink'), frames(dead('neutral'), dead('turn_left'), 'blink'), at).reasons).toEqual([
      'liveness_failed',
    ]);
  });

  it('has unique reason codes', () => {
    expect(new Set(VERIFICATION_REASONS).size).toBe(VERIFICATION_REASONS.length);
  });
});

describe('challenges and nonces', () => {
  const random = (seed: number): RandomSource => {
    const next = seededRandom(seed);
    return { bytes: (n) => Uint8Array.from({ length: n }, () => Math.floor(next() * 256)) };
  };

  it('issues 2–3 distinct actions, a 128-bit nonce and a deadline; every action and count occurs', () => {
    const clock = new FakeClock();
    const seen = new Set<string>();
    const counts = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const c = issueChallenge('u1', clock, undefined, random(i));
      expect(c.nonce).toMatch(/^[0-9a-f]{32}$/);
      expect(new Set(c.actions).size).toBe(c.actions.length);
      expect(c.deadline - c.issuedAt).toBe(20_000);
      counts.add(c.actions.length);
      c.actions.forEach((a) => seen.add(a));
    }
    expect([...counts].sort()).toEqual([2, 3]);
    expect(seen.size).toBe(LIVENESS_ACTIONS.length);
    expect(issueChallenge('u1', clock).nonce).not.toBe(issueChallenge('u1', clock).nonce);
  });

  it('takes a nonce once; a replay is told apart from an unknown nonce until it is forgotten', async () => {
    const clock = new FakeClock();
    const store = new MemoryNonceStore(clock, 60_000);
    const c = issueChallenge('u1', clock);
    await store.put(c);
    await expect(store.put(c)).rejects.toThrow(/duplicate/);
    // Someone else holding the nonce cannot spend it: it stays open for the person it was issued to.
    expect(await store.take(c.nonce, 'u2')).toEqual({ kind: 'unknown' });
    const [a, b] = await Promise.all([store.take(c.nonce, 'u1'), store.take(c.nonce, 'u1')]);
    expect(a).toEqual({ kind: 'fresh', challenge: c });
    expect(b).toEqual({ kind: 'used' });
    expect(await store.take('f'.repeat(32), 'u1')).toEqual({ kind: 'unknown' });
    clock.advance(20_000 + 60_001);
    expect(await store.take(c.nonce, 'u1')).toEqual({ kind: 'unknown' });
    expect(store.size).toBe(0);
  });

  it('forgets challenges nobody answered', async () => {
    const clock = new FakeClock();
    const store = new MemoryNonceStore(clock, 1000);
    await store.put(issueChallenge('u1', clock));
    clock.advance(21_001);
    await store.put(issueChallenge('u2', clock));
    expect(store.size).toBe(1);
  });

  it('expires a verification', () => {
    expect(isVerified(1000, 999)).toBe(true);
    expect(isVerified(1000, 1000)).toBe(false);
    expect(isVerified(undefined, 0)).toBe(false);
  });
});

describe('uploads', () => {
  const png = (w: number, h: number) => {
    const p = new PNG({ width: w, height: h });
    p.data.fill(200);
    return new Uint8Array(PNG.sync.write(p));
  };
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
  const body = (n: number, image = b64(png(8, 8))) => ({
    nonce: 'a'.repeat(32),
    frames: Array.from({ length: n }, (_, i) => ({ offsetMs: i * 100, image })),
  });

  it('parses a valid body into bytes', () => {
    const r = parseSubmission(body(3));
    expect(r.ok).toBe(true);
    if (r.ok) expect(decodeImage(r.value.frames[0]!.bytes)).toMatchObject({ width: 8, height: 8 });
  });

  it('bounds the frame count and size with a reason code, never echoing the input', () => {
    expect(parseSubmission(body(VERIFICATION_LIMITS.maxFrames + 1))).toEqual({ ok: false, reason: 'too_many_frames' });
    expect(parseSubmission(body(2))).toEqual({ ok: false, reason: 'too_few_frames' });
    const big = Buffer.alloc(VERIFICATION_LIMITS.maxFrameBytes + 3, 1).toString('base64');
    expect(parseSubmission(body(3, big))).toEqual({ ok: false, reason: 'frame_too_large' });
    expect(parseSubmission({ ...body(3), extra: 1 })).toEqual({ ok: false, reason: 'bad_request' });
    expect(parseSubmission({ ...body(3), nonce: 'nope' })).toEqual({ ok: false, reason: 'bad_request' });
    expect(parseSubmission(body(3, 'not base64!'))).toEqual({ ok: false, reason: 'bad_request' });
    expect(parseSubmission('x')).toEqual({ ok: false, reason: 'bad_request' });
  });

  it('refuses non-images and oversized pictures before decoding their pixels', () => {
    const reason = (bytes: Uint8Array) => {
      try {
        decodeImage(bytes);
        return 'decoded';
      } catch (err) {
        return err instanceof ImageDecodeError ? err.reason : String(err);
      }
    };
    expect(reason(new TextEncoder().encode('GIF89a....'))).toBe('unsupported_format');
    expect(reason(png(1281, 4))).toBe('too_large');
    // A PNG header claiming 60000×60000 pixels: refused from the header alone.
    const bomb = png(4, 4);
    new DataView(bomb.buffer).setUint32(16, 60_000);
    new DataView(bomb.buffer).setUint32(20, 60_000);
    expect(reason(bomb)).toBe('too_large');
    expect(reason(png(4, 4).slice(0, 40))).toBe('corrupt');
  });
});
