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

  constructor(options: SignalConnectionOptions) {
    super();
    this.#o = options;
    this.#delays = options.reconnectDelaysMs ?? RECONNECT_DELAYS_MS;
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
    this.#ws?.close(CLOSE.normal, 'bye');
  }

  #onMessage(data: unknown): void {
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
