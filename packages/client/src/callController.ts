import type { ClientMessage, ClientMessageOf, EndReason, ReportReason, ServerMessage, ServerMessageOf } from '@duet/protocol';
import { CallStateMachine } from './callState.js';
import { TypedEmitter } from './emitter.js';
import { CallEngine } from './engine.js';
import { DuetClientError } from './errors.js';
import { joinMessage, type StartOptions } from './join.js';
import type { ConnectionInfo } from './stats.js';
import type { CallEnd, CallState, ClientEvents } from './types.js';

export type CallEvents = Pick<ClientEvents, 'state' | 'partner' | 'queue' | 'chat' | 'remoteStream' | 'error'>;

/** A move that ends the call the person sees, and the end it means. */
type Ending = ClientMessageOf<'next' | 'leave' | 'block' | 'report'> & { callId: string };
const ENDS: Record<Ending['type'], EndReason> = { next: 'next', leave: 'leave', block: 'blocked', report: 'reported' };

export interface CallControllerOptions {
  /** Sends to the server; reports when the socket is down. */
  send: (message: ClientMessage) => void;
  /** The camera and microphone, once opened: no queueing or call without them. */
  localStream: () => MediaStream | null;
  log?: (line: string) => void;
}

/**
 * A person's way through the queue and their calls: the call state (one state machine), the
 * current call (its `CallEngine`), and whether to rejoin the queue after a reconnect. It takes
 * the server's call messages and the person's intents; it knows no socket and no HTTP.
 */
export class CallController extends TypedEmitter<CallEvents> {
  readonly #o: CallControllerOptions;
  readonly #call: CallStateMachine;
  readonly #engine: CallEngine;
  #lastEnd: CallEnd | null = null;
  #partnerVerified = false;
  /** True between start() and stop(): after a dropped connection we rejoin the queue. */
  #wantsToMeet = false;
  /** The person pressed Stop since their last Start or Next: a call the server still makes is left, not joined. */
  #stopped = false;
  #criteria: StartOptions = {};
  /** The signaling socket is down (between `disconnected()` and `welcomed()`). */
  #offline = false;
  /** A move the person made while the socket was down: their call ended here, the server learns on reconnect. */
  #unsent: Ending | undefined;

  constructor(options: CallControllerOptions) {
    super();
    this.#o = options;
    this.#call = new CallStateMachine({
      onChange: ({ from, to }) => this.emit('state', { state: to, previous: from, callId: this.callId, lastEnd: this.#lastEnd }),
      ...(options.log ? { log: options.log } : {}),
    });
    this.#engine = new CallEngine({ send: options.send, wasUp: () => this.state === 'connected' || this.state === 'reconnecting' });
    this.#engine.on('remoteStream', (stream) => this.emit('remoteStream', stream));
    this.#engine.on('interrupted', () => this.state === 'connected' && this.#move('reconnecting'));
    this.#engine.on('error', (err) => this.emit('error', err.toEvent()));
  }

  get state(): CallState {
    return this.#call.state;
  }
  get callId(): string | null {
    return this.#engine.callId;
  }
  get lastEnd(): CallEnd | null {
    return this.#lastEnd;
  }
  get partnerVerified(): boolean {
    return this.#partnerVerified;
  }
  get remoteStream(): MediaStream | null {
    return this.#engine.remoteStream;
  }
  get peerConnection(): RTCPeerConnection | null {
    return this.#engine.peerConnection;
  }

  async connectionInfo(): Promise<ConnectionInfo | null> {
    return this.state === 'connecting' ? null : this.#engine.connectionInfo();
  }

