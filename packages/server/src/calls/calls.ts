import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { ClientMessageOf, EndReason, IceServer, ServerMessage } from '@duet/protocol';
import type { Logger } from 'pino';
import type { ClusterEventOf, ClusterPort, LiveCall } from '../cluster/messages.js';
import { isRelayCandidate, relayOnlySdp } from '../relay/sdp.js';
import type { Clock } from '../util/clock.js';
import { Call } from './call.js';

/** Monitoring stream: telemetry, metering and call records listen here, never on the signaling path. */
export interface CallEvents {
  'call:matched': [call: Call];
  'call:connecting': [call: Call];
  'call:connected': [call: Call];
  'call:ended': [call: Call];
}

/** What the owner of the people in calls (the lobby) is told, in order, as a call ends. */
export interface CallsOwner {
  /** The call ended: its people on this node leave it. Runs before the observers hear of the end. */
  released(call: Call, now: number): void;
  /** After the observers: whoever was requeued is matched again. */
  afterEnd(call: Call): void;
  /** Whether this person's signaling connection is gone (a recovering call waits for them). */
  isAway(userId: string): boolean;
}

export interface CallsOptions {
  clock: Clock;
  log: Logger;
  cluster: ClusterPort;
  /** Delivers a message to a person connected to this node. */
  send: (userId: string, message: ServerMessage) => void;
  iceServersFor: (userId: string, callId: string) => IceServer[];
  connectTimeoutMs: number;
  /** A connected call whose media or signaling drops survives this long (ICE restart, reconnect). */
  reconnectGraceMs: number;
}

/** Who is in a new call, as the pool handed them over. */
export interface CallSide {
  userId: string;
  node: string;
  joinedAt: number;
  verified: boolean;
}

/** A connected call a previous process left open (see Calls.restore). */
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

/**
 * Every live call on this node, and each call's lifecycle: `matched → connecting → connected ⇄
 * reconnecting → ended`, its connect and grace timers, and the messages that keep the two nodes of a
 * call split across a cluster in step. People (who is idle, waiting or in which call) belong to the
 * lobby, which is told through `CallsOwner` when a call lets its people go. Synchronous throughout:
 * a call's moves never interleave.
 */
export class Calls {
  readonly observer = new EventEmitter<CallEvents>();
  readonly #calls = new Map<string, Call>();
  /** Each person's live call here, whichever node their side is connected to. */
  readonly #byPerson = new Map<string, Call>();
  /** Cancels the call's current timer: the connect timeout, then the reconnect grace window. */
  readonly #timers = new Map<string, () => void>();
  readonly #o: CallsOptions;
  readonly #node: string;
  #owner: CallsOwner | undefined;

  constructor(options: CallsOptions) {
    this.#o = options;
    this.#node = options.cluster.nodeId;
  }

