import { DuetClientError } from './errors.js';
import type { CallState } from './types.js';

/**
 * Every move the call state may make. A call is `connecting → connected ⇄ reconnecting → ended |
 * failed`; between calls a person is idle or waiting. A new match may replace any state: the
 * server ends a call before matching again, but its `matched` can overtake our own bookkeeping.
 */
const MOVES: Readonly<Record<CallState, readonly CallState[]>> = {
  idle: ['waiting', 'connecting'],
  waiting: ['idle', 'connecting'],
  connecting: ['connected', 'reconnecting', 'ended', 'failed'],
  connected: ['reconnecting', 'connecting', 'ended', 'failed'],
  reconnecting: ['connected', 'connecting', 'ended', 'failed'],
  ended: ['idle', 'waiting', 'connecting'],
  failed: ['idle', 'waiting', 'connecting'],
};

export function canMove(from: CallState, to: CallState): boolean {
  return MOVES[from].includes(to);
}

export interface CallStateOptions {
  /** Told of every change, after it is made. */
  onChange: (change: { from: CallState; to: CallState }) => void;
  /** One line per change (`call state: waiting -> connecting`); silent by default. */
  log?: (line: string) => void;
}

/** The call state, changed only through `transition()`. */
export class CallStateMachine {
  #state: CallState = 'idle';
  readonly #o: CallStateOptions;

  constructor(options: CallStateOptions) {
    this.#o = options;
  }

  get state(): CallState {
    return this.#state;
  }

  /**
   * Moves to `to`: a no-op change is ignored (false), an illegal one throws and leaves the state
   * as it was, a legal one is logged and announced (true).
   */
  transition(to: CallState): boolean {
    const from = this.#state;
    if (to === from) return false;
    if (!canMove(from, to)) throw DuetClientError.illegalTransition(from, to);
    this.#state = to;
    this.#o.log?.(`call state: ${from} -> ${to}`);
    this.#o.onChange({ from, to });
    return true;
  }
}
