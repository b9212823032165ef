import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { END_REASONS, type CallOutcome, type QualitySample } from '@duet/protocol';
import type { Call } from '../calls/call.js';
import type { CountsPort } from '../lobby/ports.js';

/** Outcome of a call that has ended: connected at some point, failed to connect, or left before. */
export function outcomeOf(call: { at: { connected?: number | undefined }; endReason?: string | undefined }): CallOutcome {
  if (call.at.connected !== undefined) return 'connected';
  return call.endReason === 'ice_failed' ? 'ice_failed' : 'abandoned';
}

/** The shared waiting pool's health, as /metrics and /healthz report it (none with one node). */
export interface SharedPoolHealth {
  readonly poolState: 'up' | 'unavailable';
}

/**
 * Duet's Prometheus metrics (documented in docs/metrics.md). One registry per server, so tests
 * can run several servers in one process. Label values are bounded: no user or call ids.
 */
export class DuetMetrics {
  readonly registry = new Registry();
  readonly timeToMatch: Histogram;
  readonly timeToConnect: Histogram;
  readonly callDuration: Histogram;
  readonly calls: Counter<'outcome'>;
  readonly callsEnded: Counter<'reason'>;
  readonly connectedByPath: Counter<'path'>;
  readonly qualityRtt: Histogram;
  readonly qualityLoss: Histogram;
  readonly qualityDelay: Histogram;
  readonly qualitySamples: Counter<'accepted'>;
  /** With several nodes: whether Redis answers (the pool is shared); /healthz reads it too. */
  readonly sharedPool: SharedPoolHealth | undefined;

  constructor(lobby: CountsPort, options: { defaultMetrics?: boolean; sharedPool?: SharedPoolHealth } = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'duet_' });

    new Gauge({
      name: 'duet_people_online',
      help: 'People with an open signaling connection.',
      registers,
      collect() {
        this.set(lobby.online);
      },
    });
    new Gauge({
      name: 'duet_people_waiting',
      help: 'People in the matching queue.',
      registers,
      collect() {
        this.set(lobby.waiting);
      },
    });
    const sharedPool = (this.sharedPool = options.sharedPool);
    if (sharedPool) {
      new Gauge({
        name: 'duet_shared_pool_up',
        help: 'With several nodes: 1 while this node can use the shared pool in Redis, 0 while Redis is unavailable (matching paused).',
        registers,
        collect() {
          this.set(sharedPool.poolState === 'up' ? 1 : 0);
        },
      });
    }
    new Gauge({
      name: 'duet_calls_active',
      help: 'Calls not yet ended.',
      registers,
      collect() {
        this.set(lobby.activeCalls);
      },
    });

    this.timeToMatch = new Histogram({
      name: 'duet_time_to_match_seconds',
      help: 'Time from joining the queue to being matched, per person.',
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300],
      registers,
    });
    this.timeToConnect = new Histogram({
      name: 'duet_time_to_connect_seconds',
      help: 'Time from match to both browsers reporting the peer connection up.',
      buckets: [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 15, 30],
      registers,
    });
    this.callDuration = new Histogram({
      name: 'duet_call_duration_seconds',
      help: 'Length of connected calls: from connected to ended, less reconnection gaps.',
      buckets: [10, 30, 60, 120, 300, 600, 1800, 3600],
      registers,
    });
    this.calls = new Counter({
      name: 'duet_calls_total',
      help: 'Ended calls by outcome: connected, ice_failed, abandoned.',
      labelNames: ['outcome'],
      registers,
    });
    this.callsEnded = new Counter({
      name: 'duet_calls_ended_total',
      help: 'Ended calls by end reason.',
      labelNames: ['reason'],
      registers,
    });
    this.connectedByPath = new Counter({
      name: 'duet_connected_calls_by_path_total',
      help: "Connected calls by media path, counted once the call has ended (after the grace for final reports): relay when the relay carried its media by the relay's own accounting (managed) or a bounded claim (external), direct when a browser reported a path and the relay carried nothing.",
      labelNames: ['path'],
      registers,
    });
    this.qualityRtt = new Histogram({
      name: 'duet_quality_rtt_seconds',
      help: 'Round-trip time in browser quality samples.',
      buckets: [0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2],
      registers,
    });
    this.qualityLoss = new Histogram({
      name: 'duet_quality_packet_loss_ratio',
      help: 'Inbound packet loss in browser quality samples.',
      buckets: [0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5],
      registers,
    });
    this.qualityDelay = new Histogram({
      name: 'duet_quality_estimated_delay_seconds',
      help: 'Estimated one-way media delay in browser quality samples.',
      buckets: [0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2],
      registers,
    });
    this.qualitySamples = new Counter({
      name: 'duet_quality_samples_total',
      help: 'Quality samples uploaded by browsers, by whether they were stored.',
      labelNames: ['accepted'],
      registers,
    });

    // Every label value exists from the start, so rates and ratios are defined before the first event.
    for (const outcome of ['connected', 'ice_failed', 'abandoned']) this.calls.inc({ outcome }, 0);
    for (const reason of END_REASONS) this.callsEnded.inc({ reason }, 0);
    for (const path of ['direct', 'relay']) this.connectedByPath.inc({ path }, 0);
    for (const accepted of ['true', 'false']) this.qualitySamples.inc({ accepted }, 0);
  }

  // Each call is counted once, by the node that matched it (its primary): see server/lifecycle.ts.
  callMatched(call: Call): void {
    this.timeToMatch.observe(call.waitMs.a / 1000);
    this.timeToMatch.observe(call.waitMs.b / 1000);
  }

  callConnected(call: Call): void {
    this.timeToConnect.observe((call.at.connected! - call.at.matched) / 1000);
  }

  observeSample(s: QualitySample): void {
    if (s.rttMs !== undefined) this.qualityRtt.observe(s.rttMs / 1000);
    if (s.packetLoss !== undefined) this.qualityLoss.observe(s.packetLoss);
    if (s.estDelayMs !== undefined) this.qualityDelay.observe(s.estDelayMs / 1000);
  }

  callEnded(call: Call): void {
    const outcome = outcomeOf(call);
    this.calls.inc({ outcome });
    this.callsEnded.inc({ reason: call.endReason! });
    if (outcome === 'connected') this.callDuration.observe(call.talkMs! / 1000);
  }
}
