/**
 * Liveness verification (issue #8): server-side time per attempt and error counts of the decision,
 * with the real detector on clips generated from two public-domain portraits
 * (tests/fixtures/faces). `npx tsx bench/verification.ts [--attempts=8] [--seed=1] [--verbose]`.
 *
 * Every frame goes through the detector once (decode included, as on an upload); the decision is
 * then taken for each attempt, genuine and attack alike:
 * - genuine: the person performs the issued challenge (varied sequences, face size, lighting, camera
 *   shake, speed of the movement) — a rejection is a false reject;
 * - attacks — an acceptance is a false accept:
 *   - still photo (8 frames of the still, shaken and relit);
 *   - barely performed (each action at a quarter of its movement);
 *   - face swap (the baseline of one person, the actions of the other);
 *   - replay: every genuine clip against every other challenge that could be issued (2–3 ordered
 *     actions out of 5: 80 sequences), i.e. a recording played back to a fresh challenge.
 */
import {
  issueChallenge,
  LIVENESS_ACTIONS,
  type Challenge,
  type LivenessAction,
  type RandomSource,
} from '../packages/server/src/verification/challenge.js';
import { createDetector } from '../packages/server/src/verification/detector.js';
import { type AnalyzedFrame, decide, DEFAULT_THRESHOLDS, type VerificationResult } from '../packages/server/src/verification/verify.js';
import { systemClock } from '../packages/server/src/util/clock.js';
import {
  type ClipFrame,
  loadPortrait,
  makeClip,
  renderClip,
  type SourceFace,
  prepareSource,
  type PortraitName,
} from '../tests/fixtures/faces/generate.js';
import { arg, flag, machine } from './lib/machine.js';
import { rng } from './lib/random.js';
import { fmt, median, out, table } from './lib/stats.js';

const ATTEMPTS = Number(arg('attempts', '8')); // genuine attempts per person
const SEED = Number(arg('seed', '1'));
const VERBOSE = flag('verbose');

interface Attempt {
  person: PortraitName;
  challenge: Challenge;
  frames: AnalyzedFrame[];
  /** Server time for decode + detector over the attempt's frames. */
  ms: number;
}

const r = rng(SEED);
const randomSource: RandomSource = { bytes: (n) => Uint8Array.from({ length: n }, () => Math.floor(r() * 256)) };
const clock = systemClock;
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

const detector = await createDetector({ keepLandmarks: true });
const sources: Record<PortraitName, SourceFace> = {
  collins: await prepareSource(detector, loadPortrait('collins')),
  hopper: await prepareSource(detector, loadPortrait('hopper')),
};

async function analyze(clip: readonly ClipFrame[]): Promise<{ frames: AnalyzedFrame[]; ms: number }> {
  const started = performance.now();
  const frames: AnalyzedFrame[] = [];
  for (const f of clip) frames.push({ offsetMs: f.offsetMs, analysis: await detector.analyze(f.jpeg) });
  return { frames, ms: performance.now() - started };
}

function view() {
  return {
    faceFraction: pick([0.25, 0.32, 0.4, 0.5]),
    brightness: pick([0.7, 0.85, 1, 1.2]),
    quality: pick([70, 85, 92]),
  };
}

const genuine: Attempt[] = [];
const stills: Attempt[] = [];
const weak: Attempt[] = [];
const started = performance.now();
for (const person of ['collins', 'hopper'] as const) {
  for (let i = 0; i < ATTEMPTS; i++) {
    const challenge = issueChallenge(person, clock, undefined, randomSource);
    const clip = makeClip(sources[person], challenge.actions, {
      seed: Math.floor(r() * 1e9),
      jitter: pick([0.2, 0.6, 1]),
      ramp: pick([
        [0.6, 1, 1],
        [1, 1],
        [0.5, 0.9],
      ]),
      stepMs: pick([250, 350, 500]),
      view: view(),
    });
    genuine.push({ person, challenge, ...(await analyze(clip)) });
  }
  for (let i = 0; i < Math.max(1, ATTEMPTS / 4); i++) {
    const challenge = issueChallenge(person, clock, undefined, randomSource);
    const still = renderClip(
      sources[person],
      Array.from({ length: 8 }, () => ({})),
      { seed: Math.floor(r() * 1e9), jitter: 1, view: view() },
    );
    stills.push({ person, challenge, ...(await analyze(still)) });
    const barely = makeClip(sources[person], challenge.actions, { seed: Math.floor(r() * 1e9), ramp: [0.2, 0.25], view: view() });
    weak.push({ person, challenge, ...(await analyze(barely)) });
  }
}
const detectSeconds = (performance.now() - started) / 1000;

