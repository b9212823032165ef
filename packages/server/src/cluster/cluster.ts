import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import {
  clusterEnvelopeSchema,
  type AnswerTo,
  type ClusterAnswer,
  type ClusterEnvelope,
  type ClusterEvent,
  type ClusterPort,
  type ClusterQuestion,
} from './messages.js';
import { RedisPool } from '../matchmaking/redisPool.js';
import type { MatchPolicy } from '../matchmaking/rules.js';

export interface ClusterOptions {
  redisUrl: string;
  /** Key prefix with a hash tag, e.g. "duet:{pool}:". */
  prefix: string;
  nodeId: string;
  policy: MatchPolicy;
  log: Logger;
  /** How often this node says it is alive; it is presumed dead after three missed beats. */
  heartbeatMs: number;
  /** Pool entries of a node that stops renewing them leave the pool this long after (wall-clock time). */
  leaseMs: number;
}

/**
 * Whether this node can use the shared pool: `unavailable` from the first sign that Redis is gone
 * (a connection error or close, a housekeeping command failing for want of Redis) until a
 * heartbeat succeeds again with both connections up.
 */
export type SharedPoolState = 'up' | 'unavailable';

export interface ClusterEvents {
  /** Redis is gone: pause matching, keep the people waiting here. */
  'pool:down': [];
  /**
   * The pool is usable again and may have lost this node's entries (Redis restarted empty, or
   * this node was presumed dead): put everyone waiting here back, with their original wait.
   */
  'pool:up': [];
}

/**
 * How long the registry remembers the node a person last connected to: a connection older than
 * this is not retired by a newer one on another node.
 */
const CONNECTION_ENTRY_MS = 12 * 3_600_000;

/** Redis answers, but cannot take commands now: as good as gone, for the pool. */
const UNAVAILABLE_REPLY = /^(LOADING|READONLY|MASTERDOWN|OOM|BUSY|TRYAGAIN|CLUSTERDOWN)\b/;

/** What the cluster needs of this node: its people, its calls with a side elsewhere, and an inbox. */
export interface ClusterMember {
  readonly online: number;
  waitingHere(): string[];
  /** People waiting here whose pool entry was claimed by a node that never told this one (it died): enter them again. */
  orphaned(userIds: string[]): void;
  remoteCalls(): Array<{ callId: string; node: string; partner: string }>;
  receive(e: ClusterEvent): void;
  /** Another node's question (the console's view across nodes), answered at once. */
  answer(q: ClusterQuestion): ClusterAnswer;
}

/** What the other live nodes answered within the time given, and which said nothing. */
export interface Answers<A> {
  answers: Array<{ node: string; answer: A }>;
  silent: string[];
}

/**
 * Several Duet nodes sharing one Redis: one waiting pool (atomic claims), and a channel per node
 * for what happens to a call whose two people are connected to different nodes. Each node
 * announces it is alive; calls with a side on a node that went silent end as `connection_lost`,
 * and its pool entries lapse with their leases.
 *
 * Redis can fail. The node then says so once (warn), stops using the pool (its `observer` tells
 * the lobby, which keeps its waiting people and pauses matching), keeps beating as a probe, and when
 * a beat succeeds says so (info) and has the lobby put its waiting people back. A beat that finds
 * this node's `alive` key gone (Redis came back empty unseen, or the node was presumed dead) does
 * the same. Every connection has an `error` listener: nothing reaches ioredis's "Unhandled error".
 */
