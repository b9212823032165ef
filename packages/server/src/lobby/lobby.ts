import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { ClientMessageOf, EndReason, ServerMessage } from '@duet/protocol';
import type { Call } from '../calls/call.js';
import { Calls, type RestoredCall } from '../calls/calls.js';
import type { ClusterEventOf } from '../cluster/messages.js';
import { DuetError } from '../errors.js';
import type { Ticket } from '../matchmaking/rules.js';
import { newParticipant, type ConnectInfo, type MatchCriteria, type Participant, type PresenceStatus } from './participant.js';
import { LOBBY_DEFAULTS, REPORTS_LIMITED, transcriptFor, type LobbyEvents, type LobbyOptions } from './options.js';
import { PresencePush } from './presence.js';
import type { CountsPort, PeoplePort, StandingPort } from './ports.js';
import { afterCall, namedCall, requeueOrder } from './moves.js';
import { Queue } from './queue.js';

export type { LobbyEvents, LobbyOptions } from './options.js';
export type { CountsPort, PeoplePort, StandingPort } from './ports.js';
export { DEFAULT_CRITERIA, type ConnectInfo, type MatchCriteria, type PresenceStatus, type SafetyPort } from './participant.js';

/**
 * Who is here and what each person is doing: idle, waiting, or in exactly one call. Turns
 * people's intents (join, next, leave, block, ...) into queue and call changes; the calls
 * themselves (their moves, timers and cross-node messages) belong to `Calls`. Single-threaded by
 * construction: every method runs to completion, so a person can never be in two calls.
 */
export class Lobby implements PeoplePort, CountsPort, StandingPort {
  readonly observer = new EventEmitter<LobbyEvents>();
  readonly calls: Calls;
  readonly #participants = new Map<string, Participant>();
  readonly #o: Required<Omit<LobbyOptions, 'calls'>>;
  readonly #node: string;
  readonly #presence: PresencePush;
  readonly #queue: Queue;
  #closed = false;

