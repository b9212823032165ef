import type { Redis } from 'ioredis';
import type { MatchResult, TopInterest, WaitingPool } from './pool.js';
import type { MatchPolicy, Ticket } from './rules.js';
import { search, searchAsync, type Page, type PageRequest } from './search.js';
import { bucketKey, fromStored, inOfferOrder, tagList, toStored, type StoredTicket } from './ticket.js';

/*
 * Layout under `prefix` (give it a hash tag, e.g. "duet:{pool}:", so every key shares one slot):
 *   t:<id>                 hash: json (criteria, blocks, recent), joinedAt, mode, lang, tags, v (version)
 *   q:<mode>:<lang>        zset: id by joinedAt — everyone waiting in that mode and language
 *   i:<mode>:<lang>:<tag>  zset: id by joinedAt — the same people by interest
 *   tags                   zset: tag by how many wait with it
 *   lease                  zset: id by lease expiry; the owning node renews it, a sweep drops the lapsed
 *   all                    zset: id by joinedAt — the whole pool
 *   seq                    counter: entry versions, never reused
 *   alive:<node>           string with a TTL, kept by each live node (cluster/cluster.ts)
 * Every change to these is one Lua script, so no node ever sees half of one.
 */
const LIB = `
local function unindex(p, id, mode, lang, tags, joinedAt)
  redis.call('ZREM', p .. 'q:' .. mode .. ':' .. lang, id)
  for tag in string.gmatch(tags, '[^,]+') do
    redis.call('ZREM', p .. 'i:' .. mode .. ':' .. lang .. ':' .. tag, id)
    if tonumber(redis.call('ZINCRBY', p .. 'tags', -1, tag)) <= 0 then redis.call('ZREM', p .. 'tags', tag) end
  end
  redis.call('ZREM', p .. 'lease', id)
  redis.call('ZREM', p .. 'all', id)
end
local function drop(p, id)
  local key = p .. 't:' .. id
  local f = redis.call('HMGET', key, 'mode', 'lang', 'tags', 'joinedAt')
  if not f[1] then return 0 end
  unindex(p, id, f[1], f[2], f[3], f[4])
  redis.call('DEL', key)
  return 1
end
`;

/** ARGV: prefix, id, json, mode, lang, tags, joinedAt, leaseUntil, node → { joinedAt, version } */
const ENQUEUE = `${LIB}
local p, id = ARGV[1], ARGV[2]
local key = p .. 't:' .. id
local old = redis.call('HMGET', key, 'mode', 'lang', 'tags', 'joinedAt', 'v')
-- Versions come from a counter that never restarts: an entry that left and came back never
-- carries a version an old read could still hold (no ABA on claims).
local joinedAt, v = ARGV[7], redis.call('INCR', p .. 'seq')
if old[1] then
  joinedAt = old[4]
  unindex(p, id, old[1], old[2], old[3], old[4])
end
local mode, lang, tags = ARGV[4], ARGV[5], ARGV[6]
redis.call('HSET', key, 'json', ARGV[3], 'joinedAt', joinedAt, 'mode', mode, 'lang', lang, 'tags', tags, 'v', v, 'node', ARGV[9])
redis.call('ZADD', p .. 'q:' .. mode .. ':' .. lang, joinedAt, id)
for tag in string.gmatch(tags, '[^,]+') do
  redis.call('ZADD', p .. 'i:' .. mode .. ':' .. lang .. ':' .. tag, joinedAt, id)
  redis.call('ZINCRBY', p .. 'tags', 1, tag)
end
redis.call('ZADD', p .. 'lease', ARGV[8], id)
redis.call('ZADD', p .. 'all', joinedAt, id)
return { joinedAt, v }
`;

/** ARGV: prefix, id → 1 when removed */
const REMOVE = `${LIB}
return drop(ARGV[1], ARGV[2])
`;

/**
 * The atomic claim. ARGV: prefix, idA, versionA, idB, versionB. Both entries must still be there,
 * unchanged since they were read, and (in a cluster) their nodes alive; then both leave the pool
 * together. 1 on success, 0 otherwise: of two nodes racing for the same person, exactly one wins.
 * An entry whose node has stopped beating is dropped on the spot, so nobody is matched with a ghost.
 */