export class Cluster implements ClusterPort {
  readonly nodeId: string;
  readonly pool: RedisPool;
  readonly observer = new EventEmitter<ClusterEvents>();
  readonly #o: ClusterOptions;
  readonly #redis: Redis;
  readonly #sub: Redis;
  readonly #log: Logger;
  #lobby: ClusterMember | undefined;
  #timers: NodeJS.Timeout[] = [];
  #online = 0;
  #started = false;
  #stopped = false;
  #state: SharedPoolState = 'up';
  #downSince = 0;
  #beating = false;
  /** Until then, nodes that have not beaten since Redis came back are not presumed dead. */
  #graceUntil = 0;
  /** The other nodes, as last read (every second, with the online count): a broadcast needs no read of its own. */
  #others: readonly string[] = [];
  /** Nodes whose online count was there at that read: they beat within the last few seconds. */
  #live = new Set<string>();
  /** People waiting here found without a pool entry at the last renewal (see `#renew`). */
  #unclaimed = new Set<string>();
  /** Questions this node asked, by request id, until their time is up. */
  readonly #asking = new Map<string, (node: string, answer: ClusterAnswer) => void>();

  constructor(options: ClusterOptions) {
    this.#o = options;
    this.nodeId = options.nodeId;
    this.#log = options.log.child({ module: 'cluster', node: options.nodeId });
    this.#redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 3 });
    // No CLIENT SETINFO on the subscriber: it delays ioredis's ready check (INFO) until after SUBSCRIBE,
    // which Redis refuses in subscriber mode, and the connection is torn down (ioredis issue #2037).
    this.#sub = new Redis(options.redisUrl, { maxRetriesPerRequest: 3, disableClientInfo: true });
    this.pool = new RedisPool({
      redis: this.#redis,
      prefix: options.prefix,
      policy: options.policy,
      leaseMs: options.leaseMs,
      node: options.nodeId,
    });
    for (const [name, connection] of [
      ['commands', this.#redis],
      ['subscriber', this.#sub],
    ] as const) {
      connection.on('error', (err: Error) => this.#connectionError(name, err));
      connection.on('close', () => this.#unavailable(`${name} connection closed`));
      connection.on('ready', () => void this.#heartbeat());
    }
  }

  /** `up`, or `unavailable` while Redis is gone (see the class comment). */
  get poolState(): SharedPoolState {
    return this.#state;
  }

  /** The cluster's command connection, for other shared state under the same prefix (rate limits); closed by `stop()`. */
  get redis(): Redis {
    return this.#redis;
  }

  #key(k: string): string {
    return `${this.#o.prefix}${k}`;
  }

  attach(lobby: ClusterMember): void {
    this.#lobby = lobby;
  }

  async start(): Promise<void> {
    await this.#sub.subscribe(this.#key(`node:${this.nodeId}`));
    this.#sub.on('message', (_channel, raw: string) => this.#receive(raw));
    await this.#beat();
    await Promise.all([this.pool.refresh(), this.#countOnline()]);
    this.#started = true;
    if (this.#state === 'unavailable') this.#setState('up', { downMs: Date.now() - this.#downSince });
    // While the pool is unavailable only the heartbeat runs: it is the probe that ends the outage.
    const every = (ms: number, fn: () => Promise<unknown>, always = false) => {
      const t = setInterval(() => {
        if (always || this.#state === 'up') fn().catch((err: unknown) => this.#failed(err));
      }, ms);
      t.unref();
      this.#timers.push(t);
    };
    every(this.#o.heartbeatMs, () => this.#heartbeat(), true);
    every(this.#o.heartbeatMs, () => this.#checkPartners());
    every(Math.max(1_000, Math.floor(this.#o.leaseMs / 3)), () => this.#renew());
    every(Math.max(1_000, Math.floor(this.#o.leaseMs / 6)), () => this.pool.sweep(Date.now()));
    every(1_000, () => Promise.all([this.pool.refresh(), this.#countOnline()]));
    this.#log.info({ prefix: this.#o.prefix }, 'joined the cluster');
  }

  send(nodeId: string, event: ClusterEvent): void {
    const envelope: ClusterEnvelope = { from: this.nodeId, e: event };
    this.#redis.publish(this.#key(`node:${nodeId}`), JSON.stringify(envelope)).catch((err: unknown) => this.#failed(err, nodeId));
  }

  /**
   * A person connected here at `at`. The node that holds their previous connection, as the
   * registry of connections says (`c:<userId>`, the last node each person connected to), is told
   * to retire it (`replaced`), and only that node: one command per connection, however many nodes
   * there are, and nobody else reads a message about a stranger. When that node is gone, every
   * other node is told: one of them may hold a call with the person's dead connection.
   */
  async connected(userId: string, at: number): Promise<void> {
    const before = await this.#redis.set(this.#key(`c:${userId}`), this.nodeId, 'PX', CONNECTION_ENTRY_MS, 'GET');
    if (before === null || before === this.nodeId) return;
    const event: ClusterEvent = { t: 'replaced', userId, node: this.nodeId, at };
    if (this.#live.has(before)) this.send(before, event);
    else await this.broadcast(event);
  }

  /**
   * One event to every other node of the cluster, as known at the last read of the node list (at
   * most a second old): a ban or a hold costs a publish per other node and no read. A node that
   * joined within that second misses it, which only matters for a connection it already holds.
   */
  async broadcast(event: ClusterEvent): Promise<void> {
    if (!this.#started) await this.#readNodes();
    for (const node of this.#others) this.send(node, event);
  }

  async #readNodes(): Promise<readonly string[]> {
    const nodes = await this.#redis.smembers(this.#key('nodes'));
    this.#others = nodes.filter((n) => n !== this.nodeId);
    return nodes;
  }

  /**
   * Asks every other live node and gathers what they answer within `timeoutMs`. A node that is dead
   * or slow is named in `silent` rather than failing the question: the console shows the rest.
   */
  async ask<Q extends ClusterQuestion>(question: Q, timeoutMs: number): Promise<Answers<AnswerTo<Q>>> {
    if (this.#stopped) return { answers: [], silent: [] };
    const nodes = await this.#redis.smembers(this.#key('nodes'));
    const others = nodes.filter((n) => n !== this.nodeId);
    const dead = new Set(await this.deadNodes(others));
    const waiting = new Set(others.filter((n) => !dead.has(n)));
    const answers: Array<{ node: string; answer: AnswerTo<Q> }> = [];
    if (waiting.size === 0) return { answers, silent: [] };
    const req = randomUUID();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#asking.set(req, (node, answer) => {
        if (!waiting.delete(node) || answer.q !== question.q) return;
        answers.push({ node, answer: answer as AnswerTo<Q> });
        if (waiting.size > 0) return;
        clearTimeout(timer);
        resolve();
      });
      for (const node of waiting) this.send(node, { t: 'ask', req, question });
    });
    this.#asking.delete(req);
    return { answers, silent: [...waiting].sort() };
  }

  /** People online across every live node, and waiting in the shared pool. */
  presence(): { online: number; waiting: number } {
    return { online: Math.max(this.#online, this.#lobby?.online ?? 0), waiting: this.pool.size };
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const t of this.#timers) clearInterval(t);
    if (this.#state === 'unavailable') {
      // Nothing to tidy in a Redis that is gone, and nothing to wait for.
      this.#sub.disconnect();
      this.#redis.disconnect();
      return;
    }
    await this.#redis.del(this.#key(`alive:${this.nodeId}`), this.#key(`online:${this.nodeId}`)).catch(() => undefined);
    await this.#redis.srem(this.#key('nodes'), this.nodeId).catch(() => undefined);
    await Promise.all([this.#sub.quit(), this.#redis.quit()]).catch(() => undefined);
  }

  /** Of these nodes, those that stopped saying they are alive. */
  async deadNodes(nodes: readonly string[]): Promise<string[]> {
    if (nodes.length === 0) return [];
    const alive = await this.#redis.mget(nodes.map((n) => this.#key(`alive:${n}`)));
    return nodes.filter((_, i) => alive[i] === null);
  }

  /** For tests: vanish without a word, as a crashed node would. */
  crash(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearInterval(t);
    this.#sub.disconnect();
    this.#redis.disconnect();
  }

  #receive(raw: string): void {
    let envelope: ClusterEnvelope;
    try {
      const parsed = clusterEnvelopeSchema.safeParse(JSON.parse(raw));
      if (!parsed.success) throw new Error(parsed.error.message);
      envelope = parsed.data;
    } catch (err) {
      this.#log.warn({ err: (err as Error).message.slice(0, 200) }, 'unreadable cluster message');
      return;
    }
    try {
      const e = envelope.e;
      if (e.t === 'answer') this.#asking.get(e.req)?.(envelope.from, e.answer);
      else if (e.t === 'ask') {
        if (this.#lobby) this.send(envelope.from, { t: 'answer', req: e.req, answer: this.#lobby.answer(e.question) });
      } else this.#lobby?.receive(e);
    } catch (err) {
      this.#log.error({ err, from: envelope.from, t: envelope.e?.t }, 'cluster message failed');
    }
  }

  /** Says this node is alive; true when its `alive` key was still there (Redis kept what this node wrote). */
  async #beat(): Promise<boolean> {
    const alive = this.#key(`alive:${this.nodeId}`);
    const replies = await this.#redis
      .multi()
      .exists(alive)
      .set(alive, String(Date.now()), 'PX', this.#o.heartbeatMs * 3)
      .sadd(this.#key('nodes'), this.nodeId)
      .exec();
    const failed = replies?.find(([err]) => err !== null)?.[0];
    if (!replies || failed) throw failed ?? new Error('heartbeat transaction aborted');
    return replies[0]![1] === 1;
  }

  /**
   * The heartbeat, and the probe during an outage: once a beat succeeds with both connections up,
   * the pool is back. One at a time (a `ready` event may start one between two timer ticks).
   */
  async #heartbeat(): Promise<void> {
    if (this.#beating || this.#stopped || !this.#started) return;
    this.#beating = true;
    try {
      const kept = await this.#beat();
      if (this.#state === 'unavailable') {
        // A match made elsewhere arrives on the subscriber: be sure it listens again (ioredis
        // resubscribes on reconnect; this reply comes after that one) before anyone here is back in the pool.
        await this.#sub.subscribe(this.#key(`node:${this.nodeId}`));
        this.#graceUntil = Date.now() + this.#o.heartbeatMs * 3;
        this.#setState('up', { downMs: Date.now() - this.#downSince, waiting: this.#lobby?.waitingHere().length ?? 0 });
      } else if (!kept) {
        this.#graceUntil = Date.now() + this.#o.heartbeatMs * 3;
        this.#log.info(
          { waiting: this.#lobby?.waitingHere().length ?? 0 },
          'this node was missing from Redis (restarted empty, or presumed dead); its waiting people go back in the pool',
        );
        this.observer.emit('pool:up');
      }
    } catch (err) {
      this.#failed(err);
    } finally {
      this.#beating = false;
    }
  }

  /** A command failed: an outage when Redis is gone, otherwise worth a warning of its own. */
  #failed(err: unknown, to?: string): void {
    if (this.#stopped) return;
    const message = err instanceof Error ? err.message : String(err);
    const gone =
      this.#redis.status !== 'ready' ||
      UNAVAILABLE_REPLY.test(message) ||
      (err instanceof Error && err.name === 'MaxRetriesPerRequestError') ||
      message === 'Connection is closed.';
    if (gone || this.#state === 'unavailable') this.#unavailable(message);
    else this.#log.warn({ err, ...(to ? { to } : {}) }, 'cluster command failed');
  }

  /** A socket error is an outage (the close follows); anything else a connection reports is worth a warning. */
  #connectionError(name: string, err: Error): void {
    if (this.#stopped) return;
    if ('syscall' in err || this.#state === 'unavailable') this.#unavailable(`${name} connection: ${err.message}`);
    else this.#log.warn({ err }, `cluster ${name} connection error`);
  }

  /** The first sign of an outage is logged (warn) and announced; the rest of it only at debug. */
  #unavailable(reason: string): void {
    if (this.#stopped) return;
    if (this.#state === 'unavailable') return void this.#log.debug({ reason }, 'shared pool still unavailable');
    this.#downSince = Date.now();
    this.#setState('unavailable', { reason });
  }

  /** The one place the pool's state changes: no-op moves ignored, `from -> to` logged, then announced. */
  #setState(to: SharedPoolState, details: Record<string, unknown>): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    if (to === 'unavailable') {
      this.#log.warn({ ...details, from, to }, 'shared pool unavailable: matching paused, people waiting here keep their place');
      this.observer.emit('pool:down');
    } else {
      this.#log.info({ ...details, from, to }, 'shared pool back: people waiting here go back in the pool and are matched');
      this.observer.emit('pool:up');
    }
  }

  async #countOnline(): Promise<void> {
    const here = this.#lobby?.online ?? 0;
    await this.#redis.set(this.#key(`online:${this.nodeId}`), String(here), 'PX', 5_000);
    const nodes = await this.#readNodes();
    if (nodes.length === 0) return;
    const counts = await this.#redis.mget(nodes.map((n) => this.#key(`online:${n}`)));
    this.#online = counts.reduce((sum, c) => sum + (c === null ? 0 : Number(c)), 0);
    this.#live = new Set(nodes.filter((_, i) => counts[i] !== null));
  }

  /**
   * Renews the leases of the people waiting here. One whose entry is gone was claimed by another
   * node, whose `matched` normally arrives within milliseconds (and they stop waiting here). Still
   * waiting and still without an entry at the next renewal, the claimer died between its claim and
   * its message: they go back in the pool, or they would wait for ever. A `matched` that comes even
   * later finds them in another call or waiting again, and the lobby deals with it as with any
   * late claim.
   */
  async #renew(): Promise<void> {
    const missing = await this.pool.renew(this.#lobby?.waitingHere() ?? [], Date.now());
    const orphaned = missing.filter((id) => this.#unclaimed.has(id));
    this.#unclaimed = new Set(missing);
    if (orphaned.length === 0) return;
    this.#log.warn({ people: orphaned.length }, 'claimed by a node that never said so: entering them again');
    for (const id of orphaned) this.#unclaimed.delete(id);
    this.#lobby?.orphaned(orphaned);
  }

  /**
   * Ends calls whose other side is on a node that stopped beating, and tells that node: one held
   * up past its `alive` key (a long pause, a starved process) is presumed dead but lives on, and
   * would otherwise keep its side of the call, its person stranded in it. It ends that side as the
   * server's doing (`endedBy` null), so its person is requeued; a node really dead hears nothing.
   */
  async #checkPartners(): Promise<void> {
    const lobby = this.#lobby;
    if (!lobby) return;
    const remote = lobby.remoteCalls();
    // Just after an outage the other nodes may not have beaten yet: silence then is not death.
    if (remote.length === 0 || Date.now() < this.#graceUntil) return;
    const nodes = [...new Set(remote.map((r) => r.node))];
    const alive = await this.#redis.mget(nodes.map((n) => this.#key(`alive:${n}`)));
    const dead = new Set(nodes.filter((_, i) => alive[i] === null));
    for (const r of remote) {
      if (!dead.has(r.node)) continue;
      this.#log.warn({ callId: r.callId, node: r.node }, 'partner node went silent; ending the call');
      lobby.receive({ t: 'ended', callId: r.callId, reason: 'connection_lost', endedBy: r.partner });
      this.send(r.node, { t: 'ended', callId: r.callId, reason: 'connection_lost', endedBy: null });
    }
  }
}
