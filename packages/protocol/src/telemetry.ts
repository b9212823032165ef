import { z } from 'zod';
import { type END_REASONS } from './endReasons.js';

/** ICE candidate types and transports, as getStats names them. */
export const CANDIDATE_TYPES = ['host', 'srflx', 'prflx', 'relay'] as const;
export const TRANSPORTS = ['udp', 'tcp', 'tls'] as const;

/** The candidate pair a browser selected: how its media actually travels. */
export const mediaPathSchema = z.strictObject({
  local: z.enum(CANDIDATE_TYPES),
  remote: z.enum(CANDIDATE_TYPES),
  /** udp or tcp between the browser and its first hop. */
  protocol: z.enum(['udp', 'tcp']),
  /** For a relay candidate: how the browser reaches the TURN server. */
  relayProtocol: z.enum(TRANSPORTS).optional(),
});
export type MediaPath = z.infer<typeof mediaPathSchema>;

const nonNeg = (max: number) => z.number().finite().min(0).max(max);

/**
 * One call-quality summary from a browser's getStats, uploaded every 10 s and at call end.
 * Every field is bounded so a client cannot store absurd values.
 */
export const qualitySampleSchema = z.strictObject({
  /** Round-trip time of the selected candidate pair, ms. */
  rttMs: nonNeg(60_000).optional(),
  /** Inbound jitter (audio), ms. */
  jitterMs: nonNeg(60_000).optional(),
  /** Inbound packets lost / (received + lost) since the previous sample, 0..1. */
  packetLoss: nonNeg(1).optional(),
  /** Inbound media bitrate since the previous sample, kbit/s. */
  inboundKbps: nonNeg(1_000_000).optional(),
  outboundKbps: nonNeg(1_000_000).optional(),
  /** Decoded video frames per second. */
  fps: nonNeg(240).optional(),
  freezeCount: z.number().int().min(0).max(1_000_000).optional(),
  totalFreezesMs: nonNeg(86_400_000).optional(),
  /** Share of audio samples concealed (synthesised) because packets were late or lost, 0..1. */
  audioConcealment: nonNeg(1).optional(),
  /** Estimated one-way media delay: RTT/2 + jitter buffer delay + decode time, ms. */
  estDelayMs: nonNeg(60_000).optional(),
  /** Bytes sent + received over the selected pair (counts relay traffic when relayed). */
  bytesTotal: z.number().int().min(0).max(1e13).optional(),
  path: mediaPathSchema.optional(),
  /** Local candidate types this browser gathered: the diagnosis of a call that could not connect. */
  gathered: z.array(z.enum(CANDIDATE_TYPES)).max(4).optional(),
});
export type QualitySample = z.infer<typeof qualitySampleSchema>;

// ---- insights API (admin console) ------------------------------------------------------

export const insightsQuerySchema = z.strictObject({
  from: z.coerce.number().int().min(0),
  to: z.coerce.number().int().min(0),
  /** Bucket width for time series. */
  bucket: z.enum(['hour', 'day']).default('hour'),
});
export type InsightsQuery = z.infer<typeof insightsQuerySchema>;

export const CALL_OUTCOMES = ['connected', 'ice_failed', 'abandoned'] as const;
export type CallOutcome = (typeof CALL_OUTCOMES)[number];

/** Call length histogram bins, seconds (upper bounds; the last bin is open). */
export const DURATION_BINS_S = [10, 30, 60, 120, 300, 600, 1800] as const;

export interface InsightsResponse {
  range: { from: number; to: number; bucket: 'hour' | 'day' };
  totals: {
    calls: number;
    connected: number;
    iceFailed: number;
    abandoned: number;
    /** connected / (connected + ice_failed); abandoned calls (ended by a person before ICE could finish) are left out. */
    successRate: number | null;
    /** Share of connected calls where either side used a relay. */
    relayShare: number | null;
  };
  /** One point per bucket, start time in ms. */
  series: Array<{ t: number; calls: number; connected: number; iceFailed: number; successRate: number | null }>;
  timeToMatchMs: { p50: number | null; p95: number | null; count: number };
  timeToConnectMs: { p50: number | null; p95: number | null; count: number };
  /** Connected calls by length; `le` is the bin's upper bound in seconds, null for the open last bin. */
  durations: Array<{ le: number | null; count: number }>;
  endReasons: Array<{ reason: (typeof END_REASONS)[number]; count: number }>;
  /** Per day: unique people reaching each step. */
  funnel: Array<{ day: string; steps: Record<FunnelStep, number> }>;
  /** Connected calls with the worst quality in range, worst first. */
  worstCalls: Array<CallSummary & { score: number }>;
  /**
   * Connected calls with quality samples: how many, how many over the delay budget (median estimated
   * camera→screen delay > DELAY_BUDGET_MS) and how many with broken audio (some 10 s concealed more
   * than BROKEN_AUDIO_CONCEALMENT).
   */
  callQuality: { measured: number; overBudget: number; brokenAudio: number };
}

export const FUNNEL_STEPS = ['page_opened', 'camera_allowed', 'queued', 'matched', 'connected', 'talked_30s'] as const;
export type FunnelStep = (typeof FUNNEL_STEPS)[number];

export interface CallSummary {
  id: string;
  matchedAt: number;
  connectedAt: number | null;
  endedAt: number | null;
  outcome: CallOutcome | 'live';
  endReason: (typeof END_REASONS)[number] | null;
  /** 'a' or 'b' (the offerer is a), 'server', or null while live. */
  endedBy: 'a' | 'b' | 'server' | null;
  durationMs: number | null;
  waitMs: { a: number | null; b: number | null };
  timeToConnectMs: number | null;
  path: { a: MediaPath | null; b: MediaPath | null };
  /** Candidate types each side gathered (reported at call end), e.g. ['host', 'srflx']. */
  gathered: { a: string[] | null; b: string[] | null };
  relayed: boolean;
  bytesRelayed: number | null;
  quality: {
    rttMsP50: number | null;
    packetLossMax: number | null;
    freezeMs: number | null;
    estDelayMsP50: number | null;
    /** The worst 10 s of estimated camera→screen delay, either side. */
    estDelayMsMax: number | null;
    /** The worst 10 s of audio concealment (share of the voice that was made up), either side. */
    audioConcealmentMax: number | null;
  };
}

/** A call is over the half-second budget when its median estimated camera→screen delay exceeds this. */
export const DELAY_BUDGET_MS = 500;
/** A call has broken audio when some 10 s of it had more than this share of concealed voice. */
export const BROKEN_AUDIO_CONCEALMENT = 0.05;

export interface CallDetail extends CallSummary {
  samples: Array<{ side: 'a' | 'b'; at: number; final: boolean } & Omit<QualitySample, 'path' | 'gathered'>>;
}
