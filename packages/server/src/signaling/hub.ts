import { CLOSE, ERRORS, retryAfterReason, type ServerMessage } from '@duet/protocol';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { Connection, type ConnectionRegistry } from './connection.js';
import type { HubOptions } from './ports.js';

export type { Admission, HubCluster, HubOptions, MeteringPort, TelemetryPort } from './ports.js';
/** WebSocket close codes: defined in the protocol (the SDK decides on them), re-exported for the server's parts. */
export { CLOSE };

/**
 * Owns the signaling sockets: authenticates each, validates every frame at the edge, rate-limits,
 * and hands intents to the lobby. The only module that knows about WebSockets.
 */
export class SignalingHub implements ConnectionRegistry {
  readonly #byUser = new Map<string, Connection>();
  readonly #all = new Set<Connection>();
  /** Connections that have not said hello yet, or whose hello is being checked. */
  readonly #greeting = new Set<Connection>();
  /** Open sockets per client address: one address cannot hold the server's memory hostage. */
  readonly #perAddress = new Map<string, number>();
  readonly #o: Required<HubOptions>;
  readonly #heartbeat: NodeJS.Timeout;

  constructor(options: HubOptions) {
    this.#o = { helloTimeoutMs: 10_000, maxPerAddress: 100, maxPendingHellos: 1_000, busyRetryAfterMs: 2_000, ...options };
    this.#heartbeat = setInterval(() => {
      for (const c of this.#all) c.heartbeat();
    }, this.#o.heartbeatIntervalMs);
    this.#heartbeat.unref();
  }

  get connections(): number {
    return this.#all.size;
  }

  /** Sends to a person's current connection; a person without one is simply not reached. */
  send = (userId: string, message: ServerMessage): void => {
    this.#byUser.get(userId)?.send(message);
  };

  /**
   * One message to many: serialised once, written in slices of 500 sockets per turn of the event
   * loop, so a broadcast to thousands never holds up signaling.
   */
  broadcast = (userIds: string[], message: ServerMessage): void => {
    const frame = JSON.stringify(message);
    const sendSlice = (from: number) => {
      for (const userId of userIds.slice(from, from + 500)) this.#byUser.get(userId)?.sendFrame(frame);
      if (from + 500 < userIds.length) setImmediate(() => sendSlice(from + 500));
    };
    sendSlice(0);
  };

  attach(socket: WebSocket, remoteAddress: string): void {
    const open = this.#perAddress.get(remoteAddress) ?? 0;
    if (open >= this.#o.maxPerAddress) {
      socket.send(
        JSON.stringify({
          type: 'error',
          code: 'rate_limited',
          message: 'Too many connections from your network. Close some tabs and try again.',
        }),
      );
      socket.close(CLOSE.policy, 'too many connections');
      return;
    }
    if (this.#greeting.size >= this.#o.maxPendingHellos) {
      const retryAfterMs = Math.round(this.#o.busyRetryAfterMs * (1 + Math.random()));
      socket.send(JSON.stringify({ type: 'error', code: 'server_busy', message: ERRORS.server_busy }));
      socket.close(CLOSE.busy, retryAfterReason(retryAfterMs));
      return;
    }
    this.#perAddress.set(remoteAddress, open + 1);
    const c = new Connection(this, socket, this.#o, remoteAddress);
    this.#all.add(c);
    this.#greeting.add(c);
  }

  /** Hellos not yet answered on this node. */
  get pendingHellos(): number {
    return this.#greeting.size;
  }

  /** A person was banned while connected: they are told why, and their connection closes. */
  kick(userId: string, ban: { reason: string; until: number | null; appeal: string }): void {
    const c = this.#byUser.get(userId);
    if (!c) return;
    this.#byUser.delete(userId);
    c.send({ type: 'banned', ...ban });
    c.retire(CLOSE.banned, 'banned');
  }

  /** Stops heartbeats and closes every socket after its queued messages are flushed. */
  closeAll(code: number, reason: string): void {
    clearInterval(this.#heartbeat);
    for (const c of this.#all) c.close(code, reason);
  }

  /**
   * The same person connected to another node at `elsewhere.at`: their connection here, if older,
   * gives way as a replaced tab does (`session_replaced`, 4002). Both nodes compare the same pair of
   * (time, node), so of two connections made at once exactly one survives. False when the one here
   * is the newer.
   */
  retireOlder(userId: string, elsewhere: { node: string; at: number }): boolean {
    const c = this.#byUser.get(userId);
    if (!c) return true;
    const since = c.since;
    const node = this.#o.cluster?.nodeId ?? '';
    if (since > elsewhere.at || (since === elsewhere.at && node > elsewhere.node)) return false;
    this.#replace(userId, c);
    return true;
  }

  // Called by connections.
  register(userId: string, c: Connection): void {
    const previous = this.#byUser.get(userId);
    if (previous && previous !== c) this.#replace(userId, previous);
    const at = this.#o.clock.now();
    this.#byUser.set(userId, c);
    c.since = at;
    this.#o.cluster?.connected(userId, at);
  }

  #replace(userId: string, previous: Connection): void {
    previous.sendError('session_replaced');
    this.unregister(userId, previous, 'connection_lost');
    previous.retire(CLOSE.replaced, 'session replaced');
  }

  unregister(userId: string, c: Connection, reason: 'connection_lost' | 'heartbeat_timeout'): void {
    if (this.#byUser.get(userId) !== c) return;
    this.#byUser.delete(userId);
    this.#o.lobby.disconnect(userId, reason);
  }

  /** The connection's hello is done (welcomed or refused): it no longer counts as pending. */
  greeted(c: Connection): void {
    this.#greeting.delete(c);
  }

  forget(c: Connection): void {
    this.#greeting.delete(c);
    if (!this.#all.delete(c)) return;
    const left = (this.#perAddress.get(c.remoteAddress) ?? 1) - 1;
    if (left > 0) this.#perAddress.set(c.remoteAddress, left);
    else this.#perAddress.delete(c.remoteAddress);
  }

  /** Undoes `register` when the lobby refused the person. */
  forgetUser(userId: string, c: Connection): void {
    if (this.#byUser.get(userId) === c) this.#byUser.delete(userId);
  }
}

/**
 * Errors on an established socket (the WebSocket plugin's errorHandler). A client breaking the
 * protocol — above all a frame over the size cap — is the client's doing and cheap to repeat, so it
 * costs one warn line per connection, without a stack; the socket closes with the matching code
 * (1009 for a frame too large) and is cut if the client does not finish the close handshake.
 */
export function socketErrorHandler(log: Logger): (err: Error, socket: WebSocket, req: { ip: string }) => void {
  const logged = new WeakSet<WebSocket>();
  return (err, socket, req) => {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code.startsWith('WS_ERR_')) {
      const tooLarge = code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';
      if (!logged.has(socket)) {
        logged.add(socket);
        log.warn(
          { remoteAddress: req.ip, code },
          tooLarge ? 'websocket frame over the size cap: closed' : 'websocket protocol error: closed',
        );
      }
      // ws has normally sent the close frame already; make sure of it.
      if (socket.readyState === socket.OPEN) socket.close(tooLarge ? CLOSE.tooLarge : 1002);
      const cut = setTimeout(() => socket.terminate(), 2_000);
      cut.unref();
      socket.once('close', () => clearTimeout(cut));
      return;
    }
    if (code === 'ECONNRESET' || code === 'EPIPE') log.debug({ remoteAddress: req.ip, code }, 'websocket reset by the client');
    else log.error({ err, remoteAddress: req.ip }, 'websocket failed');
    socket.terminate();
  };
}
