import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import {
  REQUEUE_PARTNER_REASONS,
  type ClientMessageOf,
  type EndReason,
  type IceServer,
  type ReportReason,
  type ServerMessage,
} from '@duet/protocol';
import type { Logger } from 'pino';
import { Call } from '../calls/call.js';
import { DuetError } from '../errors.js';
import type { WaitingPool } from '../matchmaking/pool.js';
import type { MatchPolicy, Ticket } from '../matchmaking/rules.js';
import type { Clock } from '../util/clock.js';

export type PresenceStatus = 'idle' | 'waiting' | 'in_call';

interface Participant {
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

export const DEFAULT_CRITERIA: MatchCriteria = Object.freeze({ interests: [], language: 'en', region: undefined, mode: 'chat', privacy: false, verifiedOnly: false });

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

/** What one node tells another about a call with a side on each (see cluster/cluster.ts). */
export type ClusterEvent =
  | {
      t: 'matched';
      callId: string;
      /** The person on the receiving node. */
      to: string;
      a: string;
      b: string;
      nodes: { a: string; b: string };
      matchedAt: number;
      waitMs: { a: number; b: number };
      relayOnly: boolean;
      verified?: { a: boolean; b: boolean };
    }
  | { t: 'deliver'; to: string; message: ServerMessage }
  | { t: 'peer'; callId: string; from: string; state: 'connected' | 'down' }
  | { t: 'ended'; callId: string; reason: EndReason; endedBy: string | null }
  /** A heartbeat from the mirror side, for the meter on the call's primary node. */
  | { t: 'heartbeat'; callId: string; from: string; seq: number; bytesReceived: number }
  /** A person was banned on another node: wherever they are connected, they go. */
  | { t: 'banned'; userId: string; ban: { reason: string; until: number | null; appeal: string } };

/** How the lobby reaches other nodes; absent on a single node. */
export interface ClusterPort {
  readonly nodeId: string;
  send(nodeId: string, event: ClusterEvent): void;
}

export interface LobbyOptions {
  /** The waiting pool: in-process, or shared in Redis; async either way (see matchmaking/pool.ts). */
  matchmaker: WaitingPool;
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
  /** A heartbeat another node forwarded for a call this node meters. */
  onRemoteHeartbeat?: (userId: string, m: ClientMessageOf<'heartbeat'>) => void;
  /** Another node banned someone who may be connected here. */
  onRemoteBan?: (userId: string, ban: { reason: string; until: number | null; appeal: string }) => void;
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

/** What the lobby learns about a person when their signaling connection comes up. */
export interface ConnectInfo {
  rulesAccepted: boolean;
  blockedWith: Set<string>;
  held?: boolean;
  verifiedUntil?: number | null;
}

/** A connected call a previous process left open (see Lobby.restore). */
export interface RestoredCall {
  id: string;
  a: string;
  b: string;
  matchedAt: number;
  connectingAt: number | null;
  connectedAt: number;
  waitMs: { a: number; b: number };
  reconnects: number;
  reconnectingMs: number;
  relayOnly: boolean;
}

/** Monitoring stream: telemetry and call records listen here, never on the signaling path. */
export interface LobbyEvents {
  'call:matched': [call: Call];
  'call:connecting': [call: Call];
  'call:connected': [call: Call];
  'call:ended': [call: Call];
  /** Someone entered the queue (not emitted for a repeated join while already waiting). */
  'queue:joined': [userId: string];
}

/**
 * Who is here and what each person is doing: idle, waiting, or in exactly one call. Turns
 * people's intents (join, next, leave, block, ...) into queue and call changes. Single-threaded
 * by construction: every method runs to completion, so a person can never be in two calls.
 */
export class Lobby {
  readonly observer = new EventEmitter<LobbyEvents>();
  readonly #participants = new Map<string, Participant>();
  readonly #calls = new Map<string, Call>();
  readonly #connectTimers = new Map<string, () => void>();
  readonly #o: Required<LobbyOptions>;
  #presenceDirty = false;
  #cancelPresence: (() => void) | undefined;
  #closed = false;

  constructor(options: LobbyOptions) {
    this.#o = {
      presenceIntervalMs: 1000,
      reconnectGraceMs: 15_000,
      holdReported: false,
      verifiedOnly: false,
      onRemoteHeartbeat: () => undefined,
      onRemoteBan: () => undefined,
      filterChat: (text: string) => text,
      modes: ['chat'],
      relay: { available: false, relayOnly: false },
      cluster: { nodeId: 'local', send: () => undefined },
      presence: () => ({ online: this.online, waiting: this.waiting }),
      broadcast: (userIds: string[], message: ServerMessage) => userIds.forEach((u) => options.send(u, message)),
      ...options,
    };
    this.#node = this.#o.cluster.nodeId;
  }

