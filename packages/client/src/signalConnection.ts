import {
  CLOSE,
  PROTOCOL_VERSION,
  isFinalClose,
  retryAfterOf,
  serverMessageSchema,
  type ClientMessage,
  type ServerMessage,
} from '@duet/protocol';
import { TypedEmitter } from './emitter.js';
import { DuetClientError } from './errors.js';
import type { ConnectionStatus } from './types.js';

/** Backoff between reconnect attempts; the last step repeats. */
export const RECONNECT_DELAYS_MS: readonly number[] = [500, 1000, 2000, 4000, 8000];
/** WebSocket.OPEN, spelled out: Node 20 has no global WebSocket to read it from. */
const OPEN = 1;

/**
 * How the client tells a dead socket from a quiet one. TCP can take minutes to notice a path that
 * went away (a network cut, a NAT that forgot the mapping, a server that closed the socket while
 * its FIN was lost); meanwhile the server holds the person's call for RECONNECT_GRACE_MS only.
 * So after `askAfterMs` without a word from the server the client sends `ping`, and after
 * `deadAfterMs` of silence it gives the socket up and reconnects. A socket that is not welcomed
 * within `openTimeoutMs` is given up the same way (a handshake stuck behind a lost SYN).
 */
export const LIVENESS = { askAfterMs: 4000, deadAfterMs: 9000, openTimeoutMs: 10_000 } as const;
export type Liveness = { askAfterMs: number; deadAfterMs: number; openTimeoutMs: number };
/** The close code reported when the client gave the socket up itself (nothing came from the server). */
export const GAVE_UP = 1006;

export interface SignalEvents extends Record<string, unknown> {
  status: ConnectionStatus;
  /** Every valid server message, `welcome` included, in order. */
  message: ServerMessage;
  /** The socket closed; `retryInMs` is null when no reconnect will follow. */
  closed: { code: number; retryInMs: number | null };
  /** A frame that failed the protocol schema (dropped). */
  error: DuetClientError;
}

export interface SignalConnectionOptions {
  /** The server's origin; the socket goes to `/ws` on it. */
  baseUrl: URL;
  /** The session token for `hello`, read at each (re)connect. */
  token: () => string | undefined;
  /** Opens a socket; replaceable for tests (the `ws` package in Node) and custom transports. */
  createSocket?: (url: URL) => WebSocket;
  reconnectDelaysMs?: readonly number[];
  liveness?: Liveness;
}

/**
 * The signaling socket and its lifecycle: hello on open, welcome as the sign it is usable, and after
 * a drop a reconnect with backoff, unless the close code says retrying cannot help (see
 * `isFinalClose`) or the owner closed it. A server too busy to take the socket (CLOSE.busy) names
 * its retry-after, and the reconnect waits exactly that. What the messages mean is the owner's business.
 */
export class SignalConnection extends TypedEmitter<SignalEvents> {
  readonly #o: SignalConnectionOptions;
  readonly #delays: readonly number[];
  #ws: WebSocket | undefined;
  #status: ConnectionStatus = 'closed';
  #attempt = 0;
  #closedByOwner = false;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #welcomed: { resolve: () => void; reject: (e: Error) => void } | undefined;
  readonly #liveness: Liveness;
  #watch: ReturnType<typeof setInterval> | undefined;
  /** When the current socket was opened, last heard from, and last asked (`ping`). */
  #openedAt = 0;
  #heardAt = 0;
  #askedAt = 0;

  constructor(options: SignalConnectionOptions) {
    super();
    this.#o = options;
    this.#delays = options.reconnectDelaysMs ?? RECONNECT_DELAYS_MS;
    this.#liveness = options.liveness ?? LIVENESS;
  }

  get status(): ConnectionStatus {
    return this.#status;
  }

  /** True when a message sent now would reach the server. */
  get isOpen(): boolean {
    return this.#ws?.readyState === OPEN;
  }

