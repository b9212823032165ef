import {
  ERRORS,
  PROTOCOL_VERSION,
  parseClientMessage,
  type ClientMessage,
  type ClientMessageOf,
  type ErrorCode,
  type ServerMessage,
} from '@duet/protocol';
import type { Logger } from 'pino';
import type { RawData, WebSocket } from 'ws';
import type { UserRepository } from '../identity/users.js';
import type { TokenIssuer } from '../identity/tokens.js';
import type { PeoplePort } from '../lobby/ports.js';
import type { SafetyRepository } from '../safety/blocks.js';
import { LIMIT_MESSAGES, limitedKind, type LimitedKind, type PersonLimiter } from '../safety/limits.js';
import { DuetError } from '../errors.js';
import type { Clock } from '../util/clock.js';
import { TokenBucket } from '../util/tokenBucket.js';

/** Where telemetry messages from browsers go; kept off the lobby, which runs the calls. */
export interface TelemetryPort {
  stats(userId: string, m: ClientMessageOf<'stats'>): void;
  funnel(userId: string, step: ClientMessageOf<'funnel'>['step']): void;
}

/** The meter: heartbeats carry the evidence of media, and credit decides who may queue. */
export interface MeteringPort {
  heartbeat(userId: string, m: ClientMessageOf<'heartbeat'>): void;
  assertCanQueue(userId: string): Promise<void>;
}

/**
 * With several nodes: this node's id, and how the others hear that someone connected here (their
 * older connection there gives way, see `retireOlder`).
 */
export interface HubCluster {
  readonly nodeId: string;
  connected(userId: string, at: number): void;
}

/** Who may come in: a banned person is told why and turned away. */
export type Admission = (userId: string) => Promise<{ ban?: { reason: string; until: number | null; appeal: string }; held: boolean }>;

export interface HubOptions {
  lobby: PeoplePort;
  telemetry: TelemetryPort;
  metering: MeteringPort;
  admission: Admission;
  users: UserRepository;
  safety: SafetyRepository;
  /** Joining, skipping, chat and reports: limits kept per person (and address), across reconnects and nodes. */
  limits: PersonLimiter;
  tokens: TokenIssuer;
  clock: Clock;
  log: Logger;
  /** Undefined on a single node. */
  cluster: HubCluster | undefined;
  heartbeatIntervalMs: number;
  /** A connection that has not said hello by then is closed. */
  helloTimeoutMs?: number;
  /** Open sockets allowed per client address (a browser needs one). */
  maxPerAddress?: number;
  /**
   * Sockets that have not finished hello (authenticating, looking the person up) beyond which a new
   * socket is turned away with CLOSE.busy and a retry-after, so a crowd queues in the SDKs' waits
   * rather than in this node's memory and event loop.
   */
  maxPendingHellos?: number;
  /** The retry-after such a refusal names; each picks between this and twice this. */
  busyRetryAfterMs?: number;
}

/** WebSocket close codes: defined in the protocol (the SDK decides on them), re-exported for app.ts. */
import { CLOSE, retryAfterReason } from '@duet/protocol';
export { CLOSE };

type ConnectionState = 'greeting' | 'authenticating' | 'ready' | 'closing' | 'closed';

/**
 * Owns the signaling sockets: authenticates each, validates every frame at the edge, rate-limits,
 * and hands intents to the lobby. The only module that knows about WebSockets.
 */
export class SignalingHub {
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

/** The error listener every socket gets (ws throws without one); the errors are logged by socketErrorHandler. */
const ignore = (): void => undefined;

/**
 * One socket. Thousands are held at once, so it keeps little: no logger of its own (lines name the
 * address and person instead), the error-reply bucket and the ordering queue only once needed, and
 * nothing of the hello timer once hello is done.
 */
class Connection {
  #state: ConnectionState = 'greeting';
  #userId: string | undefined;
  #alive = true;
  #timedOut = false;
  /** When this connection registered its person: across nodes, the newest wins. */
  since = 0;
  /** All frames: generous for trickle ICE bursts, tight enough that a flood costs little. */
  readonly #frames: TokenBucket;
  /** Error replies are rate-limited too, so a flood cannot make the server amplify it (made at the first). */
  #errors: TokenBucket | undefined;
  #cancelHelloTimeout: (() => void) | undefined;
  /**
   * A person's limits may live in Redis, so deciding one is asynchronous. The lobby stays
   * synchronous: a limited message waits here for its decision, and every later message of this
   * socket waits behind it, so one socket's messages still act in the order they were sent.
   */
  #queue: Promise<void> | undefined;
  #queued = 0;

