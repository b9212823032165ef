import type { IceServer, ServerMessage } from '@duet/protocol';
import type { Logger } from 'pino';
import type { Call } from '../calls/call.js';
import type { Calls } from '../calls/calls.js';
import { SINGLE_NODE, type ClusterPort } from '../cluster/messages.js';
import type { WaitingPool } from '../matchmaking/pool.js';
import type { MatchPolicy } from '../matchmaking/rules.js';
import type { Clock } from '../util/clock.js';
import type { SafetyPort } from './participant.js';

export interface LobbyOptions {
  /** The waiting pool: in-process, or shared in Redis; async either way (see matchmaking/pool.ts). */
  matchmaker: WaitingPool;
  /** The calls this node runs; created from the options below when not given. */
  calls?: Calls;
  cluster?: ClusterPort;
  clock: Clock;
  log: Logger;
  safety: SafetyPort;
  /** Delivers a message to a connected person; the lobby never touches sockets. */
  send: (userId: string, message: ServerMessage) => void;
  /** One message to many people (serialised once, sent without blocking signaling). */
  broadcast?: (userIds: string[], message: ServerMessage) => void;
  iceServersFor: (userId: string, callId: string) => IceServer[];
  /** Whether a relay exists (IP privacy needs one), and whether the operator made every call relay-only. */
  relay?: { available: boolean; relayOnly: boolean };
  connectTimeoutMs: number;
  /** A connected call whose media or signaling drops survives this long (ICE restart, reconnect). */
  reconnectGraceMs?: number;
  /** Hold people with unreviewed reports against them to a pool of their own (operator setting). */
  holdReported?: boolean;
  /** Only people who passed the liveness check may queue (operator setting). */
  verifiedOnly?: boolean;
  /** Remove links and contact details from chat (operator setting, on by default). */
  filterChat?: (text: string) => string;
  /** The matching rules' timings and exclusions (the pool applies them; the lobby widens on time). */
  policy: MatchPolicy;
  /** Modes people may choose; the first is the default. */
  modes?: readonly string[];
  /** Counts shown to people; across a cluster, its totals. */
  presence?: () => { online: number; waiting: number };
  /** Presence is pushed at most this often. */
  presenceIntervalMs?: number;
}

/** The defaults of every option that has one, but those that need the lobby itself. */
export const LOBBY_DEFAULTS = {
  presenceIntervalMs: 1000,
  reconnectGraceMs: 15_000,
  holdReported: false,
  verifiedOnly: false,
  filterChat: (text: string) => text,
  modes: ['chat'],
  relay: { available: false, relayOnly: false },
  cluster: SINGLE_NODE,
} satisfies Partial<LobbyOptions>;

export interface LobbyEvents {
  /** Someone entered the queue (not emitted for a repeated join while already waiting). */
  'queue:joined': [userId: string];
}

export const REPORTS_LIMITED =
  'You have sent many reports in a short time. This person is blocked; our team is reviewing your earlier reports.';

/** The call's chat as the server relayed it, as evidence for a report by `reporterId`. */
export function transcriptFor(call: Call, reporterId: string) {
  return call.transcript.map((l) => ({
    from: l.from === reporterId ? ('reporter' as const) : ('reported' as const),
    text: l.text,
    at: l.at,
  }));
}