  /** Opens the socket; resolves on `welcome`, rejects if it closes first. Later drops reconnect by themselves. */
  open(): Promise<void> {
    this.#closedByOwner = false;
    clearTimeout(this.#retryTimer);
    const url = new URL('/ws', this.#o.baseUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    this.#setStatus('connecting');
    const ws = (this.#o.createSocket ?? ((u) => new WebSocket(u)))(url);
    this.#ws = ws;
    this.#openedAt = this.#heardAt = this.#askedAt = Date.now();
    this.#watchLiveness();
    // Back online (the OS says so): a reconnect waiting out its backoff goes now.
    globalThis.addEventListener?.('online', this.#onOnline);
    const welcomed = new Promise<void>((resolve, reject) => {
      this.#welcomed = { resolve, reject };
    });
    ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, token: this.#o.token() }));
    ws.onmessage = (e) => this.#onMessage(e.data);
    ws.onclose = (e) => this.#onClose(ws, e.code, e.reason);
    return welcomed;
  }

  /** Sends when open; returns false (and sends nothing) otherwise. */
  send(message: ClientMessage): boolean {
    if (!this.isOpen) return false;
    this.#ws!.send(JSON.stringify(message));
    return true;
  }

  /** Closes for good: no reconnect follows. Safe to call twice. */
  close(): void {
    this.#closedByOwner = true;
    clearTimeout(this.#retryTimer);
    clearInterval(this.#watch);
    globalThis.removeEventListener?.('online', this.#onOnline);
    this.#ws?.close(CLOSE.normal, 'bye');
  }

  readonly #onOnline = (): void => {
    if (this.#closedByOwner || this.#status !== 'closed') return;
    clearTimeout(this.#retryTimer);
    this.#attempt = 0;
    this.open().catch(() => undefined);
  };

  #watchLiveness(): void {
    clearInterval(this.#watch);
    const { askAfterMs, deadAfterMs, openTimeoutMs } = this.#liveness;
    this.#watch = setInterval(
      () => {
        const ws = this.#ws;
        if (!ws || this.#status === 'closed') return clearInterval(this.#watch);
        const now = Date.now();
        if (this.#status === 'connecting') {
          if (now - this.#openedAt >= openTimeoutMs) this.#giveUp(ws, 'no welcome');
        } else if (now - this.#heardAt >= deadAfterMs) {
          this.#giveUp(ws, 'no answer');
        } else if (now - this.#heardAt >= askAfterMs && this.#askedAt <= this.#heardAt) {
          this.#askedAt = now;
          this.send({ type: 'ping' });
        }
      },
      Math.max(50, Math.min(askAfterMs, openTimeoutMs) / 4),
    );
  }

  /** The socket is silent past hope: forget it (whatever it says later is ignored) and reconnect. */
  #giveUp(ws: WebSocket, reason: string): void {
    ws.onopen = ws.onmessage = ws.onclose = null;
    try {
      ws.close(CLOSE.normal, reason);
    } catch {
      // Closing a socket that never opened may throw in some runtimes; it is forgotten either way.
    }
    this.#onClose(ws, GAVE_UP, reason);
  }

  #onMessage(data: unknown): void {
    this.#heardAt = Date.now();
    if (typeof data !== 'string') return;
    let message: ServerMessage;
    try {
      message = serverMessageSchema.parse(JSON.parse(data));
    } catch {
      this.emit('error', DuetClientError.unreadable());
      return;
    }
    if (message.type === 'welcome') {
      this.#attempt = 0;
      this.#setStatus('open');
      this.#welcomed?.resolve();
      this.#welcomed = undefined;
    }
    this.emit('message', message);
  }

  #onClose(ws: WebSocket, code: number, reason = ''): void {
    if (ws !== this.#ws) return;
    clearInterval(this.#watch);
    this.#setStatus('closed');
    this.#welcomed?.reject(DuetClientError.socketClosed(code));
    this.#welcomed = undefined;
    const retry = !this.#closedByOwner && !isFinalClose(code);
    // A saturated server says when to come back (server_busy); that is no failure, so the backoff does not grow.
    const busyMs = code === CLOSE.busy ? retryAfterOf(reason) : undefined;
    const delay = !retry ? null : busyMs !== undefined ? busyMs : this.#delays[Math.min(this.#attempt++, this.#delays.length - 1)]!;
    this.emit('closed', { code, retryInMs: delay });
    if (delay === null) return;
    this.#retryTimer = setTimeout(() => {
      if (!this.#closedByOwner) this.open().catch(() => undefined);
    }, delay);
  }

  #setStatus(status: ConnectionStatus): void {
    if (status === this.#status) return;
    this.#status = status;
    this.emit('status', status);
  }
}
