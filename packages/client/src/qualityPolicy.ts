/**
 * Audio first, as a pure policy: from what this side measures about its sending (the browser's
 * bandwidth estimate, loss and round trip) and what the partner reports it receives, pick how much
 * video to send — or none — and grade the call good / fair / poor. No timers and no browser objects:
 * the monitor (quality.ts) feeds it one observation a second, the tests feed it numbers.
 */

export type QualityLevel = 'good' | 'fair' | 'poor';

/** What one side receives, over the last second: exchanged with the partner once a second. */
export interface ReceiveReport {
  /** Share of packets lost, audio and video together, 0..1. */
  loss: number;
  /** Share of audio played as concealment (not counting comfort noise), 0..1. */
  concealment: number;
  /** Frames per second decoded from the partner's video. */
  fps: number;
  /** Height of the partner's video as decoded, px (0: none). */
  height: number;
  /** Estimated camera→screen delay of the partner's video, ms (network + jitter buffer + decode). */
  delayMs: number | null;
  /** Whether this side is sending video at all right now (false: paused to keep the voice clear). */
  sendingVideo: boolean;
  /**
   * This side's camera is off on purpose (its page is hidden: another app, a phone call), not for
   * the network: its partner judges the call by the voice alone. Absent from older clients.
   */
  held?: boolean;
}

/** A video sending tier: the encoder's limits (scale is of the camera's 640×480). */
export interface Tier {
  maxKbps: number;
  scale: number;
  maxFps: number;
}

/** From full picture down to a thumbnail; below the last one, video pauses. */
export const TIERS: readonly Tier[] = [
  { maxKbps: 1200, scale: 1, maxFps: 30 },
  { maxKbps: 600, scale: 1, maxFps: 24 },
  { maxKbps: 300, scale: 1.5, maxFps: 20 },
  { maxKbps: 150, scale: 2, maxFps: 15 },
  { maxKbps: 50, scale: 4, maxFps: 8 },
];
/** The tier index meaning "video paused". */
export const PAUSED = TIERS.length;
const LAST = TIERS.length - 1;

/**
 * Kept for the voice before video gets any: Opus with RED (about twice 24–32 kbps of payload) plus
 * RTP, SRTP, TURN and UDP/IP headers at 50 packets a second, as measured on the relay's wire.
 */
export const AUDIO_RESERVE_KBPS = 80;

export interface SendObservation {
  /** The browser's estimate of what the path can carry out of this side, kbit/s (null: unknown). */
  availableKbps: number | null;
  /** Loss of what this side sends (smoothed), as the partner reports it, 0..1. */
  loss: number;
  /** Round trip now, and the lowest seen this call (the queue-free baseline), ms. */
  rttMs: number | null;
  minRttMs: number | null;
  /** The partner's report of what it receives (null: none yet, or stale). */
  partner: ReceiveReport | null;
  /**
   * How old the partner's newest report is, ms (they come once a second; absent: not known). A
   * report late by more than a second has waited in a queue or been dropped by one: the link is
   * not known to be clear, whatever the last figures said.
   */
  feedbackAgeMs?: number;
}

export interface PolicyState {
  tier: number;
  startedAt: number;
  /** When the tier last changed, and since when conditions have been healthy (ms, caller's clock). */
  since: number;
  healthySince: number | null;
  /** Seconds in a row under pressure (one bad second is noise). */
  strikes: number;
  /** How long the link must look clear before a paused video resumes; doubled when a resume fails. */
  resumeHoldMs: number;
  lastResumeAt: number | null;
  /** The estimate's recent peak (decays 10 % a second): a fall from it is congestion. */
  peakKbps: number;
  /** The resumed thumbnail is probing (sent with PROBE_KBPS as its cap), and whether its probe met a queue since the resume. */
  probing: boolean;
  probeSpent: boolean;
}

/**
 * A call starts at the thumbnail and, from its third second to its tenth, climbs a tier a second
 * while the estimate has room for the next tier beside the voice. Starting at full size puts a 480p
 * keyframe and the browser's 300 kbps start rate on the link before anything is measured: on a
 * 150 kbps link with a deep queue that is a second of queue, and the partner's audio jitter buffer,
 * having learnt it, keeps the voice a second late for half a minute (measured: 0.9–1.4 s, shrinking
 * ~90 ms a second). The first seconds' estimate is the browser's start rate, not a measurement (read
 * 351 kbps on a 150 kbps link, 127 a second later), so the climb waits for it.
 */
