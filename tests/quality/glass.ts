/**
 * Glass-to-glass delay, measured on the machine's clock rather than estimated from stats: both
 * pages feed the lab's clips (clips.ts) and read them back.
 *
 * - Video: on every frame of its own preview (`local-video`, `requestVideoFrameCallback`) a page
 *   reads the burned-in frame number and notes when that frame was captured; on every frame of the
 *   partner's video (`remote-video`) it reads the number again and notes when the frame is shown
 *   (`expectedDisplayTime`). Delay = shown on the receiver − captured on the sender, same number.
 * - Audio: an AudioWorklet on each page hears its own microphone track and the partner's track and
 *   notes the onset and pitch of every tone burst. Delay = heard from the partner − heard from its
 *   own microphone, same burst. Both onsets pass the same WebAudio path, so what is left is
 *   capture (after the microphone's own 10 ms buffer) → APM → Opus → network → jitter buffer →
 *   decode → playout.
 *
 * Each page's times are `performance.now()`; each page also finds its offset to the system clock
 * (`Date.now()`, the edge of a millisecond tick, so sub-millisecond), and the two browsers — separate
 * processes on one machine — are compared on that clock.
 */
import type { Page } from 'playwright-core';
import { AUDIO, CLIP, CODE, TONES } from './clips.js';
import { percentile } from './measure.js';

export interface GlassRecord {
  /** Date.now() − performance.now() on this page, ms. */
  wallOffset: number;
  /** Own preview: [performance.now() of capture, frame number]. */
  sent: Array<[number, number]>;
  /** Partner's video: [expectedDisplayTime, frame number or -1 when the code did not read]. */
  shown: Array<[number, number]>;
  /** Tone onsets (page clock, ms) and pitch index, from the own microphone and from the partner. */
  toneSent: Array<[number, number]>;
  toneHeard: Array<[number, number]>;
  /** Whether own-preview frames carried a capture time (else the preview's presentation time was used). */
  captureTimes: boolean;
  audioClock: string;
}

/**
 * Where the lab puts the tone detector in the web app it serves: the app's content security policy
 * loads worklet modules from its own origin only (not from a blob).
 */
export const ONSETS_PATH = '/quality-onsets.js';

/**
 * The tone detector, run in the page's audio rendering thread (one instance per track): an envelope
 * finds an onset after 60 ms of quiet, then Goertzel filters over the next 40 ms name its pitch.
 */
export const ONSETS_WORKLET = `
const TONES = ${JSON.stringify(TONES)};
class Onsets extends AudioWorkletProcessor {
  constructor() {
    super();
    this.env = 0; this.quiet = 0; this.state = 0; this.n = 0; this.onset = 0;
    this.coef = TONES.map((f) => 2 * Math.cos((2 * Math.PI * f) / sampleRate));
    this.s1 = TONES.map(() => 0); this.s2 = TONES.map(() => 0);
  }
  process(inputs) {
    const x = inputs[0] && inputs[0][0];
    if (!x) return true;
    const decay = Math.exp(-1 / (0.004 * sampleRate));
    const quietNeed = 0.06 * sampleRate, windowLen = 0.04 * sampleRate;
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      this.env = Math.max(Math.abs(v), this.env * decay);
      if (this.state === 0) {
        // Between the two thresholds (a burst's first milliseconds) the quiet count holds.
        if (this.env > 0.04) {
          if (this.quiet >= quietNeed) {
            this.state = 1; this.onset = currentTime + i / sampleRate; this.n = 0;
            this.s1.fill(0); this.s2.fill(0);
          } else this.quiet = 0;
        } else if (this.env < 0.01) this.quiet++;
      }
      if (this.state === 1) {
        for (let k = 0; k < TONES.length; k++) {
          const s = v + this.coef[k] * this.s1[k] - this.s2[k];
          this.s2[k] = this.s1[k]; this.s1[k] = s;
        }
        if (++this.n >= windowLen) {
          let best = 0, bestP = -1;
          for (let k = 0; k < TONES.length; k++) {
            const p = this.s1[k] ** 2 + this.s2[k] ** 2 - this.coef[k] * this.s1[k] * this.s2[k];
            if (p > bestP) { bestP = p; best = k; }
          }
          this.port.postMessage([this.onset, best]);
          this.state = 2; this.quiet = 0;
        }
      } else if (this.state === 2) {
        if (this.env >= 0.01) this.quiet = 0;
        else if (++this.quiet >= quietNeed) this.state = 0;
      }
    }
    return true;
  }
}
registerProcessor('duet-onsets', Onsets);
`;

