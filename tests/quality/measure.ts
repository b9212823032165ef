/**
 * What a person sees and hears, measured on the receiving page: every displayed frame of the
 * partner's video through `requestVideoFrameCallback` (camera→display delay = expectedDisplayTime −
 * captureTime, both on this page's clock: WebRTC maps the sender's capture time with RTCP), and the
 * receive side of getStats() every 200 ms (audio concealment, jitter buffer, video freezes, bitrate).
 */
import type { Page } from 'playwright-core';

export interface FrameSample {
  /** performance.now() when the frame was presented. */
  t: number;
  /** Camera→display, ms; null when the frame carried no capture time. */
  delayMs: number | null;
  w: number;
  h: number;
}

export interface StatsTick {
  t: number;
  audioSamples: number;
  audioConcealed: number;
  audioSilentConcealed: number;
  audioJbDelay: number;
  audioJbEmitted: number;
  audioPackets: number;
  audioLost: number;
  audioBytes: number;
  videoBytes: number;
  videoFrames: number;
  freezeCount: number;
  freezeMs: number;
  rttMs: number | null;
  /** Outbound video sender state, read from this page's own sender (what it sends the partner). */
  sendActive: boolean | null;
  sendKbps: number | null;
  codecAudio: string | null;
  /** What this page sends, cumulative (outbound-rtp per kind, the selected candidate pair): see SendCounters. */
  sent: SendCounters;
}

/**
 * This page's sending, cumulative, from getStats: outbound-rtp per kind (payload bytes, header and
 * padding bytes, retransmitted payload bytes and packets, the encoder's target) and the selected
 * candidate pair's bytes (everything: RTP, RTCP, the data channel, SRTP's tags, not TURN or IP/UDP).
 */
export interface SendCounters {
  videoBytes: number;
  videoHeaderBytes: number;
  videoRtxBytes: number;
  videoPackets: number;
  videoRtxPackets: number;
  videoTargetBps: number | null;
  videoFramesEncoded: number;
  /** Retransmission requests received for this page's video. */
  videoNacks: number;
  videoActive: boolean | null;
  audioBytes: number;
  audioHeaderBytes: number;
  audioPackets: number;
  audioRtxBytes: number;
  pairBytes: number;
  pairPackets: number;
  availableBps: number | null;
}

/** One second of this page's sending (kbit/s; packets per second), for the per-second record. */
export interface SendSecond {
  video: number;
  videoHeader: number;
  videoRtx: number;
  videoPps: number;
  videoRtxPps: number;
  videoTarget: number | null;
  videoFps: number;
  videoNacks: number;
  active: boolean | null;
  audio: number;
  audioPps: number;
  pair: number;
  pairPps: number;
  available: number | null;
}

export interface PageRecord {
  frames: FrameSample[];
  ticks: StatsTick[];
  /** Shown when this page displayed the `video-paused` placeholder, as [from, to] ms intervals. */
  paused: Array<[number, number | null]>;
  quality: Array<[number, string | null]>;
  /** The SDK policy's view, once a second (absent with builds before it). */
  policy: Array<Record<string, unknown> & { t: number }>;
  now: number;
}

