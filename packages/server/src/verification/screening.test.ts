import jpeg from 'jpeg-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPortrait, makeClip, prepareSource, type SourceFace } from '../../../../tests/fixtures/faces/generate.js';
import { FakeClock } from '../testing/fakeClock.js';
import { MemoryNonceStore } from './challenge.js';
import { createDetector, type Detector } from './detector.js';
import { LivenessVerifier } from './service.js';

// Junk must not buy the full detector (~0.3 s a frame): the real detector, wrapped to count calls.

let detector: Detector;
let collins: SourceFace;
const calls = { analyze: 0, screen: 0 };

beforeAll(async () => {
  detector = await createDetector({ keepLandmarks: true });
  collins = await prepareSource(detector, loadPortrait('collins'));
}, 60_000);
afterAll(() => detector?.close());

const counting: Detector = {
  analyze: (b) => (calls.analyze++, detector.analyze(b)),
  screen: (b) => (calls.screen++, detector.screen(b)),
  analyzeImage: (i) => detector.analyzeImage(i),
  close: () => undefined,
};

function jpegOf(width: number, height: number, pixel: (x: number, y: number) => number): Uint8Array {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      data.fill(pixel(x, y), (y * width + x) * 4, (y * width + x) * 4 + 3).writeUInt8(255, (y * width + x) * 4 + 3);
  return new Uint8Array(jpeg.encode({ data, width, height }, 80).data);
}

async function attempt(frames: Uint8Array[]) {
  const clock = new FakeClock();
  const verifier = new LivenessVerifier({ detector: counting, store: new MemoryNonceStore(clock), clock });
  const c = await verifier.issue('mallory');
  clock.advance(3000);
  calls.analyze = 0;
  calls.screen = 0;
  const started = performance.now();
  const outcome = await verifier.verify('mallory', { nonce: c.nonce, frames: frames.map((bytes, i) => ({ offsetMs: 100 * i, bytes })) });
  return { outcome, ms: performance.now() - started, ...calls };
}

describe('cheap checks before the detector', () => {
  it('refuses 24 blank 1280×720 frames from their headers alone', async () => {
    const blank = jpegOf(1280, 720, () => 128);
    const r = await attempt(Array.from({ length: 24 }, () => blank));
    expect(r.outcome.reasons).toEqual(['frame_too_large']);
    expect([r.screen, r.analyze]).toEqual([0, 0]);
  });

  it('refuses 24 blank frames of the size the browser sends after decoding one, without the detector', async () => {
    const blank = jpegOf(480, 360, () => 20);
    const r = await attempt(Array.from({ length: 24 }, () => blank));
    expect(r.outcome.reasons).toEqual(['blank_frame']);
    expect([r.screen, r.analyze]).toEqual([1, 0]);
  });

  it('refuses frames with no face on the shrunk first frame, without the full detector', async () => {
    // Stripes: not blank, no face.
    const stripes = jpegOf(480, 360, (x, y) => (((x >> 4) + (y >> 4)) % 2 ? 40 : 200));
    const r = await attempt(Array.from({ length: 24 }, () => stripes));
    expect(r.outcome.reasons).toEqual(['no_face']);
    expect([r.screen, r.analyze]).toEqual([1, 0]);
  });

  it('stops at the first frame that decides the attempt, and judges a real attempt in full', async () => {
    const clip = makeClip(collins, ['turn_left', 'blink'], { seed: 3 }).map((f) => f.jpeg);
    const stripes = jpegOf(384, 288, (x) => ((x >> 3) % 2 ? 30 : 220));
    const junk = await attempt([clip[0]!, stripes, stripes, ...Array.from({ length: 21 }, () => stripes)]);
    expect(junk.outcome.reasons).toEqual(['no_face']);
    // maxFacelessFrames is 1: the second faceless frame ends it.
    expect(junk.analyze).toBe(3);
    const real = await attempt(clip);
    expect(real.analyze).toBe(clip.length);
  }, 60_000);
});