const at = (c: Challenge) => ({ receivedAt: c.issuedAt + 15_000 });
const judge = (c: Challenge, frames: AnalyzedFrame[]): VerificationResult => decide(c, frames, at(c), DEFAULT_THRESHOLDS);

// Every challenge the issuer can produce: ordered 2- and 3-action sequences.
const sequences: LivenessAction[][] = [];
for (const a of LIVENESS_ACTIONS)
  for (const b of LIVENESS_ACTIONS) {
    if (b === a) continue;
    sequences.push([a, b]);
    for (const c of LIVENESS_ACTIONS) if (c !== a && c !== b) sequences.push([a, b, c]);
  }

const reasons = new Map<string, number>();
const count = (res: VerificationResult) => {
  for (const x of res.reasons) reasons.set(x, (reasons.get(x) ?? 0) + 1);
};

const rows: string[][] = [];
const falseRejects = genuine.filter((a) => !judge(a.challenge, a.frames).ok);
rows.push(['genuine (should pass)', fmt(genuine.length), '', fmt(falseRejects.length)]);
for (const a of falseRejects) {
  const res = judge(a.challenge, a.frames);
  out(
    `false reject: ${a.person} ${a.challenge.actions.join(',')}: ${res.reasons.join(',')}; frames: ${res.frameActions.map((x) => x.join('+') || '-').join(' | ')}`,
  );
  if (VERBOSE)
    out(
      a.frames
        .map((f) => {
          const x = f.analysis.face;
          return x ? `${x.yaw.toFixed(2)}/${x.pitch.toFixed(2)}/${x.eyeOpenness.toFixed(2)}/${x.mouthOpenness.toFixed(2)}` : 'none';
        })
        .join(' '),
    );
}

const attack = (name: string, tries: { challenge: Challenge; frames: AnalyzedFrame[] }[]) => {
  let accepted = 0;
  for (const t of tries) {
    const res = judge(t.challenge, t.frames);
    count(res);
    if (res.ok) accepted++;
  }
  rows.push([name, fmt(tries.length), fmt(accepted), '']);
  return accepted;
};
let fa = 0;
fa += attack('still photo', stills);
fa += attack('barely performed (25 %)', weak);
const swaps = genuine.flatMap((a) => {
  const other =
    genuine.find((b) => b.person !== a.person && b.challenge.actions.join() === a.challenge.actions.join()) ??
    genuine.find((b) => b.person !== a.person)!;
  return [{ challenge: other.challenge, frames: [a.frames[0]!, ...other.frames.slice(1)] }];
});
fa += attack('face swap after the baseline', swaps);
const replays = genuine.flatMap((a) =>
  sequences
    .filter((s) => s.join() !== a.challenge.actions.join())
    .map((actions) => ({ challenge: { ...a.challenge, actions }, frames: a.frames })),
);
const replayAccepted = attack('replay against another challenge', replays);
fa += replayAccepted;

const perAttempt = genuine.map((a) => a.ms);
const framesPer = genuine.map((a) => a.frames.length);
const perFrame = genuine.flatMap((a) => a.frames.map((f) => f.analysis.ms));
out(`# Liveness verification — ${machine()}`);
out();
out(`detector: @vladmandic/human on tfjs-backend-wasm (SIMD, one thread); ${fmt(detectSeconds, 1)} s to analyse every frame once`);
out(
  `server time per genuine attempt (decode + detector, ${fmt(median(framesPer))} frames median): median ${fmt(median(perAttempt))} ms, max ${fmt(Math.max(...perAttempt))} ms; per frame median ${fmt(median(perFrame))} ms`,
);
out();
out(table(['attempts', 'count', 'false accepts', 'false rejects'], rows));
out();
out(
  `false-reject rate ${fmt((100 * falseRejects.length) / genuine.length, 1)} % (${falseRejects.length}/${genuine.length}); ` +
    `false-accept rate ${fmt((100 * fa) / (stills.length + weak.length + swaps.length + replays.length), 2)} % (${fa}/${stills.length + weak.length + swaps.length + replays.length}), ` +
    `of which replays ${replayAccepted}/${replays.length} (a recording whose actions, less a tolerated blink, happen to be the new challenge)`,
);
out(`attack rejections by reason: ${[...reasons].map(([k, v]) => `${k} ${v}`).join(', ')}`);
detector.close();
