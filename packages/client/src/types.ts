import type { EndReason, ErrorCode } from '@duet/protocol';
import type { CallQuality } from './quality.js';

/** The call state shown to people; mirrors `call-status[data-state]` in the web app. */
export type CallState = 'idle' | 'waiting' | 'connecting' | 'connected' | 'reconnecting' | 'ended' | 'failed';

/** Why the last call ended and who ended it, for messages such as "Your partner left". */
export interface CallEnd {
  callId: string;
  reason: EndReason;
  by: 'you' | 'partner' | 'server';
}

export interface StateChange {
  state: CallState;
  previous: CallState;
  callId: string | null;
  /** Set when the change was caused by a call ending. */
  lastEnd: CallEnd | null;
}

export interface ChatMessage {
  callId: string;
  from: 'you' | 'partner';
  text: string;
  at: number;
}

/** The signaling connection, separate from the call: it can drop and come back between calls. */
export type ConnectionStatus = 'connecting' | 'open' | 'closed';

export interface DuetErrorEvent {
  code: ErrorCode | 'network' | 'media';
  message: string;
  /** The type of the message the server refused, when it says (e.g. 'join'). */
  ref?: string;
}

export interface Presence {
  online: number;
  waiting: number;
  /** The most common interests among people waiting right now. */
  topInterests: Array<{ tag: string; count: number }>;
}

export interface ClientEvents extends Record<string, unknown> {
  state: StateChange;
  presence: Presence;
  /** While waiting: an honest estimate from recent matches, null when there is nothing to go on. */
  queue: { waiting: number; estimatedWaitMs: number | null };
  /** Matching was widened: interests became a preference, or region was dropped. */
  widened: { stage: 'interests' | 'region'; interests: string[] };
  /** The meter during a call: billable time so far, its cost to this person, their balance (micro-credits). */
  billing: { callId: string; billedMs: number; chargedMicros: number; balanceMicros: number; freeMs: number };
  /** Credit runs out in `secondsLeft`; the call ends then. */
  creditLow: { callId: string; secondsLeft: number };
  /** This person is banned: why, until when (null: permanently), and how to appeal. */
  banned: BanNotice;
  /** A moderator's warning. */
  warning: { message: string };
  /** A report was filed (and its evidence uploaded, when a frame was given). */
  reported: { reportId: string; callId: string; evidence: 'uploaded' | 'none' | 'failed' };
  connection: ConnectionStatus;
  /** Who the new partner is, as far as the server says: whether they passed the liveness check. */
  partner: { callId: string; verified: boolean };
  remoteStream: MediaStream | null;
  /** How the call is doing for both people (the quality indicator), null outside a connected call. */
  quality: CallQuality | null;
  chat: ChatMessage;
  error: DuetErrorEvent;
}

/** Why the camera or microphone could not be opened, in terms a person can act on. */
export type MediaProblem = 'denied' | 'missing' | 'in_use' | 'insecure' | 'unsupported' | 'unknown';

export interface BanNotice {
  reason: string;
  until: number | null;
  appeal: string;
}
