import type { FastifyInstance } from 'fastify';
import type { DestinationStream, Logger } from 'pino';
import type { Cluster } from './cluster/cluster.js';
import type { Config } from './config.js';
import { resolveSecret } from './identity/secret.js';
import { TokenIssuer } from './identity/tokens.js';
import { UserRepository } from './identity/users.js';
import type { Lobby } from './lobby/lobby.js';
import { Relay } from './relay/relay.js';
import { SafetyRepository } from './safety/blocks.js';
import { Assembly } from './server/assembly.js';
import { startCalls } from './server/calls.js';
import { createHttp } from './server/http.js';
import { startMetering } from './server/metering.js';
import { startSafety } from './server/safety.js';
import { startSignaling } from './server/signaling.js';
import { startVerification } from './server/verification.js';
import { startWeb } from './server/web.js';
import { joinCluster } from './server/cluster.js';
import type { SignalingHub } from './signaling/hub.js';
import { Outbox } from './signaling/outbox.js';
import { openStorage, type Storage } from './storage/database.js';
import type { DuetMetrics } from './telemetry/metrics.js';
import { systemClock, type Clock } from './util/clock.js';
import { PendingWrites } from './util/tasks.js';

export interface DuetServer {
  readonly app: FastifyInstance;
  readonly lobby: Lobby;
  readonly hub: SignalingHub;
  readonly storage: Storage;
  readonly log: Logger;
  readonly metrics: DuetMetrics;
  /** Present when several nodes share Redis (REDIS_URL). */
  readonly cluster: Cluster | undefined;
  /** Resolves when every background write started so far (call records, samples, ...) is stored. */
  settled(): Promise<void>;
  /** Starts listening; resolves to the bound URL. */
  listen(): Promise<string>;
  /** Graceful shutdown: calls told `server_shutdown`, sockets closed, writes flushed, storage closed. Safe to call twice. */
  close(): Promise<void>;
  /** For a forced exit: stops child processes (the managed relay) at once. */
  abort(): void;
}

export interface CreateOptions {
  clock?: Clock;
  /** Overrides the storage file; ':memory:' in tests. */
  sqliteFile?: string;
  /** Node's process metrics (CPU, heap, event loop) in /metrics; off in tests that count exactly. */
  defaultMetrics?: boolean;
  /** Where log lines go instead of stdout (tests read them). */
  logStream?: DestinationStream;
}

/**
 * The composition root: each part starts in dependency order and names what it needs; shutdown
 * runs from that order (server/assembly.ts). People are reached through one outbox, bound to the
 * signaling hub once it exists (the domains that send are built before it).
 */
export async function createDuetServer(config: Config, options: CreateOptions = {}): Promise<DuetServer> {
  const clock = options.clock ?? systemClock;
  const { app, log } = await createHttp(config, options.logStream);
  const parts = new Assembly(log);
  let closing = false;
  parts.add({ name: 'http', drain: () => void (closing = true), stop: () => app.close() }, app);

  const relay = new Relay(config, log);
  await relay.start();
  parts.add({ name: 'relay', close: () => relay.stop() }, relay);
  const sqlite = options.sqliteFile ? { sqliteFile: options.sqliteFile } : {};
  const storage = await openStorage({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, log, ...sqlite });
  parts.add({ name: 'storage', close: () => storage.close() }, storage);
  if (storage.applied.length > 0) log.info({ migrations: storage.applied, storage: storage.kind }, 'migrations applied');
  const { secret, source } = resolveSecret(config.secret, config.dataDir);
  if (source === 'generated') log.warn('generated a token signing secret in the data folder; set DUET_SECRET when running several nodes');
  const writes = new PendingWrites(log);
  parts.add({ name: 'writes', needs: ['storage'], close: () => writes.flush() }, writes);
  const people = new Outbox();
  const [users, safety, tokens] = [new UserRepository(storage.db), new SafetyRepository(storage.db), new TokenIssuer(secret)];
  /** What every part may use. */
  const ctx = { app, config, clock, log, storage, writes, secret, tokens, users, safety, people };

  const calls = startCalls({ ...ctx, relay, defaultMetrics: options.defaultMetrics ?? true });
  const { lobby, cluster, records, quality, funnel, metrics } = calls;
  parts.add({ name: 'calls', needs: ['storage', 'writes', 'relay'], drain: () => lobby.shutdown() }, calls);
  const { staff, moderation, part: safetyPart } = await startSafety({ ...ctx, lobby, calls: lobby.calls, cluster });
  parts.add(safetyPart, moderation);
  const metering = await startMetering({ ...ctx, lobby, records, cluster, staff, moderation });
  const meter = parts.add(metering.part, metering.meter);
  calls.wire(meter);
  metering.resume();
  const telemetry = { stats: quality.accept.bind(quality), funnel: funnel.record.bind(funnel) };
  const { hub, part: signalingPart } = await startSignaling({ ...ctx, lobby, meter, moderation, telemetry, cluster });
  parts.add(signalingPart, hub);
  if (cluster) parts.add(await joinCluster(cluster, lobby, meter, people), cluster);
  parts.add(startVerification({ ...ctx, staff, moderation, lobby }).part, null);
  const web = await startWeb({ ...ctx, relay, lobby, welcome: metering.welcome, funnel, metrics, staff, closing: () => closing });
  parts.add(web.part, null);

  let closed: Promise<void> | undefined;
  return {
    app,
    lobby,
    hub,
    storage,
    log,
    metrics,
    cluster,
    settled: () => writes.flush(),
    abort: () => relay.kill(),
    close: () => (closed ??= parts.shutdown().then(() => log.info('shut down'))),
    // The kernel queues this many connections before they are accepted (capped by somaxconn):
    // Node's default of 511 overflows when a crowd arrives and handshakes are lost.
    listen: () => app.listen({ port: config.port, host: config.host, backlog: config.listenBacklog }),
  };
}
