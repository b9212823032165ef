import { CallRecords } from '../calls/recorder.js';
import { Cluster } from '../cluster/cluster.js';
import type { Config } from '../config.js';
import { wireCallLifecycle } from './lifecycle.js';
import { Lobby } from '../lobby/lobby.js';
import { MemoryPool } from '../matchmaking/memoryPool.js';
import { RelayAccounting } from '../metering/relayBooks.js';
import type { Relay } from '../relay/relay.js';
import type { SafetyRepository } from '../safety/blocks.js';
import { filterChat } from '../safety/chatFilter.js';
import type { Delivery } from '../signaling/outbox.js';
import type { Storage } from '../storage/database.js';
import { Funnel } from '../telemetry/funnel.js';
import { DuetMetrics } from '../telemetry/metrics.js';
import { QualityRecorder } from '../telemetry/quality.js';
import type { Clock } from '../util/clock.js';
import type { PendingWrites } from '../util/tasks.js';
import type { Logger } from 'pino';

export interface CallsContext {
  config: Config;
  clock: Clock;
  log: Logger;
  storage: Storage;
  writes: PendingWrites;
  relay: Relay;
  safety: SafetyRepository;
  people: Delivery;
  defaultMetrics: boolean;
}

/**
 * The people and their calls, and everything that keeps a call's books: its record, metrics,
 * funnel, quality samples and relay usage (all wired in lifecycle.ts). With REDIS_URL, the waiting
 * pool is shared and the node joins the cluster (attached once the meter exists: see cluster.ts part).
 */
export function startCalls(c: CallsContext) {
  const { config, clock, log, storage, writes, relay, people } = c;
  const cluster = config.cluster ? new Cluster({ ...config.cluster, policy: config.matchPolicy, log }) : undefined;
  const lobby = new Lobby({
    matchmaker: cluster?.pool ?? new MemoryPool(config.matchPolicy),
    ...(cluster ? { cluster, presence: () => cluster.presence() } : {}),
    policy: config.matchPolicy,
    modes: config.modes,
    clock,
    log,
    connectTimeoutMs: config.connectTimeoutMs,
    reconnectGraceMs: config.reconnectGraceMs,
    holdReported: config.safety.holdReported,
    verifiedOnly: config.verification.required,
    ...(config.safety.chatFilter ? { filterChat: (text: string) => filterChat(text).text } : {}),
    send: people.send,
    broadcast: people.broadcast,
    iceServersFor: (userId, callId) => relay.iceServersFor(userId, clock.now(), callId),
    relay: { available: relay.available, relayOnly: config.relayOnly },
    safety: {
      block: (blocker, blocked, callId) => writes.track('block', c.safety.block(blocker, blocked, callId, clock.now())),
      report: (r) => writes.track('report', c.safety.report({ ...r, now: clock.now() })),
    },
  });
  const records = new CallRecords(storage, writes, config.cluster?.nodeId ?? null);
  // Redis gone: the lobby keeps its waiting people and pauses matching; back: it puts them in again.
  cluster?.observer.on('pool:down', () => lobby.poolAvailable(false)).on('pool:up', () => lobby.poolAvailable(true));
  const metrics = new DuetMetrics(lobby, { defaultMetrics: c.defaultMetrics, ...(cluster ? { sharedPool: cluster } : {}) });
  // Relayed bytes and relay use come from the relay's own accounting, never unbounded from a browser.
  const relayBooks = new RelayAccounting({ relay, records, clock, log, maxBytesPerSecond: config.turn.maxBytesPerSecond });
  const quality = new QualityRecorder({ records, db: storage.db, metrics, clock, relay: relayBooks });
  const funnel = new Funnel(storage.db, clock, writes);
  lobby.observer.on('queue:joined', (userId) => funnel.record(userId, 'queued'));
  return {
    cluster,
    lobby,
    records,
    metrics,
    quality,
    funnel,
    /** Once the meter exists: who reacts to a call's moves, in order. */
    wire: (meter: Parameters<typeof wireCallLifecycle>[1]['meter']) =>
      wireCallLifecycle(lobby.calls.observer, { records, meter, metrics, funnel, quality, relay: relayBooks }),
  };
}
