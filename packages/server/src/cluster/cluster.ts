import { randomUUID } from 'node:crypto';
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

/** What the cluster needs of this node: its people, its calls with a side elsewhere, and an inbox. */
export interface ClusterMember {
  readonly online: number;
  waitingHere(): string[];
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
 */
export class Cluster implements ClusterPort {
  readonly nodeId: string;
  readonly pool: RedisPool;
  readonly #o: ClusterOptions;
  readonly #redis: Redis;
  readonly #sub: Redis;
  readonly #log: Logger;
  #lobby: ClusterMember | undefined;
  #timers: NodeJS.Timeout[] = [];
  #online = 0;
  #stopped = false;
  /** Questions this node asked, by request id, until their time is up. */
  readonly #asking = new Map<string, (node: string, answer: ClusterAnswer) => void>();

  constructor(options: ClusterOptions) {
    this.#o = options;
    this.nodeId = options.nodeId;
    this.#log = options.log.child({ module: 'cluster', node: options.nodeId });
    this.#redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 3 });
    this.#sub = new Redis(options.redisUrl, { maxRetriesPerRequest: 3 });
    this.pool = new RedisPool({ redis: this.#redis, prefix: options.prefix, policy: options.policy, leaseMs: options.leaseMs });
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
    await this.pool.refresh();
    const every = (ms: number, fn: () => Promise<unknown>) => {
      const t = setInterval(() => fn().catch((err: unknown) => this.#log.warn({ err }, 'cluster housekeeping failed')), ms);
      t.unref();
      this.#timers.push(t);
    };
    every(this.#o.heartbeatMs, () => this.#beat());
    every(this.#o.heartbeatMs, () => this.#checkPartners());
    every(Math.max(1_000, Math.floor(this.#o.leaseMs / 3)), () => this.pool.renew(this.#lobby?.waitingHere() ?? [], Date.now()));
    every(Math.max(1_000, Math.floor(this.#o.leaseMs / 6)), () => this.pool.sweep(Date.now()));
    every(1_000, () => Promise.all([this.pool.refresh(), this.#countOnline()]));
    this.#log.info({ prefix: this.#o.prefix }, 'joined the cluster');
  }

  send(nodeId: string, event: ClusterEvent): void {
    const envelope: ClusterEnvelope = { from: this.nodeId, e: event };
    this.#redis
      .publish(this.#key(`node:${nodeId}`), JSON.stringify(envelope))
      .catch((err: unknown) => this.#log.error({ err, to: nodeId }, 'cluster publish failed'));
  }

  /** One event to every other node of the cluster. */
  async broadcast(event: ClusterEvent): Promise<void> {
    const nodes = await this.#redis.smembers(this.#key('nodes'));
    for (const node of nodes) if (node !== this.nodeId) this.send(node, event);
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

  async #beat(): Promise<void> {
    await this.#redis
      .multi()
      .set(this.#key(`alive:${this.nodeId}`), String(Date.now()), 'PX', this.#o.heartbeatMs * 3)
      .sadd(this.#key('nodes'), this.nodeId)
      .exec();
  }

  async #countOnline(): Promise<void> {
    const here = this.#lobby?.online ?? 0;
    await this.#redis.set(this.#key(`online:${this.nodeId}`), String(here), 'PX', 5_000);
    const nodes = await this.#redis.smembers(this.#key('nodes'));
    if (nodes.length === 0) return;
    const counts = await this.#redis.mget(nodes.map((n) => this.#key(`online:${n}`)));
    this.#online = counts.reduce((sum, c) => sum + (c === null ? 0 : Number(c)), 0);
  }

  /** Ends calls whose other side is on a node that stopped beating. */
  async #checkPartners(): Promise<void> {
    const lobby = this.#lobby;
    if (!lobby) return;
    const remote = lobby.remoteCalls();
    if (remote.length === 0) return;
    const nodes = [...new Set(remote.map((r) => r.node))];
    const alive = await this.#redis.mget(nodes.map((n) => this.#key(`alive:${n}`)));
    const dead = new Set(nodes.filter((_, i) => alive[i] === null));
    for (const r of remote) {
      if (!dead.has(r.node)) continue;
      this.#log.warn({ callId: r.callId, node: r.node }, 'partner node went silent; ending the call');
      lobby.receive({ t: 'ended', callId: r.callId, reason: 'connection_lost', endedBy: r.partner });
    }
  }
}
