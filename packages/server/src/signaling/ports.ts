import type { ClientMessageOf } from '@duet/protocol';
import type { Logger } from 'pino';
import type { UserRepository } from '../identity/users.js';
import type { TokenIssuer } from '../identity/tokens.js';
import type { PeoplePort } from '../lobby/ports.js';
import type { SafetyRepository } from '../safety/blocks.js';
import type { PersonLimiter } from '../safety/limits.js';
import type { Clock } from '../util/clock.js';

/** Where telemetry messages from browsers go; kept off the lobby, which runs the calls. */
export interface TelemetryPort {
  stats(userId: string, m: ClientMessageOf<'stats'>): void;
  funnel(userId: string, step: ClientMessageOf<'funnel'>['step']): void;
}

/** The meter: heartbeats carry the evidence of media, and credit decides who may queue. */
export interface MeteringPort {
  heartbeat(userId: string, m: ClientMessageOf<'heartbeat'>): void;
  assertCanQueue(userId: string): Promise<void>;
}

/**
 * With several nodes: this node's id, and how the others hear that someone connected here (their
 * older connection there gives way, see `retireOlder`).
 */
export interface HubCluster {
  readonly nodeId: string;
  connected(userId: string, at: number): void;
}

/** Who may come in: a banned person is told why and turned away (the device id as their record has it). */
export type Admission = (user: {
  id: string;
  deviceId: string | null;
}) => Promise<{ ban?: { reason: string; until: number | null; appeal: string }; held: boolean }>;

export interface HubOptions {
  lobby: PeoplePort;
  telemetry: TelemetryPort;
  metering: MeteringPort;
  admission: Admission;
  users: UserRepository;
  safety: SafetyRepository;
  /** Joining, skipping, chat and reports: limits kept per person (and address), across reconnects and nodes. */
  limits: PersonLimiter;
  tokens: TokenIssuer;
  clock: Clock;
  log: Logger;
  /** Undefined on a single node. */
  cluster: HubCluster | undefined;
  heartbeatIntervalMs: number;
  /** A connection that has not said hello by then is closed. */
  helloTimeoutMs?: number;
  /** Open sockets allowed per client address (a browser needs one). */
  maxPerAddress?: number;
  /**
   * Sockets that have not finished hello (authenticating, looking the person up) beyond which a new
   * socket is turned away with CLOSE.busy and a retry-after, so a crowd queues in the SDKs' waits
   * rather than in this node's memory and event loop.
   */
  maxPendingHellos?: number;
  /** The retry-after such a refusal names; each picks between this and twice this. */
  busyRetryAfterMs?: number;
}
