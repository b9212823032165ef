import { TypedEmitter } from './emitter.js';
import {
  decide,
  initialPolicy,
  levelOf,
  PAUSED,
  roundTrip,
  sendTier,
  TIERS,
  worst,
  type PolicyState,
  type QualityLevel,
  type ReceiveReport,
  type Tier,
} from './qualityPolicy.js';

/** How the current call is doing, for the quality indicator and the video-paused placeholder. */
export interface CallQuality {
  /** Worst of what this side receives and what the partner says it receives. */
  level: QualityLevel;
  /** What this side receives, and what the partner receives (null until its first report). */
  received: QualityLevel;
  partnerReceived: QualityLevel | null;
  /** This side paused its own video to keep the voice clear. */
  sendingVideo: boolean;
  /** The partner paused its video (its report says so). */
  partnerSendingVideo: boolean;
  /** This side's camera is off because the page is hidden (see LocalDevices): not a network matter. */
  videoHeld: boolean;
  /** The partner's camera is off because their page is hidden (they switched apps, took a phone call). */
  partnerVideoHeld: boolean;
}

export interface QualityEvents extends Record<string, unknown> {
  change: CallQuality;
}

type Stat = Record<string, unknown> & { id: string; type: string };

const TICK_MS = 1000;
/** A partner report older than this is ignored (the channel may be lost with the link). */
const STALE_MS = 5000;
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

interface Counters {
  at: number;
  packets: number;
  lost: number;
  samples: number;
  concealed: number;
  frames: number;
  videoJbDelay: number;
  videoJbEmitted: number;
  remoteLost: number;
  remotePackets: number;
}

const monitors = new WeakMap<RTCPeerConnection, QualityMonitor>();

/** The quality monitor of a peer connection, if it has one (the client subscribes through this). */
export function qualityMonitorOf(pc: RTCPeerConnection | null): QualityMonitor | undefined {
  return pc ? monitors.get(pc) : undefined;
}

/**
 * Once a second: reads this side's stats, tells the partner what it receives (over an unreliable
 * data channel, so a lossy link never queues reports), and steps this side's video up, down, or to
 * a pause by the audio-first policy. Emits `change` when the level or a pause changes.
 */
export class QualityMonitor extends TypedEmitter<QualityEvents> {
  readonly #pc: RTCPeerConnection;
  #channel: RTCDataChannel | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;
  #prev: Counters | null = null;
  #partner: { report: ReceiveReport; at: number } | null = null;
  #policy: PolicyState = initialPolicy(performance.now());
  #applied = -1;
  #minRtt: number | null = null;
  /** How many RTCP round trips each remote-inbound stream had measured at the last tick. */
  readonly #rttCounts = new Map<string, number>();
  #rtts: number[] = [];
  /**
   * The round trip measured by the reports themselves (each carries its send time and echoes the
   * partner's, with how long it held it), new since the last tick. RTCP measures one only when video
   * flows (audio's reports come every few seconds): while video is paused this is how a drained
   * queue is seen in time to resume.
   */
  #channelRtt: number | null = null;
  /** STUN answers the selected pair had received at the last tick. */
  #pairAnswers = 0;
  #echo: { ping: number; at: number } | null = null;
  /** Loss of what this side sends, smoothed over a few seconds (single reports are noisy). */
  #sendLoss = 0;
  /** The last three levels of each direction: the shown level is their median, so one bad second does not flash. */
  readonly #levels: { received: QualityLevel[]; partner: QualityLevel[] } = { received: [], partner: [] };
  #last: CallQuality | null = null;
  #closed = false;

  constructor(pc: RTCPeerConnection) {
    super();
    this.#pc = pc;
    monitors.set(pc, this);
  }

  get current(): CallQuality | null {
    return this.#last;
  }

  /** The channel both sides create with the same id (negotiated), before their descriptions. */
  attachChannel(channel: RTCDataChannel): void {
    this.#channel = channel;
    channel.onmessage = ({ data }) => {
      const at = performance.now();
      const report = parseReport(data);
      if (!report) return;
      this.#partner = { report, at };
      const { ping, echo } = parseTiming(data);
      if (ping !== null) this.#echo = { ping, at };
      if (echo !== null && at - echo[0] - echo[1] >= 0) this.#channelRtt = at - echo[0] - echo[1];
    };
  }