/** Installs the collector on a connected page (idempotent); `reset` clears what it gathered. */
export async function startRecording(page: Page): Promise<void> {
  await page.evaluate(() => {
    type W = Window & {
      __q?: { frames: unknown[]; ticks: unknown[]; paused: Array<[number, number | null]>; quality: unknown[]; policy: unknown[] };
    };
    const w = window as W;
    if (w.__q) {
      w.__q.frames = [];
      w.__q.ticks = [];
      w.__q.paused = [];
      w.__q.quality = [];
      w.__q.policy = [];
      return;
    }
    const q = {
      frames: [] as unknown[],
      ticks: [] as unknown[],
      paused: [] as Array<[number, number | null]>,
      quality: [] as unknown[],
      policy: [] as unknown[],
    };
    w.__q = q;
    const video = document.querySelector<HTMLVideoElement>('[data-testid="remote-video"]');
    if (video) {
      const onFrame = (now: number, meta: VideoFrameCallbackMetadata) => {
        const m = meta as VideoFrameCallbackMetadata & { captureTime?: number; expectedDisplayTime: number };
        q.frames.push({
          t: now,
          delayMs: typeof m.captureTime === 'number' && m.captureTime > 0 ? m.expectedDisplayTime - m.captureTime : null,
          w: m.width,
          h: m.height,
        });
        video.requestVideoFrameCallback(onFrame);
      };
      video.requestVideoFrameCallback(onFrame);
    }
    const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
    const pc = pcs[pcs.length - 1];
    // The SDK's quality monitor says what its policy saw and chose, once a second.
    pc?.addEventListener('duetquality', (e) => {
      const d = (e as CustomEvent<Record<string, unknown>>).detail;
      q.policy.push({ t: performance.now(), ...d });
    });
    let lastPaused = false;
    let lastQuality: string | null | undefined;
    let prevSent: { bytes: number; t: number } | null = null;
    const tick = async () => {
      const t = performance.now();
      const pausedNow = document.querySelector('[data-testid="video-paused"]') !== null;
      if (pausedNow !== lastPaused) {
        if (pausedNow) q.paused.push([t, null]);
        else if (q.paused.length > 0) q.paused[q.paused.length - 1]![1] = t;
        lastPaused = pausedNow;
      }
      const level = document.querySelector('[data-testid="quality"]')?.getAttribute('data-level') ?? null;
      if (level !== lastQuality) {
        q.quality.push([t, level]);
        lastQuality = level;
      }
      if (!pc || pc.connectionState === 'closed') return;
      const report = await pc.getStats();
      const x = {
        t,
        audioSamples: 0,
        audioConcealed: 0,
        audioSilentConcealed: 0,
        audioJbDelay: 0,
        audioJbEmitted: 0,
        audioPackets: 0,
        audioLost: 0,
        audioBytes: 0,
        videoBytes: 0,
        videoFrames: 0,
        freezeCount: 0,
        freezeMs: 0,
        rttMs: null as number | null,
        sendActive: null as boolean | null,
        sendKbps: null as number | null,
        codecAudio: null as string | null,
        sent: {
          videoBytes: 0,
          videoHeaderBytes: 0,
          videoRtxBytes: 0,
          videoPackets: 0,
          videoRtxPackets: 0,
          videoTargetBps: null as number | null,
          videoFramesEncoded: 0,
          videoNacks: 0,
          videoActive: null as boolean | null,
          audioBytes: 0,
          audioHeaderBytes: 0,
          audioPackets: 0,
          audioRtxBytes: 0,
          pairBytes: 0,
          pairPackets: 0,
          availableBps: null as number | null,
        },
      };
      const sent = x.sent;
      const byId = new Map<string, Record<string, unknown>>();
      report.forEach((s: Record<string, unknown>) => byId.set(s.id as string, s));
      let sentBytes = 0;
      report.forEach((s: Record<string, unknown>) => {
        const n = (k: string) => (typeof s[k] === 'number' ? (s[k] as number) : 0);
        // Adds stat fields to this page's sending counters, by counter name.
        const add = (fields: Record<string, string>) => {
          const into = sent as unknown as Record<string, number>;
          for (const [k, stat] of Object.entries(fields)) into[k] = into[k]! + n(stat);
        };
        if (s.type === 'inbound-rtp' && s.kind === 'audio') {
          x.audioSamples += n('totalSamplesReceived');
          x.audioConcealed += n('concealedSamples');
          x.audioSilentConcealed += n('silentConcealedSamples');
          x.audioJbDelay += n('jitterBufferDelay');
          x.audioJbEmitted += n('jitterBufferEmittedCount');
          x.audioPackets += n('packetsReceived');
          x.audioLost += n('packetsLost');
          x.audioBytes += n('bytesReceived');
          const codec = byId.get(s.codecId as string);
          if (codec) x.codecAudio = String(codec.mimeType);
        }
        if (s.type === 'inbound-rtp' && s.kind === 'video') {
          x.videoBytes += n('bytesReceived');
          x.videoFrames += n('framesDecoded');
          x.freezeCount += n('freezeCount');
          x.freezeMs += n('totalFreezesDuration') * 1000;
        }
        if (s.type === 'outbound-rtp' && s.kind === 'video') {
          sentBytes += n('bytesSent');
          if (typeof s.active === 'boolean') x.sendActive = x.sendActive === true || s.active;
          add({
            videoBytes: 'bytesSent',
            videoHeaderBytes: 'headerBytesSent',
            videoRtxBytes: 'retransmittedBytesSent',
            videoPackets: 'packetsSent',
            videoRtxPackets: 'retransmittedPacketsSent',
            videoFramesEncoded: 'framesEncoded',
            videoNacks: 'nackCount',
          });
          if (typeof s.targetBitrate === 'number') sent.videoTargetBps = (sent.videoTargetBps ?? 0) + s.targetBitrate;
          sent.videoActive = x.sendActive;
        }
        if (s.type === 'outbound-rtp' && s.kind === 'audio') {
          add({
            audioBytes: 'bytesSent',
            audioHeaderBytes: 'headerBytesSent',
            audioPackets: 'packetsSent',
            audioRtxBytes: 'retransmittedBytesSent',
          });
        }
        if (s.type === 'transport' && typeof s.selectedCandidatePairId === 'string') {
          const pair = byId.get(s.selectedCandidatePairId);
          if (pair && typeof pair.currentRoundTripTime === 'number') x.rttMs = pair.currentRoundTripTime * 1000;
          if (pair) {
            sent.pairBytes += typeof pair.bytesSent === 'number' ? pair.bytesSent : 0;
            sent.pairPackets += typeof pair.packetsSent === 'number' ? pair.packetsSent : 0;
            if (typeof pair.availableOutgoingBitrate === 'number') sent.availableBps = pair.availableOutgoingBitrate;
          }
        }
      });
      if (prevSent && t > prevSent.t) x.sendKbps = ((sentBytes - prevSent.bytes) * 8) / (t - prevSent.t);
      prevSent = { bytes: sentBytes, t };
      q.ticks.push(x);
    };
    setInterval(() => void tick().catch(() => undefined), 200);
  });
}