export const START_TIER = TIERS.length - 1;
const START_MS = 10_000;
const START_TRUST_MS = 3000;
/** Out of the thumbnail the climb wants a quarter more than 240p needs: the estimate read 176 kbps on a 150 kbps link. */
const START_HEADROOM = 1.25;
/**
 * For 10 s after a resume the thumbnail is sent with this cap (still 120p at ≤ 8 fps): the probe.
 * While paused the browser's estimate saw only the voice, and with the 50 kbps thumbnail and the
 * voice sent it is application-limited and grows 5–10 % a second (measured after a cap lifted:
 * from 60–100 kbps, video back 11 s or more after the lift). Raising what the video may use while
 * so little is sent is when Chromium probes the path: in the lab the estimate jumped within a
 * second or two after 4 of 18 resumes, each one whose probe was on as a cap lifted or later
 * (93 → 447, 76 → 388, 103 → 368, 70 → 239 kbps; after none of 12 resumes without the probe), and
 * the video was back 3–10 s after the lift. A resume on a link still capped gets an estimate of what the link
 * carries, and the encoder no more than that. Not at the start of a call: there the estimate has
 * not been measured (on a 150 kbps link it read 144–151 kbps at 3 s, and a thumbnail filling it
 * put 700 ms of queue on the voice in one call of five). A probe that meets a queue, loss or
 * broken voice ends until the next resume.
 */
export const PROBE_KBPS = 300;
const RESUME_PROBE_MS = 10_000;
/** One policy tick, with room for a late timer. */
const TICK_MS = 900;

export const RESUME_HOLD_MS = 2000;
const MAX_RESUME_HOLD_MS = 12_000;
/** Seconds of room before stepping up: short out of the two smallest tiers, longer above them. */
const STEP_UP_HOLD_MS = 4000;
const STEP_UP_HOLD_LOW_MS = 2000;
/** The bandwidth estimate starts low and climbs for several seconds: not a reason to step down. */
const RAMP_MS = 8000;
const RESUME_RAMP_MS = 5000;
/** A queue this deep (RTT above the call's best) means the link is saturated. */
const BLOAT_MS = 200;
/** A queue this short counts as drained (a busy machine's round trips wobble by tens of ms). */
const CLEAR_MS = 120;
/**
 * Nothing climbs on feedback older than this: reports come once a second, so this is two missing
 * in a row (one in ten is lost at 10 % loss, and at 1.8 s that held paused video 11 s of 12).
 * Measured: when a 2 Mbps link fell to 150 kbps with a 1 s queue, the partner's reports queued
 * behind its own full uplink, the round trips were the last ones from before the drop, and the
 * policy stepped up (320p → 480p) one second after the drop, into the full queue.
 */
export const FRESH_FEEDBACK_MS = 2500;

/** A call's policy at `now`, starting at `tier` (the thumbnail unless a test says otherwise). */
export function initialPolicy(now: number, tier = START_TIER): PolicyState {
  return {
    tier,
    startedAt: now,
    since: now,
    healthySince: null,
    strikes: 0,
    resumeHoldMs: RESUME_HOLD_MS,
    lastResumeAt: null,
    peakKbps: 0,
    probing: false,
    probeSpent: false,
  };
}

/** What the video sender is set to for `state`: its tier, the thumbnail with the probe's cap while probing; null while paused. */
export function sendTier(state: PolicyState): Tier | null {
  if (state.tier === PAUSED) return null;
  const t = TIERS[state.tier]!;
  return state.probing && state.tier === LAST ? { ...t, maxKbps: PROBE_KBPS } : t;
}

