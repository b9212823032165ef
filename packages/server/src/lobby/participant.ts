import type { ReportReason } from '@duet/protocol';
import type { Logger } from 'pino';
import type { Call } from '../calls/call.js';

export type PresenceStatus = 'idle' | 'waiting' | 'in_call';

export interface MatchCriteria {
  interests: readonly string[];
  language: string;
  region: string | undefined;
  mode: string;
  /** Relay-only media for this person's calls (not a matching criterion: anyone may be their partner). */
  privacy: boolean;
  /** Meet only people who passed the liveness check. */
  verifiedOnly: boolean;
}

export const DEFAULT_CRITERIA: MatchCriteria = Object.freeze({
  interests: [],
  language: 'en',
  region: undefined,
  mode: 'chat',
  privacy: false,
  verifiedOnly: false,
});

/** What the lobby learns about a person when their signaling connection comes up. */
export interface ConnectInfo {
  rulesAccepted: boolean;
  blockedWith: Set<string>;
  held?: boolean;
  verifiedUntil?: number | null;
}

/** One person connected to this node (or away, while their call waits for them to come back). */
export interface Participant {
  readonly userId: string;
  status: PresenceStatus;
  call: Call | undefined;
  /** What the person asked to be matched on (kept for Next and reconnects). */
  criteria: MatchCriteria;
  rulesAccepted: boolean;
  /** People this person must never be matched with (blocks in either direction). */
  readonly blockedWith: Set<string>;
  /** Recent partners, newest last (at most the policy's count), so Next never lands you back with them. */
  readonly recent: Array<{ userId: string; at: number }>;
  /**
   * The call whose end this person's client must acknowledge (`requeue`) before they are queued
   * again: set when a call someone else ended leaves them `then: 'waiting'`. Idle meanwhile.
   */
  pendingRequeue: string | undefined;
  /** Cancels the timers that widen this person's matching while they wait. */
  cancelWidening: (() => void) | undefined;
  /** When the current wait began (kept across repeated joins). */
  waitingSince: number;
  /** Set while the person's signaling connection is gone but their call may still be resumed. */
  detached: { reason: 'connection_lost' | 'heartbeat_timeout'; cancel: () => void } | undefined;
  /** Has unreviewed reports against them, and the operator holds such people to their own pool. */
  held: boolean;
  /** Passed the liveness check; verified until then (null: not verified). */
  verifiedUntil: number | null;
  readonly log: Logger;
}

/** Criteria before a person says what they want: one frozen object per mode, shared (criteria are replaced, never edited). */
const defaults = new Map<string, MatchCriteria>();

/**
 * A person as the lobby holds them. Thousands wait or idle at once, so each keeps little: the
 * default criteria are shared, and the person's logger is made at their first log line.
 */
class Person implements Participant {
  status: PresenceStatus = 'idle';
  call: Call | undefined = undefined;
  criteria: MatchCriteria;
  rulesAccepted: boolean;
  readonly blockedWith: Set<string>;
  readonly recent: Array<{ userId: string; at: number }> = [];
  pendingRequeue: string | undefined = undefined;
  cancelWidening: (() => void) | undefined = undefined;
  waitingSince: number;
  detached: { reason: 'connection_lost' | 'heartbeat_timeout'; cancel: () => void } | undefined = undefined;
  held: boolean;
  verifiedUntil: number | null;
  readonly #parentLog: Logger;
  #log: Logger | undefined;

  constructor(
    readonly userId: string,
    info: ConnectInfo,
    mode: string,
    now: number,
    parentLog: Logger,
  ) {
    this.#parentLog = parentLog;
    let criteria = defaults.get(mode);
    if (!criteria) defaults.set(mode, (criteria = Object.freeze({ ...DEFAULT_CRITERIA, mode })));
    this.criteria = criteria;
    this.rulesAccepted = info.rulesAccepted;
    this.blockedWith = info.blockedWith;
    this.waitingSince = now;
    this.held = info.held ?? false;
    this.verifiedUntil = info.verifiedUntil ?? null;
  }

  get log(): Logger {
    return (this.#log ??= this.#parentLog.child({ userId: this.userId }));
  }
}

export function newParticipant(userId: string, info: ConnectInfo, mode: string, now: number, log: Logger): Participant {
  return new Person(userId, info, mode, now, log);
}

/** What the lobby needs from safety storage; writes happen in the background. */
export interface SafetyPort {
  block(blockerId: string, blockedId: string, callId: string | null): void;
  report(r: {
    id: string;
    callId: string;
    reporterId: string;
    reportedId: string;
    reason: ReportReason;
    comment?: string | undefined;
    /** The call's chat as the server relayed it. */
    transcript: Array<{ from: 'reporter' | 'reported'; text: string; at: number }>;
  }): void;
}