  /** The lobby takes ownership of the calls' people once, as it is created. */
  own(owner: CallsOwner): void {
    if (this.#owner) throw new Error('calls already have an owner');
    this.#owner = owner;
  }

  get size(): number {
    return this.#calls.size;
  }

  get(callId: string): Call | undefined {
    return this.#calls.get(callId);
  }

  /** The person's live call on this node (their side may be connected to another node). */
  ofPerson(userId: string): Call | undefined {
    return this.#byPerson.get(userId);
  }

  /** Live calls on this node, for the moderation console. */
  live(): Call[] {
    return [...this.#calls.values()];
  }

  /** The live calls this node keeps (not the mirrors), as the console of any node lists them. */
  kept(): LiveCall[] {
    const out: LiveCall[] = [];
    for (const c of this.#calls.values()) {
      if (!c.primary) continue;
      // A call restored after a restart names no nodes: its people were here.
      const nodes = { a: c.nodes.a === 'local' ? this.#node : c.nodes.a, b: c.nodes.b === 'local' ? this.#node : c.nodes.b };
      const { id, state, a, b, relayOnly } = c;
      out.push({ id, state, a, b, relayOnly, matchedAt: c.at.matched, connectedAt: c.at.connected ?? null, node: this.#node, nodes });
    }
    return out;
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

  /**
   * A new call between two people this node matched. `enter` puts this node's people into it (and
   * tells them) before the other node hears of it and before the observers do.
   */
  start(a: CallSide, b: CallSide, relayOnly: (call: Call) => boolean, enter: (call: Call) => void): Call {
    const now = this.#o.clock.now();
    const call = new Call(randomUUID(), a.userId, b.userId, now, { a: now - a.joinedAt, b: now - b.joinedAt });
    call.nodes = { a: a.node, b: b.node };
    call.verified = { a: a.verified, b: b.verified };
    call.relayOnly = relayOnly(call);
    this.#open(call);
    enter(call);
    for (const side of ['a', 'b'] as const) {
      const node = call.nodes[side];
      if (node === this.#node) continue;
      this.#o.cluster.send(node, {
        t: 'matched',
        callId: call.id,
        to: call[side],
        a: call.a,
        b: call.b,
        nodes: call.nodes,
        matchedAt: now,
        waitMs: call.waitMs,
        relayOnly: call.relayOnly,
        verified: call.verified,
      });
    }
    this.observer.emit('call:matched', call);
    return call;
  }

  /** Another node matched someone here: this node keeps a mirror of the call. */
  mirror(e: ClusterEventOf<'matched'>, relayOnly: boolean, enter: (call: Call) => void): Call {
    const call = new Call(e.callId, e.a, e.b, e.matchedAt, e.waitMs);
    call.nodes = e.nodes;
    call.primary = false;
    call.verified = e.verified ?? { a: false, b: false };
    call.relayOnly = relayOnly;
    this.#open(call);
    enter(call);
    this.observer.emit('call:matched', call);
    return call;
  }

  /** The other node matched someone who is no longer waiting here: that call ends there. */
  refuseMirror(e: ClusterEventOf<'matched'>, reason: 'leave' | 'connection_lost'): void {
    const other = e.to === e.a ? 'b' : 'a';
    this.#o.cluster.send(e.nodes[other], { t: 'ended', callId: e.callId, reason, endedBy: e.to });
  }

  /**
   * A connected call a previous process left open, put back as reconnecting: its people have the
   * grace window to come back (the lobby holds their places), or it ends as `connection_lost`.
   */
  restore(r: RestoredCall): Call {
    const now = this.#o.clock.now();
    const call = new Call(r.id, r.a, r.b, r.matchedAt, r.waitMs);
    call.relayOnly = r.relayOnly;
    call.reconnects = r.reconnects;
    call.reconnectingMs = r.reconnectingMs;
    call.transition('connecting', r.connectingAt ?? r.connectedAt);
    call.transition('connected', r.connectedAt);
    call.transition('reconnecting', now);
    this.#keep(call);
    this.#arm(call, this.#o.reconnectGraceMs, () => call.state === 'reconnecting' && this.end(call, 'connection_lost', null));
    this.#o.log.info({ callId: call.id, graceMs: this.#o.reconnectGraceMs }, 'call restored after a restart; waiting for its people');
    return call;
  }

  #keep(call: Call): void {
    this.#calls.set(call.id, call);
    this.#byPerson.set(call.a, call);
    this.#byPerson.set(call.b, call);
  }

  #open(call: Call): void {
    this.#keep(call);
    this.#arm(call, this.#o.connectTimeoutMs, () => this.end(call, 'ice_failed', null));
  }

  #arm(call: Call, ms: number, fire: () => void): void {
    this.#timers.get(call.id)?.();
    this.#timers.set(call.id, this.#o.clock.after(ms, fire));
  }

  #disarm(call: Call): void {
    this.#timers.get(call.id)?.();
    this.#timers.delete(call.id);
  }

  /** Relays an offer, answer or candidate to the partner; relay-only calls pass relay addresses only. */
  signal(call: Call, userId: string, m: ClientMessageOf<'signal'>): void {
    if (call.state === 'matched') {
      call.transition('connecting', this.#o.clock.now());
      this.observer.emit('call:connecting', call);
    }
    const relay: ServerMessage = { type: 'signal', callId: call.id };
    if (m.description !== undefined)
      relay.description =
        call.relayOnly && m.description.sdp !== undefined ? { ...m.description, sdp: relayOnlySdp(m.description.sdp) } : m.description;
    if (m.candidate !== undefined) {
      // Defence in depth for IP privacy: even a modified client cannot leak an address to the partner.
      if (call.relayOnly && m.candidate !== null && !isRelayCandidate(m.candidate.candidate)) return;
      relay.candidate = m.candidate;
    }
    this.toPartner(call, userId, relay);
  }

  /** What a browser says of its peer connection. */
  peerState(call: Call, userId: string, state: ClientMessageOf<'peer_state'>['state']): void {
    const established = call.state === 'connected' || call.state === 'reconnecting';
    if (state === 'failed' && !established) {
      this.end(call, 'ice_failed', null);
      return;
    }
    const down = state !== 'connected';
    if (down && !established) return; // still setting up: the connect timeout decides
    const partnerNode = call.nodeOf(call.partnerOf(userId));
    if (partnerNode !== this.#node)
      this.#o.cluster.send(partnerNode, { t: 'peer', callId: call.id, from: userId, state: down ? 'down' : 'connected' });
    if (down) this.peerDown(call, userId);
    else this.#peerConnected(call, userId);
  }

  #peerConnected(call: Call, userId: string): void {
    if (call.isOver || !call.peerConnected(userId) || call.state === 'connected') return;
    // Back only when both browsers are up and nobody's signaling is still gone.
    if (call.state === 'reconnecting' && [call.a, call.b].some((u) => this.#owner?.isAway(u))) return;
    const now = this.#o.clock.now();
    const recovering = call.state === 'reconnecting';
    if (call.state === 'matched') call.transition('connecting', now);
    call.transition('connected', now);
    this.#disarm(call);
    this.#o.log.info(
      { callId: call.id, ms: now - (recovering ? call.at.reconnecting! : call.at.matched) },
      recovering ? 'call recovered' : 'call connected',
    );
    this.#toLocal(call, { type: 'call_connected', callId: call.id });
    if (!recovering) this.observer.emit('call:connected', call);
  }

  /** One side's media or signaling went down: the call waits the grace window for it. */
  peerDown(call: Call, userId: string): void {
    call.peerDown(userId);
    if (call.state !== 'connected') return;
    call.transition('reconnecting', this.#o.clock.now());
    const graceMs = this.#o.reconnectGraceMs;
    this.#toLocal(call, { type: 'call_reconnecting', callId: call.id, graceMs });
    this.#arm(call, graceMs, () => call.state === 'reconnecting' && this.end(call, 'connection_lost', userId));
  }

  /** Applies what the other node of a call says about it. */
  fromCluster(e: ClusterEventOf<'peer'>): void {
    const call = this.#calls.get(e.callId);
    if (!call?.has(e.from)) return;
    if (e.state === 'down') this.peerDown(call, e.from);
    else this.#peerConnected(call, e.from);
  }

  /** Ends a call by id (the meter, a moderator); false when it is not live here. */
  endById(callId: string, reason: EndReason, endedBy: string | null): boolean {
    const call = this.#calls.get(callId);
    if (!call) return false;
    this.end(call, reason, endedBy);
    return true;
  }

  /**
   * Ends the call (once): the other node is told unless it told us, the timers stop, the owner lets
   * the people go, then the observers hear of it, then matching resumes.
   */
  end(call: Call, reason: EndReason, endedBy: string | null, fromRemote = false): void {
    const now = this.#o.clock.now();
    if (!call.end(reason, endedBy, now)) return;
    if (!fromRemote) {
      for (const side of ['a', 'b'] as const) {
        const node = call.nodes[side];
        if (node === this.#node) continue;
        // This node stopping is, for the person on another node, a partner whose connection went.
        const local = call[side === 'a' ? 'b' : 'a'];
        const shutdown = reason === 'server_shutdown';
        this.#o.cluster.send(node, {
          t: 'ended',
          callId: call.id,
          reason: shutdown ? 'connection_lost' : reason,
          endedBy: shutdown ? local : endedBy,
        });
      }
    }
    this.#calls.delete(call.id);
    for (const userId of [call.a, call.b]) if (this.#byPerson.get(userId) === call) this.#byPerson.delete(userId);
    this.#disarm(call);
    this.#o.log.info(
      {
        callId: call.id,
        a: call.a,
        b: call.b,
        reason,
        endedBy,
        connected: call.at.connected !== undefined,
        durationMs: now - call.at.matched,
      },
      'call ended',
    );
    this.#owner?.released(call, now);
    this.observer.emit('call:ended', call);
    this.#owner?.afterEnd(call);
  }

  /** Ends every call (the server is stopping). */
  endAll(reason: EndReason): void {
    for (const call of [...this.#calls.values()]) this.end(call, reason, null);
  }

  /** Delivers to the other person of a call, on this node or another. */
  toPartner(call: Call, userId: string, message: ServerMessage): void {
    this.#deliver(call, call.partnerOf(userId), message);
  }

  /** Delivers to a person in a call wherever they are connected (the meter's messages). */
  sendInCall(callId: string, userId: string, message: ServerMessage): void {
    const call = this.#calls.get(callId);
    if (call?.has(userId)) this.#deliver(call, userId, message);
    else this.#o.send(userId, message);
  }

  /**
   * A heartbeat for a call metered on another node (this node only mirrors it) goes there; true
   * when it was forwarded, false when the meter here should take it.
   */
  forwardHeartbeat(call: Call, userId: string, m: ClientMessageOf<'heartbeat'>): boolean {
    if (call.primary) return false;
    this.#o.cluster.send(call.nodeOf(call.partnerOf(userId)), {
      t: 'heartbeat',
      callId: call.id,
      from: userId,
      seq: m.seq,
      bytesReceived: m.bytesReceived,
    });
    return true;
  }

  #deliver(call: Call, userId: string, message: ServerMessage): void {
    const node = call.nodeOf(userId);
    if (node === this.#node) this.#o.send(userId, message);
    else this.#o.cluster.send(node, { t: 'deliver', to: userId, message });
  }

  #toLocal(call: Call, message: ServerMessage): void {
    for (const u of [call.a, call.b]) if (call.nodeOf(u) === this.#node) this.#o.send(u, message);
  }
}