export async function readRecord(page: Page): Promise<PageRecord> {
  return page.evaluate(() => {
    const q = (window as unknown as { __q: Omit<PageRecord, 'now'> }).__q;
    return { frames: q.frames, ticks: q.ticks, paused: q.paused, quality: q.quality, policy: q.policy, now: performance.now() };
  });
}

export interface Window1s {
  /** Seconds since the start of the measurement. */
  s: number;
  fps: number;
  height: number;
  videoKbps: number;
  delayP95: number | null;
  concealment: number;
  audioKbps: number;
  rttMs: number | null;
  /** Audio jitter buffer delay over the second, ms. */
  audioJbMs: number | null;
  /** What this page sent over the second (the other direction of the call), or null without stats. */
  sent: SendSecond | null;
}

export interface Summary {
  frames: number;
  delayP50: number | null;
  delayP95: number | null;
  fpsMedian: number;
  heights: string;
  freezes: number;
  freezeMs: number;
  concealment: number;
  longestGapMs: number;
  audioDelayEstMs: number | null;
  audioCodec: string | null;
  pausedMs: number;
  windows: Window1s[];
}

export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const median = (v: number[]) => percentile(v, 50) ?? 0;

/**
 * Turns a page's record between `from` and `to` (page clock, ms) into the figures of the table.
 * Concealment leaves out silent concealment (comfort noise while the sender's DTX is quiet): it is
 * what the listener hears as broken voice. A gap is a run of 200 ms ticks each more than half
 * concealed; its length is the concealed audio in the run.
 */
