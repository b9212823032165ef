import type { EndReason } from '@duet/protocol';

export type CallState = 'matched' | 'connecting' | 'connected' | 'reconnecting' | 'ended';

const NEXT_STATES: Record<CallState, readonly CallState[]> = {
  matched: ['connecting', 'ended'],
  connecting: ['connected', 'ended'],
  connected: ['reconnecting', 'ended'],
  reconnecting: ['connected', 'ended'],
  ended: [],
};

export class IllegalTransition extends Error {
  override name = 'IllegalTransition';
}

/**
 * One call between two people, `matched -> connecting -> connected (<-> reconnecting) -> ended`.
 * The state changes only through `transition`, which timestamps each step (the first time it is
 * reached; reconnection gaps are summed separately) and rejects illegal moves.
 * `a` is the offerer (the impolite peer); `b` answers.
 */
export class Call {
  #state: CallState = 'matched';
  readonly at: { matched: number; connecting?: number; connected?: number; reconnecting?: number; ended?: number };
  /** How often the call dropped and recovered, and for how long in all (not counted as talk time). */
  reconnects = 0;
  reconnectingMs = 0;
  #endReason: EndReason | undefined;
  #endedBy: string | null = null;
  /** Media must go through the relay (IP privacy); set once when the call starts. */
  relayOnly = false;
  /** Which side had passed the liveness check when matched (each is shown the other's). */
  verified: { a: boolean; b: boolean } = { a: false, b: false };
  /**
   * Which node each side is connected to, and whether this node matched them (the primary, which
   * keeps the call's record) or mirrors a call whose other side is here.
   */
  nodes: { a: string; b: string } = { a: 'local', b: 'local' };
  primary = true;
  /** The chat as relayed, kept for a report's evidence; gone with the call otherwise. */
  readonly transcript: Array<{ from: string; text: string; at: number }> = [];
  /** Users whose browser reported its peer connection as connected. */
  readonly #peerConnected = new Set<string>();

  constructor(
    readonly id: string,
    readonly a: string,
    readonly b: string,
    matchedAt: number,
    /** How long each side waited in the queue for this match (time-to-match). */
    readonly waitMs: { readonly a: number; readonly b: number } = { a: 0, b: 0 },
  ) {
    this.at = { matched: matchedAt };
  }

  get state(): CallState {
    return this.#state;
  }
  get endReason(): EndReason | undefined {
    return this.#endReason;
  }
  /** The user who ended the call, or null when the server did. */
  get endedBy(): string | null {
    return this.#endedBy;
  }
  get isOver(): boolean {
    return this.#state === 'ended';
  }

  has(userId: string): boolean {
    return userId === this.a || userId === this.b;
  }

  sideOf(userId: string): 'a' | 'b' {
    if (userId === this.a) return 'a';
    if (userId === this.b) return 'b';
    throw new Error(`user ${userId} is not in call ${this.id}`);
  }

  nodeOf(userId: string): string {
    return this.nodes[this.sideOf(userId)];
  }

  partnerOf(userId: string): string {
    if (userId === this.a) return this.b;
    if (userId === this.b) return this.a;
    throw new Error(`user ${userId} is not in call ${this.id}`);
  }

  /** Moves to `to`; false when already there, throws when the move is illegal. */
  transition(to: CallState, now: number): boolean {
    if (to === this.#state) return false;
    if (!NEXT_STATES[this.#state].includes(to)) {
      throw new IllegalTransition(`call ${this.id}: ${this.#state} -> ${to}`);
    }
    const from = this.#state;
    this.#state = to;
    if (to === 'reconnecting') {
      this.at.reconnecting = now;
      this.reconnects += 1;
    } else if (from === 'reconnecting') {
      this.reconnectingMs += now - this.at.reconnecting!;
    }
    this.at[to] ??= now;
    return true;
  }

  /** Time both people were connected: from connected to ended, less any reconnection gaps. */
  get talkMs(): number | undefined {
    if (this.at.connected === undefined || this.at.ended === undefined) return undefined;
    return this.at.ended - this.at.connected - this.reconnectingMs;
  }

  /** One side's peer connection went down: the call is connected again only when both are back. */
  peerDown(userId: string): void {
    this.#peerConnected.delete(userId);
  }

  /** Records that one side's peer connection is up; true when both are, i.e. the call is connected. */
  peerConnected(userId: string): boolean {
    this.#peerConnected.add(userId);
    return this.#peerConnected.has(this.a) && this.#peerConnected.has(this.b);
  }

  end(reason: EndReason, endedBy: string | null, now: number): boolean {
    if (this.#state === 'ended') return false;
    this.transition('ended', now);
    this.#endReason = reason;
    this.#endedBy = endedBy;
    return true;
  }
}
