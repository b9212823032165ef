import type { ClientMessageOf, EndReason } from '@duet/protocol';
import type { Call } from '../calls/call.js';
import type { ConnectInfo, MatchCriteria, PresenceStatus } from './participant.js';

/**
 * The lobby as each of its users sees it: a domain that needs the lobby names the one port it
 * uses, never the whole class (the lobby implements them all; see its `implements` line).
 */

/** What people do, as the signaling hub hands it over. */
export interface PeoplePort {
  readonly online: number;
  connect(userId: string, info: ConnectInfo): { resumedCallId?: string };
  disconnect(userId: string, reason: Extract<EndReason, 'connection_lost' | 'heartbeat_timeout'>): void;
  statusOf(userId: string): PresenceStatus | undefined;
  callOf(userId: string): Call | undefined;
  join(userId: string, criteria?: Partial<MatchCriteria>): void;
  /** `callId`: the call the person's message names, null when it names none (docs/protocol.md). */
  next(userId: string, callId: string | null): void;
  leave(userId: string, callId: string | null): void;
  /** The person's client acknowledged a call's end (`then: 'waiting'`): they go back in the queue. */
  requeue(userId: string, callId: string): void;
  signal(userId: string, m: ClientMessageOf<'signal'>): void;
  peerState(userId: string, callId: string, state: ClientMessageOf<'peer_state'>['state']): void;
  forwardHeartbeat(userId: string, m: ClientMessageOf<'heartbeat'>): boolean;
  chat(userId: string, callId: string, text: string): void;
  block(userId: string, callId: string): void;
  report(userId: string, m: ClientMessageOf<'report'>, file?: boolean): void;
  iceRefresh(userId: string, callId: string): void;
}

/** The counts shown and scraped. */
export interface CountsPort {
  readonly online: number;
  readonly waiting: number;
  readonly activeCalls: number;
}

/** What moderation and verification change about a person who may be here. */
export interface StandingPort {
  rulesAccepted(userId: string): void;
  setHeld(userId: string, held: boolean): void;
  removeBanned(userId: string): void;
  setVerified(userId: string, verifiedUntil: number | null): void;
}
