import type { ClientMessageOf, MediaPath, QualitySample } from '@duet/protocol';
import type { Call } from '../calls/call.js';
import type { CallRecords } from '../calls/recorder.js';
import { DuetError } from '../errors.js';
import type { RelayTruth } from '../metering/relayBooks.js';
import type { Db } from '../storage/database.js';
import type { Clock } from '../util/clock.js';
import type { DuetMetrics } from './metrics.js';

export interface QualityOptions {
  records: CallRecords;
  db: Db;
  metrics: DuetMetrics;
  clock: Clock;
  /** The relay's books: the only way a sample's relay path or byte count reaches the economics. */
  relay: RelayTruth;
  /** Samples closer together than this are refused (the SDK sends every 10 s). */
  minIntervalMs?: number;
  /** Cap per side per call, so one call cannot fill storage (720 = two hours at 10 s). */
  maxSamplesPerSide?: number;
  /** How long after a call ends its final samples are still accepted. */
  graceMs?: number;
}

interface Side {
  seq: number;
  lastAt: number;
  final: boolean;
  path: string | null;
}

interface Tracked {
  call: Call;
  sides: { a: Side; b: Side };
  pathReported: boolean;
}

const newSide = (): Side => ({ seq: 0, lastAt: -Infinity, final: false, path: null });

export const isRelayed = (p: MediaPath) => p.local === 'relay' || p.remote === 'relay';

/**
 * Stores the call-quality summaries browsers upload, bounded per call and per side. They are quality
 * data: the media path a browser reports is stored as it says, but whether a call was relayed and
 * how many bytes the relay carried are the relay's books (RelayTruth), which take a browser's word
 * only bounded, or not at all.
 */
export class QualityRecorder {
  readonly #calls = new Map<string, Tracked>();
  readonly #o: Required<QualityOptions>;

  constructor(options: QualityOptions) {
    this.#o = { minIntervalMs: 4_000, maxSamplesPerSide: 720, graceMs: 60_000, ...options };
  }

  /** A call started (here or mirrored): its people may send samples. */
  callMatched(call: Call): void {
    this.#calls.set(call.id, { call, sides: { a: newSide(), b: newSide() }, pathReported: false });
  }

  /** Late final samples are still taken for a while after the call ends; then its path is counted. */
  callEnded(call: Call): void {
    this.#o.clock.after(this.#o.graceMs, () => {
      const t = this.#calls.get(call.id);
      this.#calls.delete(call.id);
      if (t) this.#countPath(t);
    });
  }

  accept(userId: string, m: ClientMessageOf<'stats'>): void {
    const t = this.#calls.get(m.callId);
    if (!t || !t.call.has(userId)) throw new DuetError('not_in_call');
    const now = this.#o.clock.now();
    const sideName = t.call.sideOf(userId);
    const side = t.sides[sideName];
    const final = m.final === true;
    const refuse = (why: string) => {
      this.#o.metrics.qualitySamples.inc({ accepted: 'false' });
      throw new DuetError('rate_limited', why);
    };
    if (side.final) refuse('This call’s final quality sample was already received.');
    if (!final && t.call.isOver) refuse('The call has ended; only a final sample is accepted.');
    if (!final && now - side.lastAt < this.#o.minIntervalMs) refuse(`Quality samples at most every ${this.#o.minIntervalMs / 1000} s.`);
    if (!final && side.seq >= this.#o.maxSamplesPerSide) refuse('This call has reached its quality sample limit.');

    side.seq += 1;
    side.lastAt = now;
    side.final = final;
    const s = m.sample;
    const seq = side.seq;
    this.#o.records.qualitySample(t.call.id, {
      side: sideName,
      seq,
      at: now,
      final: final ? 1 : 0,
      rtt_ms: s.rttMs ?? null,
      jitter_ms: s.jitterMs ?? null,
      packet_loss: s.packetLoss ?? null,
      inbound_kbps: s.inboundKbps ?? null,
      outbound_kbps: s.outboundKbps ?? null,
      fps: s.fps ?? null,
      freeze_count: s.freezeCount ?? null,
      total_freezes_ms: s.totalFreezesMs ?? null,
      audio_concealment: s.audioConcealment ?? null,
      est_delay_ms: s.estDelayMs ?? null,
      bytes_total: s.bytesTotal ?? null,
    });
    if (s.path) this.#learnPath(t, sideName, userId, s);
    if (s.gathered) this.#o.records.mediaPaths(t.call.id, sideName, { gathered: [...new Set(s.gathered)].sort().join(',') });
    this.#o.metrics.observeSample(s);
    this.#o.metrics.qualitySamples.inc({ accepted: 'true' });
  }

  #learnPath(t: Tracked, sideName: 'a' | 'b', userId: string, s: QualitySample): void {
    const path = s.path!;
    const side = t.sides[sideName];
    t.pathReported = true;
    this.#o.relay.clientClaim(t.call, userId, isRelayed(path), s.bytesTotal);
    const json = JSON.stringify(path);
    if (json === side.path) return;
    side.path = json;
    this.#o.records.mediaPaths(t.call.id, sideName, { path: json });
  }

  /**
   * Once a connected call is over and its last reports are in: relayed by the relay's books, direct
   * if a browser reported a path and the relay carried nothing for it. Counted once cluster-wide,
   * where the call is primary (its record lives there too).
   */
  #countPath(t: Tracked): void {
    if (!t.call.primary || t.call.at.connected === undefined) return;
    const relayed = this.#o.relay.relayed(t.call.id);
    if (relayed || t.pathReported) this.#o.metrics.connectedByPath.inc({ path: relayed ? 'relay' : 'direct' });
  }
}