export function summarize(r: PageRecord, from: number, to: number): Summary {
  const frames = r.frames.filter((f) => f.t >= from && f.t < to);
  const delays = frames.map((f) => f.delayMs).filter((d): d is number => d !== null && d > -1000 && d < 60_000);
  const ticks = r.ticks.filter((x) => x.t >= from - 250 && x.t < to);
  const first = ticks[0];
  const last = ticks[ticks.length - 1];
  let concealment = 0;
  let longestGapMs = 0;
  let audioDelayEstMs: number | null = null;
  let freezes = 0;
  let freezeMs = 0;
  if (first && last && last !== first) {
    const samples = last.audioSamples - first.audioSamples;
    const concealed = last.audioConcealed - last.audioSilentConcealed - (first.audioConcealed - first.audioSilentConcealed);
    concealment = samples > 0 ? Math.max(0, concealed / samples) : 0;
    let run = 0;
    for (let i = 1; i < ticks.length; i++) {
      const a = ticks[i - 1]!;
      const b = ticks[i]!;
      const n = b.audioSamples - a.audioSamples;
      const c = b.audioConcealed - b.audioSilentConcealed - (a.audioConcealed - a.audioSilentConcealed);
      // No samples at all in 200 ms is a gap as well (the playout starved).
      const gap = n <= 0 ? b.t - a.t : c > 0.5 * n ? (c / 48_000) * 1000 : 0;
      run = gap > 0 ? run + gap : 0;
      longestGapMs = Math.max(longestGapMs, run);
    }
    const emitted = last.audioJbEmitted - first.audioJbEmitted;
    const rtts = ticks.map((x) => x.rttMs).filter((v): v is number => v !== null);
    if (emitted > 0 && rtts.length > 0) {
      // Estimate: network (RTT/2) + jitter buffer + ~20 ms capture/encode + ~10 ms playout.
      audioDelayEstMs = median(rtts) / 2 + ((last.audioJbDelay - first.audioJbDelay) / emitted) * 1000 + 30;
    }
    freezes = last.freezeCount - first.freezeCount;
    freezeMs = last.freezeMs - first.freezeMs;
  }
  const windows: Window1s[] = [];
  for (let s = 0; from + (s + 1) * 1000 <= to; s++) {
    const a = from + s * 1000;
    const b = a + 1000;
    const fr = frames.filter((f) => f.t >= a && f.t < b);
    const t0 = ticks.filter((x) => x.t <= a).pop();
    const t1 = ticks.filter((x) => x.t <= b).pop();
    const span = t0 && t1 && t1.t > t0.t ? t1.t - t0.t : 0;
    const n = t0 && t1 ? t1.audioSamples - t0.audioSamples : 0;
    const c = t0 && t1 ? t1.audioConcealed - t1.audioSilentConcealed - (t0.audioConcealed - t0.audioSilentConcealed) : 0;
    windows.push({
      s,
      fps: fr.length,
      height: fr.length > 0 ? median(fr.map((f) => f.h)) : 0,
      videoKbps: span > 0 ? Math.round(((t1!.videoBytes - t0!.videoBytes) * 8) / span) : 0,
      delayP95: percentile(
        fr.map((f) => f.delayMs).filter((d): d is number => d !== null),
        95,
      ),
      concealment: n > 0 ? Math.max(0, c / n) : 0,
      audioKbps: span > 0 ? Math.round(((t1!.audioBytes - t0!.audioBytes) * 8) / span) : 0,
      rttMs: t1?.rttMs === null || t1?.rttMs === undefined ? null : Math.round(t1.rttMs),
      audioJbMs:
        t0 && t1 && t1.audioJbEmitted > t0.audioJbEmitted
          ? Math.round(((t1.audioJbDelay - t0.audioJbDelay) / (t1.audioJbEmitted - t0.audioJbEmitted)) * 1000)
          : null,
      sent: t0?.sent && t1?.sent && span > 0 ? sendSecond(t0.sent, t1.sent, span) : null,
    });
  }
  const heights = [...new Set(windows.filter((w) => w.fps > 0).map((w) => w.height))].sort((a, b) => a - b);
  let pausedMs = 0;
  for (const [a, b] of r.paused) pausedMs += Math.max(0, Math.min(b ?? to, to) - Math.max(a, from));
  return {
    frames: frames.length,
    delayP50: percentile(delays, 50),
    delayP95: percentile(delays, 95),
    fpsMedian: median(windows.map((w) => w.fps)),
    heights: heights.length === 0 ? '—' : heights.length === 1 ? `${heights[0]}p` : `${heights[0]}–${heights[heights.length - 1]}p`,
    freezes,
    freezeMs: Math.round(freezeMs),
    concealment,
    longestGapMs: Math.round(longestGapMs),
    audioDelayEstMs: audioDelayEstMs === null ? null : Math.round(audioDelayEstMs),
    audioCodec: last?.codecAudio ?? null,
    pausedMs: Math.round(pausedMs),
    windows,
  };
}