  start(options: StartOptions): void {
    if (!this.#o.localStream()) throw DuetClientError.outOfOrder('Call openMedia() before start().');
    this.#wantsToMeet = true;
    this.#stopped = false;
    this.#criteria = options;
    this.#o.send(joinMessage(options));
  }

  /** Skips the call this person sees (naming it, so a Next never ends a newer call), or looks for someone. */
  next(): void {
    const callId = this.callId;
    this.#wantsToMeet = true;
    this.#stopped = false;
    if (callId && this.#endOffline({ type: 'next', callId })) return;
    this.#engine.closePeer();
    this.#o.send(callId ? { type: 'next', callId } : { type: 'next' });
  }

  /** Ends the call this person sees, or stops looking. */
  stop(): void {
    const callId = this.callId;
    this.#wantsToMeet = false;
    this.#stopped = true;
    if (callId && this.#endOffline({ type: 'leave', callId })) return;
    this.#engine.closePeer();
    this.#o.send(callId ? { type: 'leave', callId } : { type: 'leave' });
  }

  block(): void {
    const callId = this.callId;
    if (!callId || this.#endOffline({ type: 'block', callId })) return;
    this.#o.send({ type: 'block', callId });
    this.#engine.closePeer();
  }

  /** Reports the current partner; returns the call reported, or null outside a call. */
  report(reason: ReportReason, comment?: string): string | null {
    const callId = this.callId;
    if (!callId) return null;
    const message: Ending = { type: 'report', callId, reason, ...(comment ? { comment } : {}) };
    if (this.#endOffline(message)) return callId;
    this.#o.send(message);
    this.#engine.closePeer();
    return callId;
  }

  sendChat(text: string): void {
    const trimmed = text.trim();
    if (!this.callId || trimmed.length === 0) return;
    this.#o.send({ type: 'chat', callId: this.callId, text: trimmed });
  }

  /** Stops looking for anyone and stops the current call's media. */
  close(): void {
    this.#wantsToMeet = false;
    this.#stopped = true;
    this.#engine.closePeer();
  }

  /** (Re)connected: resume the call the server still holds, or give it up and rejoin the queue. */
  welcomed(heldCallId: string | undefined): void {
    this.#offline = false;
    const unsent = this.#unsent;
    this.#unsent = undefined;
    if (unsent) {
      // The server still holds the call the person ended: end it there the same way (it requeues
      // them or not, as for a move made online). A report or block stands even if the call is gone.
      if (heldCallId === unsent.callId || unsent.type === 'report' || unsent.type === 'block') this.#o.send(unsent);
      if (heldCallId === unsent.callId) return;
    }
    const callId = this.callId;
    if (callId && heldCallId === callId) return this.#engine.resume();
    if (callId) this.#endCall({ callId, reason: 'connection_lost', by: 'you' }, 'failed');
    if (this.#wantsToMeet && this.#o.localStream()) this.start(this.#criteria);
  }

  /** The socket dropped. Media may still flow peer to peer: keep the call and try to resume it on reconnect. */
  disconnected(): void {
    this.#offline = true;
    if (this.callId) this.#move('reconnecting');
    else if (this.state === 'waiting') this.#move('idle');
  }

  banned(): void {
    this.#wantsToMeet = false;
    if (this.callId) this.#endCall({ callId: this.callId, reason: 'banned', by: 'server' }, 'ended');
  }

  /** The server's messages about the queue and calls; any other type is not this layer's. */
  handle(m: ServerMessage): void {
    switch (m.type) {
      case 'queued':
        if (!this.callId) this.#move('waiting');
        return this.emit('queue', { waiting: m.waiting, estimatedWaitMs: m.estimatedWaitMs ?? null });
      case 'idle':
        if (!this.callId) this.#move('idle');
        return;
      case 'matched':
        return this.#onMatched(m);
      case 'signal':
        return this.#engine.signal(m);
      case 'call_connected':
        if (m.callId !== this.callId) return;
        this.#move('connected');
        return this.#engine.connected(m.callId);
      case 'call_reconnecting':
        if (m.callId === this.callId) this.#move('reconnecting');
        return;
      case 'ice_servers':
        return this.#engine.iceServers(m);
      case 'call_ended':
        if (m.callId !== this.callId) return;
        this.#endCall({ callId: m.callId, reason: m.reason, by: m.by }, m.reason === 'ice_failed' ? 'failed' : 'ended');
        if (m.then === 'idle') this.#wantsToMeet = false;
        else if (m.by === 'you')
          this.#move('waiting'); // our own Next, Block or Report: already queued
        else if (!this.#stopped) {
          // Someone else ended it: the server holds us out of the queue until we have seen the end.
          this.#o.send({ type: 'requeue', callId: m.callId });
          this.#move('waiting');
        }
        return;
      case 'chat':
        if (m.callId === this.callId) this.emit('chat', { callId: m.callId, from: m.from, text: m.text, at: m.at });
        return;
      case 'error':
        // A move meant for a call that is already over or not yet seen here changed nothing: the
        // call_ended or matched on its way brings this side up to date. Not the person's concern.
        if (m.code === 'stale_call') return this.#o.log?.(`stale ${m.ref ?? 'message'} refused`);
        // A refused join means we are not looking for anyone: do not retry it after a reconnect.
        if (m.ref === 'join') this.#wantsToMeet = false;
        return this.emit('error', DuetClientError.fromServer(m).toEvent());
    }
  }

  #onMatched(m: ServerMessageOf<'matched'>): void {
    // Matched just as the person pressed Stop (their leave named no call, so it could not end this one).
    if (this.#stopped) return this.#o.send({ type: 'leave', callId: m.callId });
    this.#engine.closePeer();
    const localStream = this.#o.localStream();
    if (!localStream) return;
    this.#engine.begin(m, localStream);
    this.#lastEnd = null;
    this.#partnerVerified = m.partnerVerified === true;
    this.emit('partner', { callId: m.callId, verified: this.#partnerVerified });
    this.#move('connecting');
    this.#engine.start();
  }

  /**
   * While the socket is down a move that ends the call cannot reach the server: the call ends here
   * at once (the person pressed Stop and sees it stop), and the move goes on reconnect. True when so.
   */
  #endOffline(move: Ending): boolean {
    if (!this.#offline) return false;
    this.#unsent = move;
    this.#endCall({ callId: move.callId, reason: ENDS[move.type], by: 'you' }, 'ended');
    return true;
  }

  #endCall(end: CallEnd, state: 'ended' | 'failed'): void {
    this.#lastEnd = end;
    this.#engine.end();
    this.#move(state);
  }

  #move(to: CallState): void {
    try {
      this.#call.transition(to);
    } catch (err) {
      // The server's messages drive the state; one out of order must not break the page.
      console.warn('Duet:', err instanceof Error ? err.message : err);
    }
  }
}