  /** Once the call connects: the policy starts now, its first tier (the thumbnail) before any frame. */
  start(): void {
    if (this.#timer || this.#closed) return;
    this.#policy = initialPolicy(performance.now());
    void this.#apply();
    this.#timer = setInterval(() => void this.#tick().catch(() => undefined), TICK_MS);
  }

  /**
   * A negotiation settled: if it left the video sender other than its tier wants (a browser may
   * bring back its defaults with a resume's send stream; Chromium 156 keeps them), set it again
   * before the first frames.
   */
  negotiated(): void {
    if (this.#closed || !this.#timer || this.#inPlace()) return;
    void this.#apply();
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#channel) this.#channel.onmessage = null;
  }

  async #tick(): Promise<void> {
    const report = await this.#pc.getStats();
    if (this.#closed) return;
    const all: Stat[] = [];
    report.forEach((s: Stat) => all.push(s));
    const byId = new Map(all.map((s) => [s.id, s]));
    const c: Counters = {
      at: performance.now(),
      packets: 0,
      lost: 0,
      samples: 0,
      concealed: 0,
      frames: 0,
      videoJbDelay: 0,
      videoJbEmitted: 0,
      remoteLost: 0,
      remotePackets: 0,
    };
    let height = 0;
    let rttMs: number | null = null;
    let availableKbps: number | null = null;
    let remoteFractionLost = 0;
    let rtcpRttMs: number | null = null;
    let pairRttMs: number | null = null;
    for (const s of all) {
      if (s.type === 'inbound-rtp') {
        c.packets += num(s.packetsReceived);
        c.lost += Math.max(0, num(s.packetsLost));
        if (s.kind === 'audio') {
          c.samples += num(s.totalSamplesReceived);
          c.concealed += num(s.concealedSamples) - num(s.silentConcealedSamples);
        } else if (s.kind === 'video') {
          c.frames += num(s.framesDecoded);
          c.videoJbDelay += num(s.jitterBufferDelay);
          c.videoJbEmitted += num(s.jitterBufferEmittedCount);
          height = Math.max(height, num(s.frameHeight));
        }
      } else if (s.type === 'remote-inbound-rtp') {
        remoteFractionLost = Math.max(remoteFractionLost, num(s.fractionLost));
        // RTCP's round trip is fresh every second or so; the ICE pair's only every few seconds.
        const count = num(s.roundTripTimeMeasurements);
        if (typeof s.roundTripTime === 'number' && count > (this.#rttCounts.get(s.id) ?? 0))
          rtcpRttMs = Math.max(rtcpRttMs ?? 0, s.roundTripTime * 1000);
        this.#rttCounts.set(s.id, count);
      } else if (s.type === 'transport' && typeof s.selectedCandidatePairId === 'string') {
        const pair = byId.get(s.selectedCandidatePairId);
        if (pair && typeof pair.currentRoundTripTime === 'number') {
          rttMs = pair.currentRoundTripTime * 1000;
          // The ICE checks' round trip is new every few seconds (a STUN answer came since the last tick).
          const answers = num(pair.responsesReceived);
          if (answers > this.#pairAnswers) pairRttMs = rttMs;
          this.#pairAnswers = answers;
        }
        if (pair && typeof pair.availableOutgoingBitrate === 'number') availableKbps = pair.availableOutgoingBitrate / 1000;
      }
    }
    const fresh = [rtcpRttMs, this.#channelRtt, pairRttMs].filter((v): v is number => v !== null);
    this.#channelRtt = null;
    ({ rttMs, recent: this.#rtts } = roundTrip(fresh, rttMs, this.#rtts, this.#policy.tier === PAUSED));
    const p = this.#prev;
    this.#prev = c;
    if (!p) return;
    const seconds = Math.max(0.2, (c.at - p.at) / 1000);
    const got = c.packets - p.packets;
    const lost = Math.max(0, c.lost - p.lost);
    const samples = c.samples - p.samples;
    const emitted = c.videoJbEmitted - p.videoJbEmitted;
    if (rttMs !== null) this.#minRtt = this.#minRtt === null ? rttMs : Math.min(this.#minRtt, rttMs);
    const mine: ReceiveReport = {
      loss: got + lost > 0 ? lost / (got + lost) : 0,
      concealment: samples > 0 ? Math.max(0, (c.concealed - p.concealed) / samples) : 0,
      fps: Math.round((c.frames - p.frames) / seconds),
      height,
      delayMs: rttMs !== null && emitted > 0 ? Math.round(rttMs / 2 + ((c.videoJbDelay - p.videoJbDelay) / emitted) * 1000 + 20) : null,
      sendingVideo: this.#policy.tier !== PAUSED,
    };
    // A camera turned off on purpose (the page is hidden) sends black frames at a trickle: say so.
    const held = this.#pc.getSenders().some((sender) => sender.track?.kind === 'video' && !sender.track.enabled);
    const partner = this.#partner && c.at - this.#partner.at < STALE_MS ? this.#partner.report : null;
    // The partner's count over the last second is the better figure; RTCP's fractionLost covers few packets.
    this.#sendLoss = 0.5 * this.#sendLoss + 0.5 * (partner?.loss ?? remoteFractionLost);
    const feedbackAgeMs = this.#partner ? Math.round(c.at - this.#partner.at) : undefined;
    this.#policy = decide(
      this.#policy,
      {
        availableKbps,
        loss: this.#sendLoss,
        rttMs,
        minRttMs: this.#minRtt,
        partner,
        ...(feedbackAgeMs === undefined ? {} : { feedbackAgeMs }),
      },
      c.at,
    );
    mine.sendingVideo = this.#policy.tier !== PAUSED && !held;
    if (held) mine.held = true;
    // For monitoring (the bad-network lab listens): what the policy saw and chose, off the control path.
    this.#pc.dispatchEvent(
      new CustomEvent('duetquality', {
        detail: {
          tier: this.#policy.tier,
          probing: this.#policy.probing,
          availableKbps,
          rttMs,
          minRttMs: this.#minRtt,
          loss: this.#sendLoss,
          feedbackAgeMs,
          mine,
          partner,
        },
      }),
    );
    if (this.#policy.tier !== this.#applied || !this.#inPlace()) await this.#apply();
    if (this.#channel?.readyState === 'open') {
      try {
        const now = performance.now();
        const echo = this.#echo ? [this.#echo.ping, Math.round(now - this.#echo.at)] : undefined;
        this.#channel.send(JSON.stringify({ v: 1, ...mine, ping: Math.round(now), echo }));
      } catch {
        // a full or closing channel: the next second sends a fresh report
      }
    }
    const partnerSendingVideo = partner?.sendingVideo ?? true;
    const partnerHeld = partner?.held === true;
    const received = smooth(this.#levels.received, levelOf(mine, partnerSendingVideo, partnerHeld));
    const partnerReceived = partner ? smooth(this.#levels.partner, levelOf(partner, mine.sendingVideo, held)) : null;
    const q: CallQuality = {
      level: worst(received, partnerReceived),
      received,
      partnerReceived,
      sendingVideo: mine.sendingVideo,
      partnerSendingVideo,
      videoHeld: held,
      partnerVideoHeld: partnerHeld,
    };
    const l = this.#last;
    this.#last = q;
    if (
      !l ||
      l.level !== q.level ||
      l.sendingVideo !== q.sendingVideo ||
      l.partnerSendingVideo !== q.partnerSendingVideo ||
      l.videoHeld !== q.videoHeld ||
      l.partnerVideoHeld !== q.partnerVideoHeld ||
      l.received !== q.received ||
      l.partnerReceived !== q.partnerReceived
    )
      this.emit('change', q);
  }

  /** The video transceiver, found by its receiver's kind (whatever track its sender has, or none). */
  #video(): RTCRtpTransceiver | undefined {
    if (this.#pc.signalingState === 'closed') return undefined;
    return this.#pc.getTransceivers().find((t) => t.receiver.track.kind === 'video' && t.direction !== 'stopped');
  }

  /**
   * Whether the video sender is as the policy wants it. Checked every second, not only on a change:
   * pausing and resuming renegotiate, which a browser may answer with its default parameters.
   */
  #inPlace(): boolean {
    const t = this.#video();
    if (!t) return true;
    const want = sendTier(this.#policy);
    if (!want) return t.direction === 'recvonly';
    if (t.direction !== 'sendrecv') return false;
    const enc = t.sender.getParameters().encodings?.[0];
    return (
      !enc ||
      (enc.active !== false &&
        enc.maxBitrate === want.maxKbps * 1000 &&
        enc.scaleResolutionDownBy === want.scale &&
        enc.maxFramerate === want.maxFps)
    );
  }

  /**
   * Sends video as the policy wants it (its tier, or the thumbnail's probe). A pause stops the
   * encoder at once (`active = false`) and then stops sending video altogether (the transceiver's
   * direction, renegotiated): with the encoding only inactive, Chromium keeps answering the
   * partner's retransmission requests from its packet history, and after a squeeze those are most
   * of the traffic (docs/quality.md).
   */
  async #apply(): Promise<void> {
    const t = this.#video();
    if (!t) return;
    const tier = this.#policy.tier;
    const want: Tier | null = sendTier(this.#policy);
    const sender = t.sender;
    const params = sender.getParameters() as RTCRtpSendParameters & { degradationPreference?: string };
    const enc = params.encodings?.[0] as (RTCRtpEncodingParameters & { priority?: string; networkPriority?: string }) | undefined;
    if (enc) {
      // Paused: the encoding is inactive, its limits those of the thumbnail it resumes at.
      const tt = want ?? TIERS[TIERS.length - 1]!;
      enc.active = want !== null;
      enc.maxBitrate = tt.maxKbps * 1000;
      enc.scaleResolutionDownBy = tt.scale;
      enc.maxFramerate = tt.maxFps;
      enc.priority = 'low';
      enc.networkPriority = 'low';
      params.degradationPreference = 'maintain-framerate';
    }
    try {
      if (enc) await sender.setParameters(params);
      const direction = want === null ? 'recvonly' : 'sendrecv';
      if (t.direction !== direction) t.direction = direction;
      this.#applied = tier;
    } catch {
      // A renegotiation in flight invalidates the parameters: the next tick tries again.
    }
  }
}

const RANK: Record<QualityLevel, number> = { good: 0, fair: 1, poor: 2 };

/** Adds a level to the last three and returns their median. */
function smooth(history: QualityLevel[], level: QualityLevel): QualityLevel {
  history.push(level);
  if (history.length > 3) history.shift();
  return [...history].sort((a, b) => RANK[a] - RANK[b])[Math.floor((history.length - 1) / 2)]!;
}

/** A report's send time, and the partner's last send time it echoes with how long it was held (ms). */
function parseTiming(data: string): { ping: number | null; echo: [number, number] | null } {
  const m = JSON.parse(data) as { ping?: unknown; echo?: unknown };
  const ms = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  const echo = Array.isArray(m.echo) && m.echo.length === 2 && ms(m.echo[0]) && ms(m.echo[1]) ? (m.echo as [number, number]) : null;
  return { ping: ms(m.ping) ? m.ping : null, echo };
}

function parseReport(data: unknown): ReceiveReport | null {
  if (typeof data !== 'string' || data.length > 1000) return null;
  try {
    const m = JSON.parse(data) as Record<string, unknown>;
    const unit = (v: unknown) => (typeof v === 'number' && v >= 0 && v <= 1 ? v : null);
    const count = (v: unknown) => (typeof v === 'number' && v >= 0 && v < 100_000 ? v : null);
    const loss = unit(m.loss);
    const concealment = unit(m.concealment);
    const fps = count(m.fps);
    const height = count(m.height);
    if (m.v !== 1 || loss === null || concealment === null || fps === null || height === null || typeof m.sendingVideo !== 'boolean')
      return null;
    const report: ReceiveReport = { loss, concealment, fps, height, delayMs: count(m.delayMs), sendingVideo: m.sendingVideo };
    if (m.held === true) report.held = true;
    return report;
  } catch {
    return null;
  }
}