  constructor(
    readonly hub: SignalingHub,
    readonly socket: WebSocket,
    readonly o: Required<HubOptions>,
    readonly remoteAddress: string,
  ) {
    this.#frames = new TokenBucket(50, 200, o.clock.now());
    this.#cancelHelloTimeout = o.clock.after(o.helloTimeoutMs, () => {
      // Also a hello whose lookups hang: nobody holds a socket without being let in.
      if (this.#state === 'greeting' || this.#state === 'authenticating') this.retire(CLOSE.helloTimeout, 'no hello');
    });
    socket.on('message', (data, isBinary) => this.#onFrame(data, isBinary));
    socket.on('pong', () => {
      this.#alive = true;
    });
    // Logged once by socketErrorHandler (the WebSocket plugin's errorHandler); a listener keeps ws from throwing.
    socket.on('error', ignore);
    socket.on('close', () => this.#onClose());
  }

  /** What every log line of this connection names. */
  #about(): { remoteAddress: string; userId?: string } {
    return this.#userId === undefined ? { remoteAddress: this.remoteAddress } : { remoteAddress: this.remoteAddress, userId: this.#userId };
  }

  #stopHelloTimeout(): void {
    this.#cancelHelloTimeout?.();
    this.#cancelHelloTimeout = undefined;
  }

  send(message: ServerMessage): void {
    this.sendFrame(JSON.stringify(message));
  }