/** Starts reading the clips on a connected page (both videos and both audio tracks). */
export async function startGlass(page: Page): Promise<void> {
  await page.evaluate(
    async ({ code, worklet }) => {
      const w = window as unknown as { __glass?: GlassRecord };
      if (w.__glass) return;
      // The system clock's millisecond edge against the page clock, five times, the median.
      const offsets: number[] = [];
      for (let i = 0; i < 5; i++) {
        const d0 = Date.now();
        let d = d0;
        let p = 0;
        while (d === d0) {
          p = performance.now();
          d = Date.now();
        }
        offsets.push(d - p);
      }
      offsets.sort((a, b) => a - b);
      const g: GlassRecord = {
        wallOffset: offsets[2]!,
        sent: [],
        shown: [],
        toneSent: [],
        toneHeard: [],
        captureTimes: false,
        audioClock: 'none',
      };
      w.__glass = g;

      const canvas = document.createElement('canvas');
      const cellPx = 8;
      canvas.width = code.cells * cellPx;
      canvas.height = cellPx;
      const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
      /** The frame number in the video's current frame, or -1 when it does not read cleanly. */
      const readCode = (video: HTMLVideoElement): number => {
        const vw = video.videoWidth;
        const vh = video.videoHeight;
        if (!vw || !vh) return -1;
        ctx.drawImage(video, code.x * vw, code.y * vh, code.cells * code.cellW * vw, code.cellH * vh, 0, 0, canvas.width, canvas.height);
        const d = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
        const lum: number[] = [];
        for (let c = 0; c < code.cells; c++) {
          let sum = 0;
          let count = 0;
          for (let y = 2; y < cellPx - 2; y++) {
            for (let x = c * cellPx + 2; x < (c + 1) * cellPx - 2; x++) {
              const o = (y * canvas.width + x) * 4;
              sum += 0.299 * d[o]! + 0.587 * d[o + 1]! + 0.114 * d[o + 2]!;
              count++;
            }
          }
          lum.push(sum / count);
        }
        const black = lum[0]!;
        const white = lum[1]!;
        if (white - black < 60) return -1;
        const mid = (black + white) / 2;
        const margin = (white - black) * 0.2;
        let n = 0;
        let parity = 0;
        for (let b = 0; b <= code.frameBits; b++) {
          const v = lum[b + 2]!;
          if (Math.abs(v - mid) < margin) return -1;
          const bit = v > mid ? 1 : 0;
          if (b < code.frameBits) n |= bit << b;
          parity ^= bit;
        }
        return parity === 0 ? n : -1;
      };

      const local = document.querySelector<HTMLVideoElement>('[data-testid="local-video"]');
      const remote = document.querySelector<HTMLVideoElement>('[data-testid="remote-video"]');
      if (local) {
        const onLocal = (now: number, meta: VideoFrameCallbackMetadata) => {
          const m = meta as VideoFrameCallbackMetadata & { captureTime?: number };
          const n = readCode(local);
          if (n >= 0) {
            if (typeof m.captureTime === 'number' && m.captureTime > 0) g.captureTimes = true;
            g.sent.push([typeof m.captureTime === 'number' && m.captureTime > 0 ? m.captureTime : now, n]);
          }
          local.requestVideoFrameCallback(onLocal);
        };
        local.requestVideoFrameCallback(onLocal);
      }
      if (remote) {
        const onRemote = (_now: number, meta: VideoFrameCallbackMetadata) => {
          g.shown.push([meta.expectedDisplayTime, readCode(remote)]);
          remote.requestVideoFrameCallback(onRemote);
        };
        remote.requestVideoFrameCallback(onRemote);
      }

      const ac = new AudioContext({ sampleRate: 48_000 });
      await ac.audioWorklet.addModule(worklet);
      if (ac.state !== 'running') await ac.resume();
      /** Context time → page clock: through the output timestamp when the device reports one. */
      const toPage = (t: number): number => {
        const ts = ac.getOutputTimestamp();
        if (ts.contextTime && ts.performanceTime) {
          g.audioClock = 'output timestamp';
          return ts.performanceTime + (t - ts.contextTime) * 1000;
        }
        g.audioClock = 'current time';
        return performance.now() - (ac.currentTime - t) * 1000;
      };
      const listen = (stream: MediaStream | null, into: Array<[number, number]>) => {
        if (!stream || stream.getAudioTracks().length === 0) return;
        const node = new AudioWorkletNode(ac, 'duet-onsets', { numberOfOutputs: 1 });
        node.port.onmessage = (e: MessageEvent<[number, number]>) => into.push([toPage(e.data[0]), e.data[1]]);
        // Only the audio track: the element keeps playing the stream as the app set it up.
        ac.createMediaStreamSource(new MediaStream(stream.getAudioTracks())).connect(node);
        node.connect(ac.destination);
      };
      listen(local?.srcObject as MediaStream | null, g.toneSent);
      listen(remote?.srcObject as MediaStream | null, g.toneHeard);
    },
    { code: CODE, worklet: ONSETS_PATH },
  );
}