/**
 * The round trip the policy sees this second: the lowest of those measured since the last tick
 * (RTCP's, the reports' own, the ICE checks'), or the pair's last when none is new; then the lower
 * of it and the one before, of the last three while paused. Each crosses the same queue, and each
 * may add a delay of its own: the reports' round trip read about a second for 5–7 s after a queue
 * had drained (the data channel's transport recovering from the loss, most likely). A busy CPU
 * makes single round trips jump, a queue lasts; and a resume waits for two clear seconds running,
 * which jumps of 100–300 ms kept resetting for 5–9 s after a cap lifted on a starved machine.
 */
export function roundTrip(
  fresh: number[],
  last: number | null,
  recent: number[],
  paused: boolean,
): { rttMs: number | null; recent: number[] } {
  const now = fresh.length > 0 ? Math.min(...fresh) : last;
  if (now === null) return { rttMs: null, recent };
  const kept = [...recent.slice(paused ? -2 : -1), now];
  return { rttMs: Math.min(...kept), recent: kept };
}

/** The best tier whose bitrate fits beside the voice in `kbps`; PAUSED when none does. */
export function tierForBandwidth(kbps: number): number {
  const budget = kbps - AUDIO_RESERVE_KBPS;
  const i = TIERS.findIndex((t) => t.maxKbps * 0.6 <= budget);
  return i < 0 ? PAUSED : i;
}

/** The best tier loss allows: FEC and retransmissions need headroom, and a lossy picture is a poor one anyway. */
function tierForLoss(loss: number): number {
  if (loss >= 0.3) return PAUSED;
  if (loss >= 0.06) return LAST - 1;
  if (loss >= 0.03) return 2;
  return 0;
}

/**
 * One step of the policy, once a second: the tier to send at now. Down at once when the queue
 * grows or the voice suffers or the estimate falls; up one tier at a time after conditions stayed
 * healthy; out of a pause only after the link looked clear for a hold that doubles each time a
 * resume fails within 10 s (a link that cannot carry both keeps its voice).
 */
export function decide(state: PolicyState, o: SendObservation, now: number): PolicyState {
  let next = step(state, o, now);
  // The probe (PROBE_KBPS): only at a resumed thumbnail, in the seconds after the resume, while the
  // queue is short, nothing is lost, the feedback is fresh and the partner hears well. Once it
  // meets any of those it ends until the next resume.
  if (next.lastResumeAt !== state.lastResumeAt) next = { ...next, probeSpent: false };
  // A step down to the thumbnail is a link that just showed it has no room: no probe on it.
  else if (next.tier === LAST && state.tier < LAST) next = { ...next, probeSpent: true };
  const resumed = next.lastResumeAt !== null && now - next.lastResumeAt < RESUME_PROBE_MS;
  if (next.tier !== LAST || !resumed) return next.probing ? { ...next, probing: false } : next;
  const { bloat, fresh, voiceHurts } = signsOf(o);
  const clear = bloat < CLEAR_MS && fresh && o.loss < 0.02 && !voiceHurts;
  if (!clear) return { ...next, probing: false, probeSpent: next.probeSpent || state.probing };
  return { ...next, probing: !next.probeSpent };
}

/**
 * What an observation says of the link now: the queue (the round trip above the call's best),
 * whether the partner's feedback is fresh (climbing, resuming and probing all need to know the
 * link is clear now), and whether the partner hears broken voice.
 */
function signsOf(o: SendObservation): { bloat: number; fresh: boolean; voiceHurts: boolean } {
  return {
    bloat: o.rttMs !== null && o.minRttMs !== null ? o.rttMs - o.minRttMs : 0,
    fresh: o.feedbackAgeMs === undefined || o.feedbackAgeMs <= FRESH_FEEDBACK_MS,
    voiceHurts: o.partner !== null && o.partner.concealment > 0.03,
  };
}