const CLAIM = `${LIB}
local p = ARGV[1]
local a = redis.call('HMGET', p .. 't:' .. ARGV[2], 'v', 'node')
local b = redis.call('HMGET', p .. 't:' .. ARGV[4], 'v', 'node')
if a[1] ~= ARGV[3] or b[1] ~= ARGV[5] then return 0 end
local ok = 1
for i, f in ipairs({ a, b }) do
  if f[2] and f[2] ~= '' and redis.call('EXISTS', p .. 'alive:' .. f[2]) == 0 then
    drop(p, ARGV[i * 2])
    ok = 0
  end
end
if ok == 0 then return 0 end
drop(p, ARGV[2])
drop(p, ARGV[4])
return 1
`;

/** ARGV: prefix, now, limit → how many lapsed entries were dropped */
const SWEEP = `${LIB}
local p = ARGV[1]
local ids = redis.call('ZRANGEBYSCORE', p .. 'lease', '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do drop(p, id) end
return #ids
`;

interface Stored {
  ticket: Ticket;
  version: string;
}

export interface RedisPoolOptions {
  redis: Redis;
  /** Key prefix, ideally with a hash tag: "duet:{pool}:". */
  prefix: string;
  policy: MatchPolicy;
  /** An entry whose node stops renewing it leaves the pool this long after its last renewal. */
  leaseMs?: number;
  /** Candidates read per page, and at most per index, when looking for a partner. */
  pageSize?: number;
  scanLimit?: number;
  /** Claims lost to another node before giving up on this attempt. */
  maxClaimAttempts?: number;
}

/**
 * The shared waiting pool in Redis, for several Duet nodes. Reads happen outside Lua (so the
 * rules and the search order stay in TypeScript, shared with the in-process pool); the claim is
 * one Lua script that checks both entries' versions and removes both, so a person is never handed
 * to two partners. The counts shown to people are a snapshot taken by `refresh()` (the cluster
 * runs it every second).
 */
export class RedisPool implements WaitingPool {
  readonly #r: Redis;
  readonly #p: string;
  readonly #o: Required<Omit<RedisPoolOptions, 'redis' | 'prefix'>>;
  #size = 0;
  /** Pool sizes of the buckets this node has enqueued people in, as of the last refresh. */
  readonly #buckets = new Map<string, { mode: string; language: string; size: number }>();
  #top: TopInterest[] = [];

  constructor(options: RedisPoolOptions) {
    this.#r = options.redis;
    this.#p = options.prefix;
    this.#o = { leaseMs: 30_000, pageSize: 32, scanLimit: 256, maxClaimAttempts: 5, ...options };
    this.#r.defineCommand('duetEnqueue', { numberOfKeys: 0, lua: ENQUEUE });
    this.#r.defineCommand('duetRemove', { numberOfKeys: 0, lua: REMOVE });
    this.#r.defineCommand('duetClaim', { numberOfKeys: 0, lua: CLAIM });
    this.#r.defineCommand('duetSweep', { numberOfKeys: 0, lua: SWEEP });
  }

  async enqueue(t: Ticket, now: number = Date.now()): Promise<void> {
    const tags = tagList(t);
    // Until the next refresh, the person's own bucket counts at least them.
    const key = bucketKey(t.mode, t.language);
    if (!this.#buckets.has(key)) this.#buckets.set(key, { mode: t.mode, language: t.language, size: 1 });
    await this.#cmd(
      'duetEnqueue',
      this.#p,
      t.userId,
      JSON.stringify(toStored(t)),
      t.mode,
      t.language,
      tags,
      t.joinedAt,
      now + this.#o.leaseMs,
      t.node ?? '',
    );
  }