export async function readGlass(page: Page): Promise<GlassRecord | null> {
  return page.evaluate(() => (window as unknown as { __glass?: GlassRecord }).__glass ?? null);
}

export interface GlassSummary {
  /** Partner's frames shown in the window, and how many of them were matched to their capture. */
  videoFrames: number;
  videoMatched: number;
  videoP50: number | null;
  videoP95: number | null;
  /** Tone bursts the partner's microphone gave in the window, heard here, and their delay. */
  tonesSent: number;
  tonesHeard: number;
  audioP50: number | null;
  audioP95: number | null;
  /** Per second of the window: the p95 of the measured video delay, the median audio delay (null: none matched). */
  videoP95BySecond: Array<number | null>;
  audioBySecond: Array<number | null>;
}

const FRAME_MS = 1000 / CLIP.fps;
const LOOP_MS = CLIP.frames * FRAME_MS;
const TONE_LOOP_MS = AUDIO.periodMs * TONES.length;

/**
 * The newest capture of frame `n` at or before `at` (system clock): the sender's own reading of
 * that frame, or else of a frame at most three away, shifted by the clip's frame interval (a busy
 * preview skips frames). Null when none is in reach.
 */
function captureOf(sent: Array<[number, number]>, n: number, at: number): number | null {
  let best: number | null = null;
  for (let i = sent.length - 1; i >= 0; i--) {
    const [t, m] = sent[i]!;
    if (t > at) continue;
    if (at - t > LOOP_MS / 2) break;
    let d = n - m;
    if (d > CLIP.frames / 2) d -= CLIP.frames;
    if (d < -CLIP.frames / 2) d += CLIP.frames;
    if (d === 0) return t;
    if (Math.abs(d) <= 3 && best === null) best = t + d * FRAME_MS;
  }
  return best !== null && best <= at ? best : null;
}

function bySecondOf(values: number[][], seconds: number, p: number): Array<number | null> {
  return Array.from({ length: seconds }, (_, s) => {
    const v = percentile(values[s] ?? [], p);
    return v === null ? null : Math.round(v);
  });
}

/**
 * Glass-to-glass figures of what `receiver` got from `sender` between `from` and `to`
 * (the receiver's page clock, ms).
 */
export function glassSummary(receiver: GlassRecord, sender: GlassRecord, from: number, to: number): GlassSummary {
  const rw = receiver.wallOffset;
  const sentWall: Array<[number, number]> = sender.sent.map(([t, n]) => [t + sender.wallOffset, n]);
  const shown = receiver.shown.filter(([t]) => t >= from && t < to);
  const video: number[] = [];
  const bySecond: number[][] = [];
  for (const [t, n] of shown) {
    if (n < 0) continue;
    const at = t + rw;
    const c = captureOf(sentWall, n, at);
    if (c === null) continue;
    video.push(at - c);
    (bySecond[Math.floor((t - from) / 1000)] ??= []).push(at - c);
  }
  const toneWall: Array<[number, number]> = sender.toneSent.map(([t, k]) => [t + sender.wallOffset, k]);
  const heard = receiver.toneHeard.filter(([t]) => t >= from && t < to);
  const audio: number[] = [];
  const audioBySecond: number[][] = [];
  for (const [t, k] of heard) {
    const at = t + rw;
    const match = toneWall.filter(([s, j]) => j === k && s <= at && at - s < TONE_LOOP_MS).pop();
    if (!match) continue;
    audio.push(at - match[0]);
    (audioBySecond[Math.floor((t - from) / 1000)] ??= []).push(at - match[0]);
  }
  const seconds = Math.floor((to - from) / 1000);
  return {
    videoFrames: shown.length,
    videoMatched: video.length,
    videoP50: percentile(video, 50),
    videoP95: percentile(video, 95),
    tonesSent: toneWall.filter(([s]) => s >= from + rw && s < to + rw).length,
    tonesHeard: audio.length,
    audioP50: percentile(audio, 50),
    audioP95: percentile(audio, 95),
    videoP95BySecond: bySecondOf(bySecond, seconds, 95),
    audioBySecond: bySecondOf(audioBySecond, seconds, 50),
  };
}