  sendFrame(frame: string): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(frame);
  }

  sendError(code: ErrorCode, message: string = ERRORS[code], ref?: string): void {
    const now = this.o.clock.now();
    if (!(this.#errors ??= new TokenBucket(5, 20, now)).take(now)) return;
    this.send(ref === undefined ? { type: 'error', code, message } : { type: 'error', code, message, ref });
  }

  /** Stops acting on anything this socket still sends, then closes it. */
  retire(code: number, reason: string): void {
    if (this.#state !== 'closed') this.#state = 'closing';
    this.close(code, reason);
  }

  close(code: number, reason: string): void {
    if (this.socket.readyState === this.socket.OPEN || this.socket.readyState === this.socket.CONNECTING) {
      this.socket.close(code, reason);
    }
  }

  heartbeat(): void {
    if (!this.#alive) {
      this.#timedOut = true;
      this.o.log.info(this.#about(), 'heartbeat timeout');
      this.socket.terminate();
      return;
    }
    this.#alive = false;
    if (this.socket.readyState === this.socket.OPEN) this.socket.ping();
  }

  #onClose(): void {
    const wasReady = this.#state === 'ready';
    this.#state = 'closed';
    this.#stopHelloTimeout();
    this.hub.forget(this);
    if (wasReady && this.#userId) {
      this.hub.unregister(this.#userId, this, this.#timedOut ? 'heartbeat_timeout' : 'connection_lost');
      this.o.log.info(this.#about(), 'disconnected');
    }
  }

  #onFrame(data: RawData, isBinary: boolean): void {
    if (this.#state === 'closed' || this.#state === 'closing') return;
    if (!this.#frames.take(this.o.clock.now())) {
      this.sendError('rate_limited');
      return;
    }
    if (isBinary) {
      this.sendError('invalid_message', 'Binary frames are not part of the protocol.');
      return;
    }
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
    const parsed = parseClientMessage(buf.toString('utf8'), buf.byteLength);
    if (!parsed.ok) {
      this.sendError(parsed.code, parsed.message, parsed.ref);
      return;
    }
    const m = parsed.message;
    if (this.#state !== 'ready') {
      if (m.type === 'hello' && this.#state === 'greeting') void this.#hello(m.v, m.token);
      else this.sendError('not_authenticated', undefined, m.type);
      return;
    }
    this.#act(this.#userId!, m);
  }

  /** Dispatches at once unless a limit must be asked first or earlier messages are still waiting. */
  #act(userId: string, m: ClientMessage): void {
    const kind = limitedKind(m.type);
    if (kind === undefined && this.#queued === 0) {
      this.#run(m, () => this.#dispatch(userId, m));
      return;
    }
    this.#queued += 1;
    this.#queue = (this.#queue ?? Promise.resolve())
      .then(async () => {
        const allowed = kind === undefined || (await this.#allowed(userId, kind, m));
        if (allowed) this.#run(m, () => this.#dispatch(userId, m));
        else if (m.type === 'report')
          this.#run(m, () => this.o.lobby.report(userId, m, false)); // still ends and blocks
        else if (kind === 'moves' || kind === 'chat')
          this.#run(m, () => {
            throw new DuetError('rate_limited', LIMIT_MESSAGES[kind]);
          });
      })
      .catch((err: unknown) => this.o.log.error({ ...this.#about(), err, type: m.type }, 'rate-limited message failed'))
      .finally(() => {
        // Nothing waiting: let go of the chain (most sockets never need one again).
        if (--this.#queued === 0) this.#queue = undefined;
      });
  }

  async #allowed(userId: string, kind: LimitedKind, m: ClientMessage): Promise<boolean> {
    if (this.#state !== 'ready') return true; // #run will drop it
    // A report naming a call that is not theirs is refused by the lobby; it costs nothing.
    if (m.type === 'report' && this.o.lobby.callOf(userId)?.id !== m.callId) return true;
    return this.o.limits.take(kind, { userId, address: this.remoteAddress }, this.o.clock.now());
  }

  /** Runs one intent; a DuetError goes back to the client with its code, anything else is logged. */
  #run(m: ClientMessage, work: () => void): void {
    if (this.#state !== 'ready') return;
    try {
      work();
    } catch (err) {
      if (err instanceof DuetError) {
        this.sendError(err.code, err.message, m.type);
      } else {
        this.o.log.error({ ...this.#about(), err, type: m.type }, 'message handler failed');
        this.sendError('internal', undefined, m.type);
      }
    }
  }

  #dispatch(userId: string, m: ClientMessage): void {
    const lobby = this.o.lobby;
    switch (m.type) {
      case 'hello':
        throw new DuetError('already_authenticated');
      case 'join':
        // Credit is checked first (a database read), then the join runs as any other intent.
        void this.o.metering.assertCanQueue(userId).then(
          () =>
            this.#run(m, () =>
              lobby.join(userId, {
                interests: m.interests ?? [],
                language: m.language,
                region: m.region,
                mode: m.mode,
                privacy: m.privacy,
                verifiedOnly: m.verifiedOnly,
              }),
            ),
          (err: unknown) =>
            this.#run(m, () => {
              throw err;
            }),
        );
        return;
      case 'heartbeat':
        // With several nodes, the node that matched the call meters it.
        if (lobby.forwardHeartbeat(userId, m)) return;
        return this.o.metering.heartbeat(userId, m);
      case 'next':
        // From idle, Next (naming no call) is a join: the same credit check first.
        if (m.callId === undefined && lobby.statusOf(userId) === 'idle') {
          void this.o.metering.assertCanQueue(userId).then(
            () => this.#run(m, () => lobby.next(userId, null)),
            (err: unknown) =>
              this.#run(m, () => {
                throw err;
              }),
          );
          return;
        }
        return lobby.next(userId, m.callId ?? null);
      case 'leave':
        return lobby.leave(userId, m.callId ?? null);
      case 'requeue':
        return lobby.requeue(userId, m.callId);
      case 'signal':
        return lobby.signal(userId, m);
      case 'peer_state':
        return lobby.peerState(userId, m.callId, m.state);
      case 'chat':
        return lobby.chat(userId, m.callId, m.text);
      case 'block':
        return lobby.block(userId, m.callId);
      case 'report':
        return lobby.report(userId, m);
      case 'ping':
        return this.send({ type: 'pong' });
      case 'stats':
        return this.o.telemetry.stats(userId, m);
      case 'funnel':
        return this.o.telemetry.funnel(userId, m.step);
      case 'ice_refresh':
        return lobby.iceRefresh(userId, m.callId);
      default: {
        const unhandled: never = m;
        throw new Error(`unhandled message ${(unhandled as ClientMessage).type}`);
      }
    }
  }

  async #hello(v: number, token: string): Promise<void> {
    if (v !== PROTOCOL_VERSION) {
      this.sendError('unsupported_version', `This server speaks protocol version ${PROTOCOL_VERSION}; reload the page.`);
      this.retire(CLOSE.unsupportedVersion, 'unsupported version');
      return;
    }
    this.#state = 'authenticating';
    try {
      const userId = await this.o.tokens.verify(token);
      const user = userId ? await this.o.users.get(userId) : undefined;
      if (!user) {
        this.sendError('invalid_token');
        this.retire(CLOSE.invalidToken, 'invalid token');
        return;
      }
      const [blockedWith, admission] = await Promise.all([this.o.safety.blockedWith(user.id), this.o.admission(user.id)]);
      if (this.#state !== 'authenticating') return; // closed while we were looking the user up
      if (admission.ban) {
        this.send({ type: 'banned', ...admission.ban });
        this.retire(CLOSE.banned, 'banned');
        return;
      }
      this.#stopHelloTimeout();
      this.hub.register(user.id, this);
      let resumedCallId: string | undefined;
      try {
        ({ resumedCallId } = this.o.lobby.connect(user.id, {
          rulesAccepted: user.rulesAcceptedAt !== null,
          blockedWith,
          held: admission.held,
          verifiedUntil: user.verifiedUntil,
        }));
      } catch (err) {
        this.hub.forgetUser(user.id, this);
        throw err;
      }
      this.#userId = user.id;
      this.#state = 'ready';
      this.hub.greeted(this);
      this.o.log.info({ ...this.#about(), resumedCallId }, 'connected');
      this.send({
        type: 'welcome',
        v: PROTOCOL_VERSION,
        userId: user.id,
        online: this.o.lobby.online,
        ...(resumedCallId ? { callId: resumedCallId } : {}),
      });
    } catch (err) {
      if (err instanceof DuetError) {
        this.sendError(err.code, err.message);
      } else {
        this.o.log.error({ ...this.#about(), err }, 'hello failed');
        this.sendError('internal');
      }
      this.retire(CLOSE.policy, 'hello failed');
    }
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
