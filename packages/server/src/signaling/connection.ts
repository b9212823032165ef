import {
  CLOSE,
  ERRORS,
  PROTOCOL_VERSION,
  parseClientMessage,
  type ClientMessage,
  type ErrorCode,
  type ServerMessage,
} from '@duet/protocol';
import type { RawData, WebSocket } from 'ws';
import { DuetError } from '../errors.js';
import { LIMIT_MESSAGES, limitedKind, type LimitedKind } from '../safety/limits.js';
import { TokenBucket } from '../util/tokenBucket.js';
import type { HubOptions } from './ports.js';

type ConnectionState = 'greeting' | 'authenticating' | 'ready' | 'closing' | 'closed';

/** What a connection tells the hub that holds it (SignalingHub): who it is, and when it is done. */
export interface ConnectionRegistry {
  register(userId: string, c: Connection): void;
  unregister(userId: string, c: Connection, reason: 'connection_lost' | 'heartbeat_timeout'): void;
  greeted(c: Connection): void;
  forget(c: Connection): void;
  forgetUser(userId: string, c: Connection): void;
}

/** The error listener every socket gets (ws throws without one); the errors are logged by socketErrorHandler. */
const ignore = (): void => undefined;

/**
 * One socket. Thousands are held at once, so it keeps little: no logger of its own (lines name the
 * address and person instead), the error-reply bucket and the ordering queue only once needed, and
 * nothing of the hello timer once hello is done.
 */
export class Connection {
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
    readonly hub: ConnectionRegistry,
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
      const [blockedWith, admission] = await Promise.all([this.o.safety.blockedWith(user.id), this.o.admission(user)]);
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
