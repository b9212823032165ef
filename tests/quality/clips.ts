/**
 * The lab's fake camera and microphone, made so that glass-to-glass delay can be measured rather
 * than estimated:
 *
 * - a .y4m clip (`--use-file-for-fake-video-capture`) with the frame's number burned into the luma
 *   plane as a row of large black and white cells, which survive VP8/H.264 down to the 120p
 *   thumbnail. Both pages read it back from a canvas: the sender from its own preview (when frame N
 *   was captured), the receiver from the partner's video (when frame N was shown);
 * - a .wav (`--use-file-for-fake-audio-capture`) of short tone bursts whose pitch cycles through
 *   `TONES`, so a burst heard on the far side is matched to the one the sender's microphone gave.
 *
 * The picture behind the code moves everywhere (a drifting gradient, a textured band sliding
 * sideways, a circling disc), so the encoder has a camera's kind of work to do; everything loops
 * seamlessly over the clip. Files are cached in the temp folder by their parameters.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RgbaImage } from '../../packages/server/src/verification/image.js';
import { rgbaToI420 } from '../fixtures/faces/y4m.js';

export const CLIP = { width: 640, height: 480, fps: 20, frames: 320 } as const;

/**
 * The code row, in fractions of the frame (so it reads the same at any scale): `CODE_BITS` data
 * cells (the frame number, `FRAME_BITS` of it, then even parity), preceded by a black and a white
 * reference cell that set the threshold.
 */
export const CODE = { x: 0.05, y: 0.04, cellW: 0.075, cellH: 0.1, frameBits: 9, cells: 12 } as const;

/** Tone bursts: one every `periodMs`, `burstMs` long, pitch `TONES[i % TONES.length]` Hz. */
export const TONES = [500, 700, 900, 1100, 1300, 1500, 1700, 1900] as const;
export const AUDIO = { rate: 48_000, periodMs: 400, burstMs: 100, seconds: 16 } as const;

/** Cell `i` (0, 1: references; then data) black or white for frame `n`. */
export function cellIsWhite(n: number, i: number): boolean {
  if (i === 0) return false;
  if (i === 1) return true;
  const bit = i - 2;
  if (bit < CODE.frameBits) return ((n >> bit) & 1) === 1;
  let parity = 0;
  for (let b = 0; b < CODE.frameBits; b++) parity ^= (n >> b) & 1;
  return parity === 1;
}

/** Deterministic texture: a hash of (x, y), 0..1. */
function hash(x: number, y: number): number {
  let h = (x * 374761393 + y * 668265263) | 0;
  h = Math.imul(h ^ (h >>> 13), 1274126177);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** Frame `n` of the counter clip, RGBA. */
export function counterFrame(n: number): RgbaImage {
  const { width: w, height: h, frames } = CLIP;
  const data = new Uint8Array(w * h * 4);
  const phase = n / frames; // 0..1 over the loop
  const discX = w / 2 + Math.cos(2 * Math.PI * phase * 4) * w * 0.25;
  const discY = h * 0.55 + Math.sin(2 * Math.PI * phase * 4) * h * 0.2;
  const shift = Math.round(phase * w * 2); // the band slides two widths per loop
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 4;
      const g = 0.5 + 0.5 * Math.sin(2 * Math.PI * (x / w + y / (2 * h) + phase * 2));
      let r = 60 + 90 * g;
      let gr = 80 + 60 * (1 - g);
      let b = 110 + 50 * g;
      if (y > h * 0.7 && y < h * 0.9) {
        const t = hash(Math.floor(((x + shift) % w) / 4), Math.floor(y / 4));
        r = gr = b = 40 + 180 * t;
      }
      if ((x - discX) ** 2 + (y - discY) ** 2 < (h * 0.12) ** 2) {
        r = 230;
        gr = 190;
        b = 60;
      }
      data[o] = Math.round(r);
      data[o + 1] = Math.round(gr);
      data[o + 2] = Math.round(b);
      data[o + 3] = 255;
    }
  }
  const cw = Math.round(CODE.cellW * w);
  const ch = Math.round(CODE.cellH * h);
  const x0 = Math.round(CODE.x * w);
  const y0 = Math.round(CODE.y * h);
  for (let i = 0; i < CODE.cells; i++) {
    const v = cellIsWhite(n, i) ? 255 : 0;
    for (let y = y0; y < y0 + ch; y++) {
      for (let x = x0 + i * cw; x < x0 + (i + 1) * cw; x++) {
        const o = (y * w + x) * 4;
        data[o] = data[o + 1] = data[o + 2] = v;
      }
    }
  }
  return { width: w, height: h, data };
}

function cacheDir(): string {
  const dir = path.join(os.tmpdir(), 'duet-quality-clips');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Writes (once) the counter clip; returns its path. */
export function counterClip(): string {
  const { width, height, fps, frames } = CLIP;
  const file = path.join(cacheDir(), `counter-v1-${width}x${height}-${fps}fps-${frames}.y4m`);
  if (fs.existsSync(file)) return file;
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, `YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420jpeg\n`);
    for (let n = 0; n < frames; n++) {
      fs.writeSync(fd, 'FRAME\n');
      fs.writeSync(fd, rgbaToI420(counterFrame(n)));
    }
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  return file;
}

/** Writes (once) the tone-burst track, 16-bit mono PCM; returns its path. */
export function toneTrack(): string {
  const { rate, periodMs, burstMs, seconds } = AUDIO;
  const file = path.join(cacheDir(), `tones-v1-${rate}-${periodMs}-${burstMs}-${seconds}s.wav`);
  if (fs.existsSync(file)) return file;
  const samples = rate * seconds;
  const buf = Buffer.alloc(44 + samples * 2);
  buf.write('RIFF', 0);
  buf.writeUInt32LE(36 + samples * 2, 4);
  buf.write('WAVE', 8);
  buf.write('fmt ', 12);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(1, 22); // mono
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36);
  buf.writeUInt32LE(samples * 2, 40);
  const period = (periodMs * rate) / 1000;
  const burst = (burstMs * rate) / 1000;
  const ramp = rate / 200; // 5 ms in and out, so a burst starts clean but not as a click
  for (let i = 0; i < samples; i++) {
    const k = Math.floor(i / period);
    const j = i - k * period;
    let v = 0;
    if (j < burst) {
      const env = Math.min(1, j / ramp, (burst - j) / ramp);
      v = 0.4 * env * Math.sin((2 * Math.PI * TONES[k % TONES.length]! * j) / rate);
    }
    buf.writeInt16LE(Math.round(v * 32767), 44 + i * 2);
  }
  fs.writeFileSync(file, buf);
  return file;
}