function step(state: PolicyState, o: SendObservation, now: number): PolicyState {
  const { bloat, fresh, voiceHurts } = signsOf(o);
  const partner = o.partner;
  // The estimate is not trusted while it ramps up: at the start of a call, and after a paused video
  // resumes (while paused it saw only the voice). The queue still counts.
  const ramping =
    (now - state.startedAt < RAMP_MS || (state.lastResumeAt !== null && now - state.lastResumeAt < RESUME_RAMP_MS)) && bloat <= BLOAT_MS;
  // The estimate alone is no reason to step down (it climbs slowly while the encoder sends little):
  // only with congestion beside it — a queue, loss, or the estimate falling from its recent peak.
  const peakKbps = Math.max(o.availableKbps ?? 0, state.peakKbps * 0.9);
  const falling = o.availableKbps !== null && o.availableKbps < 0.7 * state.peakKbps;
  const congested = bloat > BLOAT_MS || o.loss >= 0.02 || falling;
  // Above the two smallest tiers the browser's own rate control follows the estimate well (a tier
  // change costs a keyframe and a burst); the estimate picks only between them and a pause.
  const bw = o.availableKbps === null || ramping || !congested ? 0 : tierForBandwidth(o.availableKbps);
  // In a call's first seconds the estimate has seen only the thumbnail and the voice: under loss it
  // stays low (read 89 kbps at 10 % loss), which is no reason to pause a picture that small.
  const byBandwidth = bw < LAST - 1 ? 0 : now - state.startedAt < START_MS ? Math.min(bw, LAST) : bw;
  const allowed = Math.max(byBandwidth, tierForLoss(o.loss));

  if (state.tier === PAUSED) {
    // While paused the estimate sees only the voice: resume on the queue, the loss and the voice,
    // and forget the estimate's old peak (a fall is measured from what it sees now).
    const clear = fresh && bloat < CLEAR_MS && o.loss < 0.3 && !(partner !== null && partner.concealment >= 0.02);
    const healthySince = clear ? (state.healthySince ?? now) : null;
    const seen = o.availableKbps ?? 0;
    if (healthySince !== null && now - healthySince >= state.resumeHoldMs)
      return { ...state, peakKbps: seen, tier: LAST, since: now, healthySince: now, strikes: 0, lastResumeAt: now };
    return { ...state, peakKbps: seen, healthySince };
  }

  const pressure = bloat > BLOAT_MS || voiceHurts || allowed > state.tier;
  const strikes = pressure ? state.strikes + 1 : 0;
  // Two seconds in a row, or one when two signals agree on a large drop: the estimate fell, and the
  // queue is twice too deep or the estimate is two tiers down (a slow CPU makes single RTTs jump).
  const sharpDrop = falling && (bloat > 2 * BLOAT_MS || allowed >= state.tier + 2);
  // A collapse — the estimate under half its recent peak, leaving room for no more than the
  // thumbnail, with the queue twice too deep or the partner missing 30 % of the last second —
  // pauses at once, from any tier: the video lost in the full queue is being asked for again, and a
  // sender keeps retransmitting it (150–500 kbps for 6–10 s after a 2 Mbps link fell to 150 kbps,
  // measured) until it stops sending video altogether. It resumes at the thumbnail once the queue
  // drains. (The round trip is the slower sign: RTCP's first reports after a drop are answers to
  // reports sent before it.)
  const collapse =
    o.availableKbps !== null &&
    o.availableKbps < 0.5 * state.peakKbps &&
    tierForBandwidth(o.availableKbps) >= LAST &&
    (bloat > 2 * BLOAT_MS || (partner !== null && partner.loss >= 0.3));
  if (collapse || (pressure && (strikes >= 2 || sharpDrop || allowed === PAUSED))) {
    // Down: to what the estimate and loss allow, and one tier more when the queue or the voice suffers.
    // A sharp drop goes straight to what the estimate leaves, from any tier, not a tier at a time: a
    // link that fell from megabits to a few hundred kbps tail-drops the voice with the video until
    // the video fits.
    let next = Math.max(allowed, state.tier, sharpDrop ? bw : 0);
    if (bloat > BLOAT_MS || voiceHurts) next = Math.max(next, state.tier + 1);
    // A queue alone stops at the thumbnail (a starved CPU looks like a queue too): pausing takes an
    // estimate too small even for it, heavy loss, or the partner hearing broken voice.
    if (next === PAUSED && allowed !== PAUSED && !voiceHurts) next = LAST;
    next = collapse ? PAUSED : Math.min(PAUSED, next);
    if (next === state.tier) return { ...state, peakKbps, strikes, healthySince: null };
    const failedResume = next === PAUSED && state.lastResumeAt !== null && now - state.lastResumeAt < 10_000;
    return {
      ...state,
      peakKbps,
      tier: next,
      since: now,
      strikes: 0,
      healthySince: null,
      resumeHoldMs: failedResume ? Math.min(MAX_RESUME_HOLD_MS, state.resumeHoldMs * 2) : state.resumeHoldMs,
    };
  }

  // The start of a call, and the seconds after a resume: up a tier a second while the estimate has
  // room for it, the queue is short, nothing is lost and the partner hears well. In the start
  // nothing else climbs; after a resume the usual climb below (2 s a tier) still does. (When the
  // resumed thumbnail's probe lifts the estimate — 76 → 388 kbps in a second, measured — the video
  // climbs a tier a second, 240p the next second, instead of waiting 2 s a tier.)
  const starting = now - state.startedAt < START_MS;
  const resumed = state.lastResumeAt !== null && now - state.lastResumeAt < RESUME_PROBE_MS;
  if (starting || resumed) {
    const climb =
      (!starting || now - state.startedAt >= START_TRUST_MS) &&
      now - state.since >= TICK_MS &&
      o.availableKbps !== null &&
      tierForBandwidth(state.tier === LAST ? o.availableKbps / START_HEADROOM : o.availableKbps) < state.tier &&
      bloat < CLEAR_MS &&
      fresh &&
      o.loss < 0.02 &&
      !voiceHurts;
    if (climb) return { ...state, peakKbps, strikes, tier: state.tier - 1, since: now, healthySince: now };
    if (starting) return { ...state, peakKbps, strikes };
  }

  // Up: the estimate (with a quarter of headroom: a capped encoder keeps it from growing much) and
  // the loss allow the next tier, the queue is short and the partner hears well. (A step out of a
  // resumed thumbnail on a clear queue alone brought 240p back 8 s after a cap lifted, but on a link
  // still capped at 150 kbps it put 250–560 ms of queue and broken seconds on the voice: not taken.)
  const bwAbove = o.availableKbps === null || state.tier < LAST - 1 ? 0 : tierForBandwidth(o.availableKbps * 1.25);
  const roomAbove = Math.max(bwAbove, tierForLoss(o.loss)) < state.tier;
  const healthy = roomAbove && fresh && bloat < CLEAR_MS && (partner === null || partner.concealment < 0.01);
  let s: PolicyState = { ...state, peakKbps, strikes, healthySince: healthy ? (state.healthySince ?? now) : null };
  const hold = state.tier >= LAST - 1 ? STEP_UP_HOLD_LOW_MS : STEP_UP_HOLD_MS;
  if (s.healthySince !== null && now - s.healthySince >= hold && now - state.since >= hold)
    s = { ...s, tier: state.tier - 1, since: now, healthySince: now };
  // Video that held for a while resets the resume backoff.
  if (s.lastResumeAt !== null && now - s.lastResumeAt > 30_000) s = { ...s, resumeHoldMs: RESUME_HOLD_MS, lastResumeAt: null };
  return s;
}

/**
 * How one direction of the call is doing, from its receiver's report. With the partner's camera
 * held off (`partnerHeld`) there is no picture to judge: the voice alone says.
 */
export function levelOf(r: ReceiveReport, partnerSendingVideo: boolean, partnerHeld = false): QualityLevel {
  if (partnerHeld) return r.concealment > 0.05 || r.loss > 0.12 ? 'poor' : r.concealment > 0.01 || r.loss > 0.03 ? 'fair' : 'good';
  const frozen = partnerSendingVideo && r.fps < 3;
  if (r.concealment > 0.05 || r.loss > 0.12 || (r.delayMs ?? 0) > 500 || frozen || !partnerSendingVideo) return 'poor';
  if (r.concealment > 0.01 || r.loss > 0.03 || (r.delayMs ?? 0) > 300 || r.fps < 12 || (r.height > 0 && r.height < 360)) return 'fair';
  return 'good';
}

const RANK: Record<QualityLevel, number> = { good: 0, fair: 1, poor: 2 };

export function worst(...levels: Array<QualityLevel | null>): QualityLevel {
  return levels.reduce<QualityLevel>((w, l) => (l !== null && RANK[l] > RANK[w] ? l : w), 'good');
}