/**
 * How fast a call's picture grows at its start, on the receiving page: seconds from the first frame
 * of the partner's video (the recording starts as it arrives) until a second of ≥ 10 fps at ≥ 240p,
 * and at 480p (null: not within the record). The policy starts every call at the 120p thumbnail.
 */
export function startup(r: PageRecord): { to240S: number | null; to480S: number | null } {
  const first = r.frames[0];
  if (!first) return { to240S: null, to480S: null };
  const end = r.frames[r.frames.length - 1]!.t;
  let to240S: number | null = null;
  let to480S: number | null = null;
  // One-second windows sliding by 250 ms: the end of the first that holds the picture is its time.
  for (let a = first.t; a + 1000 <= end + 1 && to480S === null; a += 250) {
    const fr = r.frames.filter((f) => f.t >= a && f.t < a + 1000);
    if (fr.length < 10) continue;
    const h = median(fr.map((f) => f.h));
    const at = Math.round((a + 1000 - first.t) / 100) / 10;
    if (h >= 240 && to240S === null) to240S = at;
    if (h >= 480) to480S = at;
  }
  return { to240S, to480S };
}

/** One second of sending from two cumulative readings `span` ms apart. */
function sendSecond(a: SendCounters, b: SendCounters, span: number): SendSecond {
  const kbps = (x: number, y: number) => Math.round(((y - x) * 8) / span);
  const rate = (x: number, y: number) => Math.round(((y - x) * 1000) / span);
  return {
    video: kbps(a.videoBytes, b.videoBytes),
    videoHeader: kbps(a.videoHeaderBytes, b.videoHeaderBytes),
    videoRtx: kbps(a.videoRtxBytes, b.videoRtxBytes),
    videoPps: rate(a.videoPackets, b.videoPackets),
    videoRtxPps: rate(a.videoRtxPackets, b.videoRtxPackets),
    videoTarget: b.videoTargetBps === null ? null : Math.round(b.videoTargetBps / 1000),
    videoFps: rate(a.videoFramesEncoded, b.videoFramesEncoded),
    videoNacks: rate(a.videoNacks, b.videoNacks),
    active: b.videoActive,
    audio: kbps(a.audioBytes + a.audioHeaderBytes, b.audioBytes + b.audioHeaderBytes),
    audioPps: rate(a.audioPackets, b.audioPackets),
    pair: kbps(a.pairBytes, b.pairBytes),
    pairPps: rate(a.pairPackets, b.pairPackets),
    available: b.availableBps === null ? null : Math.round(b.availableBps / 1000),
  };
}