  async remove(userId: string): Promise<boolean> {
    return (await this.#cmd('duetRemove', this.#p, userId)) === 1;
  }

  async has(userId: string): Promise<boolean> {
    return (await this.#r.exists(`${this.#p}t:${userId}`)) === 1;
  }

  async get(userId: string): Promise<Ticket | undefined> {
    return (await this.#read([userId]))[0]?.ticket;
  }

  get size(): number {
    return this.#size;
  }

  poolSize(mode: string, language: string): number {
    return this.#buckets.get(bucketKey(mode, language))?.size ?? 0;
  }

  topInterests(n: number): TopInterest[] {
    return this.#top.slice(0, n);
  }

  async refresh(): Promise<void> {
    const buckets = [...this.#buckets.values()];
    const [size, top, ...sizes] = await Promise.all([
      this.#r.zcard(`${this.#p}all`),
      this.#r.zrevrange(`${this.#p}tags`, 0, 4, 'WITHSCORES'),
      ...buckets.map((b) => this.#bucketSize(b.mode, b.language)),
    ]);
    this.#size = size as number;
    const flat = top as string[];
    const tops: TopInterest[] = [];
    for (let i = 0; i < flat.length; i += 2) tops.push({ tag: flat[i]!, count: Number(flat[i + 1]) });
    // Same order as the in-process pool: count, then tag.
    this.#top = tops.sort((x, y) => y.count - x.count || (x.tag < y.tag ? -1 : 1));
    buckets.forEach((b, i) => (b.size = sizes[i] as number));
  }

  /** Renews the lease of people this node still holds (call every few seconds). */
  async renew(userIds: readonly string[], now: number = Date.now()): Promise<void> {
    if (userIds.length === 0) return;
    const args = userIds.flatMap((id) => [now + this.#o.leaseMs, id]);
    await this.#r.zadd(`${this.#p}lease`, 'XX', ...args);
  }

  /** Drops entries whose lease lapsed (their node crashed); any node may run it. */
  async sweep(now: number = Date.now(), limit = 1000): Promise<number> {
    return Number(await this.#cmd('duetSweep', this.#p, now, limit));
  }

  async matchFor(userId: string, now: number): Promise<MatchResult> {
    for (let attempt = 0; attempt < this.#o.maxClaimAttempts; attempt++) {
      const self = (await this.#read([userId]))[0];
      if (!self) return undefined;
      const partner = await this.#findPartner(self.ticket, now);
      if (!partner) return undefined;
      const won = await this.#cmd('duetClaim', this.#p, userId, self.version, partner.ticket.userId, partner.version);
      if (won === 1) return inOfferOrder(self.ticket, partner.ticket);
      // Another node took one of us first (or an entry changed): look again.
    }
    return 'retry';
  }

  /** The search order of search.ts, its pages read from the bucket's sorted sets. */
  async #findPartner(t: Ticket, now: number): Promise<Stored | undefined> {
    const { pageSize, scanLimit, policy } = this.#o;
    const poolSize = await this.#bucketSize(t.mode, t.language);
    const versions = new Map<Ticket, string>();
    const read = new Set<string>([t.userId]);
    const page = async ({ indexes, start, count }: PageRequest): Promise<Page> => {
      const keys = indexes.map((i) =>
        i === 'everyone' ? `${this.#p}q:${t.mode}:${t.language}` : `${this.#p}i:${t.mode}:${t.language}:${i.tag}`,
      );
      const ids = await Promise.all(keys.map((k) => this.#r.zrange(k, start, start + count - 1)));
      // Each entry is read once per search, however many indexes list it.
      const fresh = ids.flat().filter((id) => !read.has(id));
      for (const id of fresh) read.add(id);
      const stored = await this.#read(fresh);
      for (const s of stored) versions.set(s.ticket, s.version);
      return { candidates: stored.map((s) => s.ticket), exhausted: ids.every((page) => page.length < count) };
    };
    const partner = await searchAsync(search(t, now, policy, poolSize, { pageSize, scanLimit }), page);
    return partner && { ticket: partner, version: versions.get(partner)! };
  }

  #bucketSize(mode: string, language: string): Promise<number> {
    return this.#r.zcard(`${this.#p}q:${mode}:${language}`);
  }

  async #read(ids: string[]): Promise<Stored[]> {
    if (ids.length === 0) return [];
    const pipeline = this.#r.pipeline();
    for (const id of ids) pipeline.hmget(`${this.#p}t:${id}`, 'json', 'joinedAt', 'v');
    const results = (await pipeline.exec()) ?? [];
    const out: Stored[] = [];
    results.forEach(([err, value], i) => {
      if (err) throw err;
      const [json, joinedAt, v] = value as [string | null, string | null, string | null];
      if (json === null || joinedAt === null || v === null) return; // claimed or removed meanwhile
      out.push({ version: v, ticket: fromStored(ids[i]!, JSON.parse(json) as StoredTicket, Number(joinedAt)) });
    });
    return out;
  }

  #cmd(name: string, ...args: Array<string | number>): Promise<unknown> {
    return (this.#r as unknown as Record<string, (...a: Array<string | number>) => Promise<unknown>>)[name]!(...args);
  }
}