  readonly #node: string;

  /** People waiting on this node (their pool entries' leases are this node's to renew). */
  waitingHere(): string[] {
    return [...this.#participants.values()].filter((p) => p.status === 'waiting').map((p) => p.userId);
  }

  /** Calls whose other side is on another node, for that node's liveness checks. */
  remoteCalls(): Array<{ callId: string; node: string; partner: string }> {
    const out: Array<{ callId: string; node: string; partner: string }> = [];
    for (const call of this.#calls.values()) {
      for (const side of ['a', 'b'] as const) {
        if (call.nodes[side] !== this.#node) out.push({ callId: call.id, node: call.nodes[side], partner: call[side] });
      }
    }
    return out;
  }

  get online(): number {
    return this.#participants.size;
  }
  get waiting(): number {
    return this.#o.matchmaker.size;
  }
  get activeCalls(): number {
    return this.#calls.size;
  }

  isOnline(userId: string): boolean {
    return this.#participants.has(userId);
  }

  statusOf(userId: string): PresenceStatus | undefined {
    return this.#participants.get(userId)?.status;
  }

  callOf(userId: string): Call | undefined {
    return this.#participants.get(userId)?.call;
  }

  /**
   * A person's signaling connection is up. Returns the call it resumed, when the person's previous
   * connection dropped during a call less than the grace window ago.
   */
  connect(userId: string, info: ConnectInfo): { resumedCallId?: string } {
    if (this.#closed) throw new DuetError('internal', 'The server is shutting down.');
    const existing = this.#participants.get(userId);
    if (existing?.detached && existing.call) {
      existing.detached.cancel();
      existing.detached = undefined;
      existing.rulesAccepted = info.rulesAccepted;
      if (info.held !== undefined) existing.held = info.held;
      if (info.verifiedUntil !== undefined) existing.verifiedUntil = info.verifiedUntil;
      for (const id of info.blockedWith) existing.blockedWith.add(id);
      existing.log.info({ callId: existing.call.id }, 'resumed');
      return { resumedCallId: existing.call.id };
    }
    if (existing) throw new Error(`user ${userId} is already connected`);
    this.#participants.set(userId, this.#participant(userId, info));
    this.#presenceChanged();
    return {};
  }

  /**
   * Calls a previous process left open when it died, put back as they were: both people are away,
   * each has the reconnect grace window to come back, and a call both return to continues (the
   * same call: its metering goes on from where it was). Returns the calls restored.
   */
  restore(calls: readonly RestoredCall[]): Call[] {
    const now = this.#o.clock.now();
    const graceMs = this.#o.reconnectGraceMs;
    const restored: Call[] = [];
    for (const r of calls) {
      if (this.#participants.has(r.a) || this.#participants.has(r.b) || this.#calls.has(r.id)) {
        this.#o.log.warn({ callId: r.id }, 'not restoring a call whose people are already in another');
        continue;
      }
      const call = new Call(r.id, r.a, r.b, r.matchedAt, r.waitMs);
      call.relayOnly = r.relayOnly;
      call.reconnects = r.reconnects;
      call.reconnectingMs = r.reconnectingMs;
      call.transition('connecting', r.connectingAt ?? r.connectedAt);
      call.transition('connected', r.connectedAt);
      call.transition('reconnecting', now);
      this.#calls.set(call.id, call);
      for (const userId of [r.a, r.b]) {
        const p = this.#participant(userId, { rulesAccepted: true, blockedWith: new Set() });
        p.status = 'in_call';
        p.call = call;
        p.detached = { reason: 'connection_lost', cancel: this.#o.clock.after(graceMs, () => this.#drop(p)) };
        this.#participants.set(userId, p);
      }
      this.#connectTimers.set(
        call.id,
        this.#o.clock.after(graceMs, () => {
          if (call.state === 'reconnecting') this.#end(call, 'connection_lost', null);
        }),
      );
      this.#o.log.info({ callId: call.id, graceMs }, 'call restored after a restart; waiting for its people');
      restored.push(call);
    }
    return restored;
  }

  #participant(userId: string, info: ConnectInfo): Participant {
    const now = this.#o.clock.now();
    return {
      userId,
      status: 'idle',
      call: undefined,
      criteria: { ...DEFAULT_CRITERIA, mode: this.#o.modes[0] ?? 'chat' },
      rulesAccepted: info.rulesAccepted,
      blockedWith: info.blockedWith,
      recent: [],
      cancelWidening: undefined,
      waitingSince: now,
      detached: undefined,
      held: info.held ?? false,
      verifiedUntil: info.verifiedUntil ?? null,
      log: this.#o.log.child({ userId }),
    };
  }

  /** The person's connection is gone: their call ends with `reason` and they leave the queue. */
  disconnect(userId: string, reason: Extract<EndReason, 'connection_lost' | 'heartbeat_timeout'>): void {
    const p = this.#participants.get(userId);
    if (!p || p.detached) return;
    const call = p.call;
    if (call && (call.state === 'connected' || call.state === 'reconnecting')) {
      // Media may still be flowing peer to peer: give the person the grace window to come back.
      p.detached = { reason, cancel: this.#o.clock.after(this.#o.reconnectGraceMs, () => this.#drop(p)) };
      p.log.info({ callId: call.id, reason }, 'signaling lost during a call; holding it');
      this.#peerDown(call, userId);
      return;
    }
    this.#drop(p, reason);
  }

  #drop(p: Participant, reason = p.detached?.reason ?? 'connection_lost'): void {
    const userId = p.userId;
    if (this.#participants.get(userId) !== p) return;
    p.detached = undefined;
    this.#participants.delete(userId);
    this.#dequeue(p);
    if (p.call) this.#end(p.call, reason, userId);
    this.#presenceChanged();
  }

  /** Fresh ICE servers (new TURN credentials) for an ICE restart. */
  iceRefresh(userId: string, callId: string): void {
    const call = this.#currentCall(userId, callId);
    this.#o.send(userId, { type: 'ice_servers', callId: call.id, iceServers: this.#o.iceServersFor(userId, call.id) });
  }

  rulesAccepted(userId: string): void {
    const p = this.#participants.get(userId);
    if (p) p.rulesAccepted = true;
  }

  join(userId: string, criteria: Partial<MatchCriteria> = {}): void {
    const p = this.#get(userId);
    if (!p.rulesAccepted) throw new DuetError('rules_not_accepted');
    if (p.status === 'in_call') throw new DuetError('out_of_turn', 'You are in a call; use next to move on.');
    const mode = criteria.mode ?? p.criteria.mode;
    if (!this.#o.modes.includes(mode)) throw new DuetError('invalid_message', `Unknown mode "${mode}". This server offers: ${this.#o.modes.join(', ')}.`);
    const privacy = criteria.privacy ?? false;
    if (privacy && !this.#o.relay.available) throw new DuetError('relay_unavailable');
    if (this.#o.verifiedOnly && !this.#verified(p)) throw new DuetError('verification_required');
    p.criteria = {
      interests: criteria.interests ?? [],
      language: criteria.language ?? p.criteria.language,
      region: criteria.region,
      mode,
      privacy,
      verifiedOnly: criteria.verifiedOnly ?? false,
    };
    this.#enqueue(p);
    this.#tryMatch(p);
  }

  /** Skip: end the current call and look for someone new; from idle it is the same as join. */
  next(userId: string): void {
    const p = this.#get(userId);
    if (p.call) {
      this.#end(p.call, 'next', userId);
      return;
    }
    if (p.status === 'idle') this.join(userId, p.criteria);
    else this.#o.send(userId, { type: 'queued', waiting: this.waiting, estimatedWaitMs: this.#estimateWait(p) });
  }

  /** Stop: end the call or leave the queue, and stay idle. */
  leave(userId: string): void {
    const p = this.#get(userId);
    if (p.call) {
      this.#end(p.call, 'leave', userId);
      return;
    }
    if (p.status === 'waiting') {
      this.#dequeue(p);
      p.status = 'idle';
      p.log.info('left the queue');
      this.#presenceChanged();
    }
    this.#o.send(userId, { type: 'idle' });
  }

  signal(userId: string, m: ClientMessageOf<'signal'>): void {
    const call = this.#currentCall(userId, m.callId);
    if (call.state === 'matched') {
      call.transition('connecting', this.#o.clock.now());
      this.observer.emit('call:connecting', call);
    }
    const relay: ServerMessage = { type: 'signal', callId: call.id };
    if (m.description !== undefined) relay.description = call.relayOnly && m.description.sdp !== undefined ? { ...m.description, sdp: relayOnlySdp(m.description.sdp) } : m.description;
    if (m.candidate !== undefined) {
      // Defence in depth for IP privacy: even a modified client cannot leak an address to the partner.
      if (call.relayOnly && m.candidate !== null && !isRelayCandidate(m.candidate.candidate)) return;
      relay.candidate = m.candidate;
    }
    this.#toPartner(call, userId, relay);
  }

  peerState(userId: string, callId: string, state: ClientMessageOf<'peer_state'>['state']): void {
    const call = this.#currentCall(userId, callId);
    const established = call.state === 'connected' || call.state === 'reconnecting';
    if (state === 'failed' && !established) {
      this.#end(call, 'ice_failed', null);
      return;
    }
    const partnerNode = call.nodeOf(call.partnerOf(userId));
    const down = state !== 'connected';
    if (down && !established) return; // still setting up: the connect timeout decides
    if (partnerNode !== this.#node) this.#o.cluster.send(partnerNode, { t: 'peer', callId, from: userId, state: down ? 'down' : 'connected' });
    if (down) this.#peerDown(call, userId);
    else this.#peerConnected(call, userId);
  }

  #peerConnected(call: Call, userId: string): void {
    if (call.isOver || !call.peerConnected(userId) || call.state === 'connected') return;
    // Back only when both browsers are up and nobody's signaling is still gone.
    if (call.state === 'reconnecting' && [call.a, call.b].some((u) => this.#participants.get(u)?.detached)) return;
    const now = this.#o.clock.now();
    const recovering = call.state === 'reconnecting';
    if (call.state === 'matched') call.transition('connecting', now);
    call.transition('connected', now);
    this.#connectTimers.get(call.id)?.();
    this.#connectTimers.delete(call.id);
    this.#o.log.info({ callId: call.id, ms: now - (recovering ? call.at.reconnecting! : call.at.matched) }, recovering ? 'call recovered' : 'call connected');
    for (const u of [call.a, call.b]) if (call.nodeOf(u) === this.#node) this.#o.send(u, { type: 'call_connected', callId: call.id });
    if (!recovering) this.observer.emit('call:connected', call);
  }

  /** One side's media or signaling went down: the call waits the grace window for it. */
  #peerDown(call: Call, userId: string): void {
    call.peerDown(userId);
    if (call.isOver || call.state === 'reconnecting') return;
    if (call.state !== 'connected') return;
    call.transition('reconnecting', this.#o.clock.now());
    const graceMs = this.#o.reconnectGraceMs;
    for (const u of [call.a, call.b]) if (call.nodeOf(u) === this.#node) this.#o.send(u, { type: 'call_reconnecting', callId: call.id, graceMs });
    this.#connectTimers.set(
      call.id,
      this.#o.clock.after(graceMs, () => {
        if (call.state === 'reconnecting') this.#end(call, 'connection_lost', userId);
      }),
    );
  }

  chat(userId: string, callId: string, text: string): void {
    const call = this.#currentCall(userId, callId);
    const now = this.#o.clock.now();
    const shown = this.#o.filterChat(text);
    if (shown.length === 0) return;
    // The transcript lives only as long as the call, unless someone reports it.
    if (call.transcript.length < 500) call.transcript.push({ from: userId, text: shown, at: now });
    this.#toPartner(call, userId, { type: 'chat', callId, from: 'partner', text: shown, at: now });
    this.#o.send(userId, { type: 'chat', callId, from: 'you', text: shown, at: now });
  }

  block(userId: string, callId: string): void {
    const call = this.#currentCall(userId, callId);
    const partnerId = call.partnerOf(userId);
    this.#blockPair(userId, partnerId);
    this.#o.safety.block(userId, partnerId, call.id);
    this.#end(call, 'blocked', userId);
  }

  /**
   * Report ends the call and blocks, so the reporter never meets that person again. `file` is false
   * when the person's report limit is spent (the hub decides: limits are kept per person, not here).
   */
  report(userId: string, m: ClientMessageOf<'report'>, file = true): void {
    const call = this.#currentCall(userId, m.callId);
    const partnerId = call.partnerOf(userId);
    this.#blockPair(userId, partnerId);
    if (file) {
      const id = randomUUID();
      const transcript = call.transcript.map((l) => ({ from: l.from === userId ? ('reporter' as const) : ('reported' as const), text: l.text, at: l.at }));
      this.#o.safety.report({ id, callId: call.id, reporterId: userId, reportedId: partnerId, reason: m.reason, comment: m.comment, transcript });
      this.#o.send(userId, { type: 'report_filed', reportId: id, callId: call.id });
      const reported = this.#participants.get(partnerId);
      if (reported && this.#o.holdReported) reported.held = true;
    } else {
      // Too many reports: still end and block, but do not flood the moderators' queue.
      this.#o.send(userId, { type: 'error', code: 'rate_limited', message: 'You have sent many reports in a short time. This person is blocked; our team is reviewing your earlier reports.', ref: 'report' });
    }
    this.#o.safety.block(userId, partnerId, call.id);
    this.#end(call, 'reported', userId);
  }

  /** The meter ends a call: out of credit, or past the length cap. */
  meterEnd(callId: string, reason: Extract<EndReason, 'insufficient_credits' | 'connection_lost'>, endedBy: string | null): void {
    const call = this.#calls.get(callId);
    if (call) this.#end(call, reason, endedBy);
  }

  /** A moderator ends a live call: both people are told at once (reason `moderator`). */
  moderatorEnd(callId: string): boolean {
    const call = this.#calls.get(callId);
    if (!call) return false;
    this.#end(call, 'moderator', null);
    return true;
  }

  /** A banned person leaves at once: their call ends (`banned`; the partner is requeued) and they go. */
  removeBanned(userId: string): void {
    const p = this.#participants.get(userId);
    if (!p) return;
    if (p.call) this.#end(p.call, 'banned', userId);
    this.#drop(p);
  }

  /** Live calls on this node, for the moderation console. */
  liveCalls(): Call[] {
    return [...this.#calls.values()];
  }

  /**
   * The person passed the liveness check (or a moderator revoked it): matching and partners see it
   * from their next join on.
   */
  setVerified(userId: string, verifiedUntil: number | null): void {
    const p = this.#participants.get(userId);
    if (!p) return;
    p.verifiedUntil = verifiedUntil;
    if (p.status === 'waiting') this.#enqueue(p); // the pool entry carries the new status
  }

  #verified(p: Participant): boolean {
    return p.verifiedUntil !== null && p.verifiedUntil > this.#o.clock.now();
  }

  /** Reports against this person were reviewed: they go back to the common pool. */
  clearHeld(userId: string): void {
    const p = this.#participants.get(userId);
    if (p) p.held = false;
  }

  /** Applies what another node says about a call with a side here. */
  handleCluster(e: ClusterEvent): void {
    switch (e.t) {
      case 'deliver':
        return this.#o.send(e.to, e.message);
      case 'peer': {
        const call = this.#calls.get(e.callId);
        if (!call?.has(e.from)) return;
        if (e.state === 'down') this.#peerDown(call, e.from);
        else this.#peerConnected(call, e.from);
        return;
      }
      case 'ended': {
        const call = this.#calls.get(e.callId);
        if (!call) return;
        if ((e.reason === 'blocked' || e.reason === 'reported') && e.endedBy !== null) {
          this.#blockPair(e.endedBy, call.partnerOf(e.endedBy));
        }
        return this.#end(call, e.reason, e.endedBy, true);
      }
      case 'matched':
        return this.#mirrorCall(e);
      case 'heartbeat':
        return this.#o.onRemoteHeartbeat(e.from, { type: 'heartbeat', callId: e.callId, seq: e.seq, bytesReceived: e.bytesReceived });
      case 'banned':
        this.removeBanned(e.userId);
        return this.#o.onRemoteBan(e.userId, e.ban);
    }
  }

  /**
   * A heartbeat for a call metered on another node (this node only mirrors it) goes there; true
   * when it was forwarded, false when the meter here should take it.
   */
  forwardHeartbeat(userId: string, m: ClientMessageOf<'heartbeat'>): boolean {
    const call = this.#currentCall(userId, m.callId);
    if (call.primary) return false;
    this.#o.cluster.send(call.nodeOf(call.partnerOf(userId)), { t: 'heartbeat', callId: call.id, from: userId, seq: m.seq, bytesReceived: m.bytesReceived });
    return true;
  }

  /** Delivers to a person in a call wherever they are connected (the meter's messages). */
  sendInCall(callId: string, userId: string, message: ServerMessage): void {
    const call = this.#calls.get(callId);
    if (call?.has(userId) && call.nodeOf(userId) !== this.#node) this.#o.cluster.send(call.nodeOf(userId), { t: 'deliver', to: userId, message });
    else this.#o.send(userId, message);
  }

  /** Ends every call with `server_shutdown` and accepts nobody new. */
  shutdown(): void {
    this.#closed = true;
    for (const call of [...this.#calls.values()]) this.#end(call, 'server_shutdown', null);
    for (const p of this.#participants.values()) {
      if (p.status !== 'waiting') continue;
      this.#dequeue(p);
      p.status = 'idle';
      this.#o.send(p.userId, { type: 'idle' });
    }
    this.#cancelPresence?.();
  }

  // ---- internals ---------------------------------------------------------------------------

  #get(userId: string): Participant {
    const p = this.#participants.get(userId);
    if (!p) throw new DuetError('not_authenticated');
    return p;
  }

  #currentCall(userId: string, callId: string): Call {
    const call = this.#get(userId).call;
    if (!call || call.id !== callId) throw new DuetError('not_in_call');
    return call;
  }

  #blockPair(x: string, y: string): void {
    this.#participants.get(x)?.blockedWith.add(y);
    this.#participants.get(y)?.blockedWith.add(x);
  }

  #ticket(p: Participant, joinedAt: number): Ticket {
    const { interests, language, region, mode } = p.criteria;
    return {
      userId: p.userId,
      mode,
      language,
      region,
      interests,
      joinedAt,
      blocked: p.blockedWith,
      recent: p.recent,
      node: this.#node,
      ...(p.held ? { held: true } : {}),
      ...(this.#verified(p) ? { verified: true } : {}),
      ...(p.criteria.verifiedOnly ? { verifiedOnly: true } : {}),
    };
  }

  #enqueue(p: Participant): void {
    const wasWaiting = p.status === 'waiting';
    const now = this.#o.clock.now();
    if (!wasWaiting) p.waitingSince = now;
    p.status = 'waiting';
    // A repeated join keeps the person's place and wait (the pool keeps the first joinedAt too).
    this.#settle(this.#o.matchmaker.enqueue(this.#ticket(p, p.waitingSince)), 'enqueue');
    if (!wasWaiting) {
      p.log.info({ mode: p.criteria.mode, interests: p.criteria.interests.length }, 'waiting');
      this.observer.emit('queue:joined', p.userId);
    }
    this.#scheduleWidening(p);
    this.#o.send(p.userId, { type: 'queued', waiting: this.waiting, estimatedWaitMs: this.#estimateWait(p) });
    this.#presenceChanged();
  }

  #dequeue(p: Participant): void {
    this.#settle(this.#o.matchmaker.remove(p.userId), 'remove');
    p.cancelWidening?.();
    p.cancelWidening = undefined;
  }

  /**
   * Matching widens with the wait: interests become a preference, then region is dropped, then (in
   * a tiny pool) recent partners are allowed again. At each step the person is told, and matched
   * again against everyone waiting.
   */
  #scheduleWidening(p: Participant): void {
    p.cancelWidening?.();
    const { policy, clock } = this.#o;
    const steps: Array<[number, () => void]> = [
      [policy.interestsRequiredMs, () => p.criteria.interests.length > 0 && this.#o.send(p.userId, { type: 'widened', stage: 'interests', interests: [...p.criteria.interests] })],
      [policy.regionRequiredMs, () => p.criteria.region !== undefined && this.#o.send(p.userId, { type: 'widened', stage: 'region' })],
      [policy.relaxRecentAfterMs, () => undefined],
    ];
    const waited = clock.now() - p.waitingSince;
    const cancels = steps
      .filter(([at]) => at > waited)
      .map(([at, announce]) =>
        clock.after(at - waited, () => {
          if (p.status !== 'waiting' || this.#participants.get(p.userId) !== p) return;
          announce();
          this.#tryMatch(p);
        }),
      );
    p.cancelWidening = () => cancels.forEach((c) => c());
  }

  #tryMatch(p: Participant): void {
    if (this.#closed || p.status !== 'waiting') return;
    this.#o.matchmaker.matchFor(p.userId, this.#o.clock.now()).then(
      (claimed) => {
        if (claimed === 'retry') {
          // Other nodes won the race for everyone we tried: look again shortly, not at the next widening step.
          this.#o.clock.after(100 + Math.floor(Math.random() * 400), () => this.#tryMatch(p));
        } else if (claimed) {
          this.#claimed(claimed);
        }
      },
      (err: unknown) => {
        if (!this.#closed) this.#o.log.error({ err, userId: p.userId }, 'matching failed');
      },
    ).catch((err: unknown) => this.#o.log.error({ err, userId: p.userId }, 'starting a matched call failed'));
  }

  /**
   * The pool answered after a wait (a microtask in process, a round trip in Redis): someone here
   * may have left meanwhile. The claim already took both out of the pool, so whoever is still
   * waiting goes straight back in.
   */
  #claimed([a, b]: [Ticket, Ticket]): void {
    // Still waiting, and on the same wait the claim was made from (not a later join).
    const stillHere = (t: Ticket) => {
      if (t.node !== this.#node) return true;
      const p = this.#participants.get(t.userId);
      return p?.status === 'waiting' && p.waitingSince === t.joinedAt;
    };
    if (!this.#closed && stillHere(a) && stillHere(b)) return this.#startCall(a, b);
    for (const t of [a, b]) {
      if (!stillHere(t)) continue;
      this.#settle(this.#o.matchmaker.enqueue(t), 'requeue after a lost partner');
      const p = t.node === this.#node ? this.#participants.get(t.userId) : undefined;
      if (p) this.#tryMatch(p);
    }
  }

  #settle(result: Promise<unknown>, what: string): void {
    result.catch((err: unknown) => this.#o.log.error({ err }, `pool ${what} failed`));
  }

  /**
   * An honest estimate: the median wait of matches in the last ten minutes, when there were at
   * least three; null (unknown) otherwise, or when others are waiting in the person's pool (then
   * the rules, not the crowd, decide how long it takes).
   */
  #estimateWait(p: Participant): number | null {
    if (this.#o.matchmaker.poolSize(p.criteria.mode, p.criteria.language) > 1) return null;
    const since = this.#o.clock.now() - 10 * 60_000;
    const waits = this.#recentWaits.filter((w) => w.at >= since).map((w) => w.ms);
    if (waits.length < 3) return null;
    const sorted = waits.sort((x, y) => x - y);
    return Math.round(sorted[Math.floor(sorted.length / 2)]!);
  }

  /** Waits of the last 100 people matched, for estimates. */
  readonly #recentWaits: Array<{ at: number; ms: number }> = [];

  #startCall(a: Ticket, b: Ticket): void {
    const now = this.#o.clock.now();
    const call = new Call(randomUUID(), a.userId, b.userId, now, { a: now - a.joinedAt, b: now - b.joinedAt });
    call.nodes = { a: a.node ?? this.#node, b: b.node ?? this.#node };
    call.verified = { a: a.verified ?? false, b: b.verified ?? false };
    const local = [a, b].map((t) => this.#participants.get(t.userId)).filter((p): p is Participant => p !== undefined && call.nodeOf(p.userId) === this.#node);
    call.relayOnly = this.#o.relay.relayOnly || local.some((p) => p.criteria.privacy);
    this.#recentWaits.push({ at: now, ms: now - a.joinedAt }, { at: now, ms: now - b.joinedAt });
    if (this.#recentWaits.length > 100) this.#recentWaits.splice(0, this.#recentWaits.length - 100);
    this.#calls.set(call.id, call);
    this.#armConnectTimer(call);
    for (const p of local) this.#enterCall(p, call);
    for (const side of ['a', 'b'] as const) {
      const node = call.nodes[side];
      if (node === this.#node) continue;
      this.#o.cluster.send(node, { t: 'matched', callId: call.id, to: call[side], a: call.a, b: call.b, nodes: call.nodes, matchedAt: now, waitMs: call.waitMs, relayOnly: call.relayOnly, verified: call.verified });
    }
    this.observer.emit('call:matched', call);
    this.#presenceChanged();
  }

  /** Another node matched someone here: keep a mirror of the call and tell them. */
  #mirrorCall(e: Extract<ClusterEvent, { t: 'matched' }>): void {
    const p = this.#participants.get(e.to);
    const call = new Call(e.callId, e.a, e.b, e.matchedAt, e.waitMs);
    call.nodes = e.nodes;
    call.primary = false;
    call.verified = e.verified ?? { a: false, b: false };
    if (!p || p.status !== 'waiting' || this.#closed) {
      // They left (or dropped) while the other node was claiming them.
      const other = call.partnerOf(e.to);
      this.#o.cluster.send(call.nodeOf(other), { t: 'ended', callId: e.callId, reason: p ? 'leave' : 'connection_lost', endedBy: e.to });
      return;
    }
    call.relayOnly = e.relayOnly || this.#o.relay.relayOnly || p.criteria.privacy;
    this.#calls.set(call.id, call);
    this.#armConnectTimer(call);
    this.#enterCall(p, call);
    this.observer.emit('call:matched', call);
    this.#presenceChanged();
  }

  #armConnectTimer(call: Call): void {
    this.#connectTimers.set(
      call.id,
      this.#o.clock.after(this.#o.connectTimeoutMs, () => this.#end(call, 'ice_failed', null)),
    );
  }

  #enterCall(p: Participant, call: Call): void {
    p.status = 'in_call';
    p.call = call;
    p.cancelWidening?.();
    p.cancelWidening = undefined;
    const partnerId = call.partnerOf(p.userId);
    p.log.info({ callId: call.id, partnerId, waitedMs: call.waitMs[call.sideOf(p.userId)] }, 'matched');
    this.#o.send(p.userId, {
      type: 'matched',
      callId: call.id,
      role: p.userId === call.a ? 'offerer' : 'answerer',
      iceServers: this.#o.iceServersFor(p.userId, call.id),
      ...(call.relayOnly ? { iceTransportPolicy: 'relay' as const } : {}),
      connectTimeoutMs: this.#o.connectTimeoutMs,
      ...(call.verified[call.sideOf(partnerId)] ? { partnerVerified: true } : {}),
    });
  }

  /** Delivers to the other person of a call, on this node or another. */
  #toPartner(call: Call, userId: string, message: ServerMessage): void {
    const partner = call.partnerOf(userId);
    const node = call.nodeOf(partner);
    if (node === this.#node) this.#o.send(partner, message);
    else this.#o.cluster.send(node, { t: 'deliver', to: partner, message });
  }

  #end(call: Call, reason: EndReason, endedBy: string | null, fromRemote = false): void {
    const now = this.#o.clock.now();
    if (!call.end(reason, endedBy, now)) return;
    if (!fromRemote) {
      for (const side of ['a', 'b'] as const) {
        const node = call.nodes[side];
        if (node === this.#node) continue;
        // This node stopping is, for the person on another node, a partner whose connection went.
        const local = call[side === 'a' ? 'b' : 'a'];
        const shutdown = reason === 'server_shutdown';
        this.#o.cluster.send(node, { t: 'ended', callId: call.id, reason: shutdown ? 'connection_lost' : reason, endedBy: shutdown ? local : endedBy });
      }
    }
    this.#calls.delete(call.id);
    this.#connectTimers.get(call.id)?.();
    this.#connectTimers.delete(call.id);
    this.#o.log.info(
      { callId: call.id, reason, endedBy, connected: call.at.connected !== undefined, durationMs: now - call.at.matched },
      'call ended',
    );
    // The person who pressed Next is requeued before the partner they left, so they meet whoever
    // has been waiting longest; everyone else requeued goes in call order.
    const order = endedBy === call.b ? [call.b, call.a] : [call.a, call.b];
    for (const userId of order) {
      const p = this.#participants.get(userId);
      if (!p || p.call !== call) continue;
      p.call = undefined;
      if (p.detached) {
        // Their connection is gone and there is no call left to resume.
        p.detached.cancel();
        this.#drop(p);
        continue;
      }
      p.recent.push({ userId: call.partnerOf(userId), at: now });
      if (p.recent.length > this.#o.policy.recentCount) p.recent.splice(0, p.recent.length - this.#o.policy.recentCount);
      const own = userId === endedBy;
      const requeue = own ? reason === 'next' || reason === 'blocked' || reason === 'reported' : REQUEUE_PARTNER_REASONS.has(reason) && !this.#closed;
      const by = own ? 'you' : endedBy === null ? 'server' : 'partner';
      this.#o.send(userId, { type: 'call_ended', callId: call.id, reason, by, then: requeue ? 'waiting' : 'idle' });
      p.status = 'idle';
      if (requeue) this.#enqueue(p);
    }
    this.observer.emit('call:ended', call);
    this.#presenceChanged();
    for (const userId of order) {
      const p = this.#participants.get(userId);
      if (p) this.#tryMatch(p);
    }
  }

  #presenceChanged(): void {
    if (this.#presenceDirty || this.#closed) return;
    this.#presenceDirty = true;
    this.#cancelPresence = this.#o.clock.after(this.#o.presenceIntervalMs, () => {
      this.#presenceDirty = false;
      this.#cancelPresence = undefined;
      const counts = this.#o.presence();
      const message: ServerMessage = { type: 'presence', online: counts.online, waiting: counts.waiting, topInterests: this.#o.matchmaker.topInterests(5) };
      // Only people looking at the counts (idle or waiting); in a call they are not shown.
      const audience = [...this.#participants.values()].filter((p) => p.status !== 'in_call' && !p.detached).map((p) => p.userId);
      this.#o.broadcast(audience, message);
    });
  }
}

/**
 * Whether an ICE candidate is a relay candidate: the token after the first `typ` (RFC 8839:
 * foundation component transport priority address port `typ` type ...). End-of-candidates is harmless.
 */
export function isRelayCandidate(candidate: string): boolean {
  if (candidate === '') return true;
  const fields = candidate.trim().split(/\s+/);
  const typ = fields.indexOf('typ');
  return typ === 6 && fields[7] === 'relay';
}

/** The SDP with every non-relay candidate line removed (whatever its line endings). */
export function relayOnlySdp(sdp: string): string {
  return sdp
    .split(/\r?\n/)
    .filter((line) => !line.startsWith('a=candidate:') || isRelayCandidate(line.slice('a='.length)))
    .join('\r\n');
}