  constructor(options: LobbyOptions) {
    this.#o = {
      ...LOBBY_DEFAULTS,
      presence: () => ({ online: this.online, waiting: this.waiting }),
      broadcast: (userIds: string[], message: ServerMessage) => userIds.forEach((u) => options.send(u, message)),
      ...options,
    };
    this.#node = this.#o.cluster.nodeId;
    const { clock, log, cluster, send, iceServersFor, connectTimeoutMs, reconnectGraceMs } = this.#o;
    this.calls = options.calls ?? new Calls({ clock, log, cluster, send, iceServersFor, connectTimeoutMs, reconnectGraceMs });
    this.calls.own({
      released: (call, now) => this.#release(call, now),
      afterEnd: (call) => {
        this.#presence.changed();
        for (const userId of requeueOrder(call)) {
          const p = this.#participants.get(userId);
          if (p) this.#queue.tryMatch(p);
        }
      },
      isAway: (userId) => this.#participants.get(userId)?.detached !== undefined,
    });
    this.#queue = new Queue({
      pool: this.#o.matchmaker,
      policy: this.#o.policy,
      clock,
      log,
      node: this.#node,
      send,
      person: (userId) => this.#participants.get(userId),
      verified: (p) => this.#verified(p),
      joined: (userId) => this.observer.emit('queue:joined', userId),
      paired: (a, b) => this.#startCall(a, b),
      changed: () => this.#presence.changed(),
    });
    this.#presence = new PresencePush({
      clock,
      intervalMs: this.#o.presenceIntervalMs,
      counts: () => this.#o.presence(),
      topInterests: () => this.#o.matchmaker.topInterests(5),
      // Only people looking at the counts (idle or waiting); in a call they are not shown.
      audience: () => [...this.#participants.values()].filter((p) => p.status !== 'in_call' && !p.detached).map((p) => p.userId),
      broadcast: this.#o.broadcast,
    });
  }

  /** People waiting on this node (their pool entries' leases are this node's to renew). */
  waitingHere(): string[] {
    return [...this.#participants.values()].filter((p) => p.status === 'waiting').map((p) => p.userId);
  }

  /** Waiting people whose pool entries a dead node claimed: see `Queue.reenter`. */
  orphaned(userIds: readonly string[]): void {
    this.#queue.reenter(userIds.flatMap((id) => this.#participants.get(id) ?? []));
  }

  /** The shared pool went away, or is back and may have lost this node's entries: see `Queue.poolAvailable`. */
  poolAvailable(up: boolean): void {
    this.#queue.poolAvailable(up, this.#participants.values());
  }

  get online(): number {
    return this.#participants.size;
  }
  get waiting(): number {
    return this.#queue.size;
  }
  get activeCalls(): number {
    return this.calls.size;
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
    this.#presence.changed();
    return {};
  }

  /**
   * Calls a previous process left open when it died, put back as they were: both people are away,
   * each has the reconnect grace window to come back, and a call both return to continues (the
   * same call: its metering goes on from where it was). Returns the calls restored.
   */
  restore(calls: readonly RestoredCall[]): Call[] {
    const restored: Call[] = [];
    for (const r of calls) {
      if (this.#participants.has(r.a) || this.#participants.has(r.b) || this.calls.get(r.id)) {
        this.#o.log.warn({ callId: r.id }, 'not restoring a call whose people are already in another');
        continue;
      }
      const call = this.calls.restore(r);
      for (const userId of [r.a, r.b]) {
        const p = this.#participant(userId, { rulesAccepted: true, blockedWith: new Set() });
        p.status = 'in_call';
        p.call = call;
        p.detached = { reason: 'connection_lost', cancel: this.#o.clock.after(this.#o.reconnectGraceMs, () => this.#drop(p)) };
        this.#participants.set(userId, p);
      }
      restored.push(call);
    }
    return restored;
  }

  #participant(userId: string, info: ConnectInfo): Participant {
    return newParticipant(userId, info, this.#o.modes[0] ?? 'chat', this.#o.clock.now(), this.#o.log);
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
      this.calls.peerDown(call, userId);
      return;
    }
    this.#drop(p, reason);
  }

  #drop(p: Participant, reason = p.detached?.reason ?? 'connection_lost'): void {
    const userId = p.userId;
    if (this.#participants.get(userId) !== p) return;
    p.detached = undefined;
    this.#participants.delete(userId);
    this.#queue.dequeue(p);
    if (p.call) this.calls.end(p.call, reason, userId);
    this.#presence.changed();
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
    if (!this.#o.modes.includes(mode))
      throw new DuetError('invalid_message', `Unknown mode "${mode}". This server offers: ${this.#o.modes.join(', ')}.`);
    const privacy = criteria.privacy ?? false;
    if (privacy && !this.#o.relay.available) throw new DuetError('relay_unavailable');
    if (this.#o.verifiedOnly && !this.#verified(p)) throw new DuetError('verification_required');
    p.pendingRequeue = undefined;
    p.criteria = {
      // Each interest once: the search shares its budget among a person's interest indexes.
      interests: [...new Set(criteria.interests ?? [])],
      language: criteria.language ?? p.criteria.language,
      region: criteria.region,
      mode,
      privacy,
      verifiedOnly: criteria.verifiedOnly ?? false,
    };
    this.#queue.enqueue(p);
    this.#queue.tryMatch(p);
  }

  /**
   * Skip: end the call it names and look for someone new (see `namedCall`); naming none, from idle
   * it is the same as join. `callId` null: the message named no call; omitted: the current call.
   */
  next(userId: string, callId: string | null = this.callOf(userId)?.id ?? null): void {
    const p = this.#get(userId);
    const call = namedCall(p, callId);
    if (call) return this.calls.end(call, 'next', userId);
    if (callId !== null) throw new DuetError('stale_call'); // that call is over: its call_ended says what follows
    if (p.status === 'idle') this.join(userId, p.criteria);
    else this.#o.send(userId, { type: 'queued', waiting: this.waiting, estimatedWaitMs: this.#queue.estimateWait(p) });
  }

  /** Stop: end the call it names (see `namedCall`), or leave the queue (and any pending requeue), and stay idle. */
  leave(userId: string, callId: string | null = this.callOf(userId)?.id ?? null): void {
    const p = this.#get(userId);
    const call = namedCall(p, callId);
    if (call) return this.calls.end(call, 'leave', userId);
    p.pendingRequeue = undefined;
    if (p.status === 'waiting') {
      this.#queue.dequeue(p);
      p.status = 'idle';
      p.log.info('left the queue');
      this.#presence.changed();
    }
    this.#o.send(userId, { type: 'idle' });
  }

  /** The person's client saw the end of `callId` that left them `then: 'waiting'`: queue them again. */
  requeue(userId: string, callId: string): void {
    const p = this.#get(userId);
    if (p.pendingRequeue !== callId || p.status !== 'idle') throw new DuetError('stale_call');
    p.pendingRequeue = undefined;
    this.#queue.enqueue(p);
    this.#queue.tryMatch(p);
  }

  signal(userId: string, m: ClientMessageOf<'signal'>): void {
    this.calls.signal(this.#currentCall(userId, m.callId), userId, m);
  }

  peerState(userId: string, callId: string, state: ClientMessageOf<'peer_state'>['state']): void {
    this.calls.peerState(this.#currentCall(userId, callId), userId, state);
  }

  /**
   * A heartbeat for a call metered on another node (this node only mirrors it) goes there; true
   * when it was forwarded, false when the meter here should take it.
   */
  forwardHeartbeat(userId: string, m: ClientMessageOf<'heartbeat'>): boolean {
    return this.calls.forwardHeartbeat(this.#currentCall(userId, m.callId), userId, m);
  }

  chat(userId: string, callId: string, text: string): void {
    const call = this.#currentCall(userId, callId);
    const now = this.#o.clock.now();
    const shown = this.#o.filterChat(text);
    if (shown.length === 0) return;
    // The transcript lives only as long as the call, unless someone reports it.
    if (call.transcript.length < 500) call.transcript.push({ from: userId, text: shown, at: now });
    this.calls.toPartner(call, userId, { type: 'chat', callId, from: 'partner', text: shown, at: now });
    this.#o.send(userId, { type: 'chat', callId, from: 'you', text: shown, at: now });
  }

  block(userId: string, callId: string): void {
    const call = this.#currentCall(userId, callId);
    const partnerId = call.partnerOf(userId);
    this.blockPair(userId, partnerId);
    this.#o.safety.block(userId, partnerId, call.id);
    this.calls.end(call, 'blocked', userId);
  }

  /**
   * Report ends the call and blocks, so the reporter never meets that person again. `file` is false
   * when the person's report limit is spent (the hub decides: limits are kept per person, not here).
   */
  report(userId: string, m: ClientMessageOf<'report'>, file = true): void {
    const call = this.#currentCall(userId, m.callId);
    const partnerId = call.partnerOf(userId);
    this.blockPair(userId, partnerId);
    if (file) {
      const report = { id: randomUUID(), callId: call.id, reporterId: userId, reportedId: partnerId, reason: m.reason, comment: m.comment };
      this.#o.safety.report({ ...report, transcript: transcriptFor(call, userId) });
      this.#o.send(userId, { type: 'report_filed', reportId: report.id, callId: call.id });
      const reported = this.#participants.get(partnerId);
      if (reported && this.#o.holdReported) reported.held = true;
    } else {
      // Too many reports: still end and block, but do not flood the moderators' queue.
      this.#o.send(userId, { type: 'error', code: 'rate_limited', message: REPORTS_LIMITED, ref: 'report' });
    }
    this.#o.safety.block(userId, partnerId, call.id);
    this.calls.end(call, 'reported', userId);
  }

  /** A banned person leaves at once: their call ends (`banned`; the partner is requeued) and they go. */
  removeBanned(userId: string): void {
    const p = this.#participants.get(userId);
    if (!p) return;
    if (p.call) this.calls.end(p.call, 'banned', userId);
    this.#drop(p);
  }

  /** Passed the liveness check (or a moderator revoked it): the pool sees it now, partners from the next match. */
  setVerified(userId: string, verifiedUntil: number | null): void {
    const p = this.#participants.get(userId);
    if (!p) return;
    p.verifiedUntil = verifiedUntil;
    if (p.status === 'waiting') this.#queue.enqueue(p); // the pool entry carries the new status
  }

  #verified(p: Participant): boolean {
    return p.verifiedUntil !== null && p.verifiedUntil > this.#o.clock.now();
  }

  /** Held (reports or screening flags pile up) or released (reviewed): a waiting person's pool entry follows at once. */
  setHeld(userId: string, held: boolean): void {
    const p = this.#participants.get(userId);
    if (!p || p.held === held) return;
    p.held = held;
    if (p.status === 'waiting') this.#queue.enqueue(p);
  }

  /** Ends every call with `server_shutdown` and accepts nobody new. */
  shutdown(): void {
    this.#closed = true;
    this.#queue.close();
    this.calls.endAll('server_shutdown');
    for (const p of this.#participants.values()) {
      p.pendingRequeue = undefined;
      if (p.status !== 'waiting') continue;
      this.#queue.dequeue(p);
      p.status = 'idle';
      this.#o.send(p.userId, { type: 'idle' });
    }
    this.#presence.stop();
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

  /** Two people never meet again (a block or report, here or on another node). */
  blockPair(x: string, y: string): void {
    this.#participants.get(x)?.blockedWith.add(y);
    this.#participants.get(y)?.blockedWith.add(x);
  }

  #startCall(a: Ticket, b: Ticket): void {
    const side = (t: Ticket) => ({ userId: t.userId, node: t.node ?? this.#node, joinedAt: t.joinedAt, verified: t.verified ?? false });
    // This node's people in the call (the other side may be on another node).
    const here = (call: Call) => [call.a, call.b].flatMap((u) => (call.nodeOf(u) === this.#node ? (this.#participants.get(u) ?? []) : []));
    const call = this.calls.start(
      side(a),
      side(b),
      (c) => this.#o.relay.relayOnly || here(c).some((p) => p.criteria.privacy),
      (c) => here(c).forEach((p) => this.#enterCall(p, c)),
    );
    this.#queue.matched(call.at.matched, [a, b]);
    this.#presence.changed();
  }

  /** Another node matched someone here: keep a mirror of the call and tell them. */
  mirror(e: ClusterEventOf<'matched'>): void {
    const p = this.#participants.get(e.to);
    // They left (or dropped) while the other node was claiming them.
    if (!p || p.status !== 'waiting' || this.#closed) return this.calls.refuseMirror(e, p ? 'leave' : 'connection_lost');
    this.calls.mirror(e, e.relayOnly || this.#o.relay.relayOnly || p.criteria.privacy, (call) => this.#enterCall(p, call));
    this.#presence.changed();
  }

  #enterCall(p: Participant, call: Call): void {
    p.status = 'in_call';
    p.call = call;
    p.cancelWidening?.();
    p.cancelWidening = undefined;
    const partnerId = call.partnerOf(p.userId);
    // Debug: who met whom is on the call's own line ('call ended', both people) and in its record.
    this.#o.log.debug({ userId: p.userId, callId: call.id, partnerId, waitedMs: call.waitMs[call.sideOf(p.userId)] }, 'matched');
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

  /** A call let its people go: each here is told, and requeued or left idle. */
  #release(call: Call, now: number): void {
    for (const userId of requeueOrder(call)) {
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
      const { by, then, requeue } = afterCall(call, userId, this.#closed);
      this.#o.send(userId, { type: 'call_ended', callId: call.id, reason: call.endReason!, by, then });
      p.status = 'idle';
      if (requeue === 'now') this.#queue.enqueue(p);
      else if (requeue === 'on_ack') p.pendingRequeue = call.id;
    }
  }
}
