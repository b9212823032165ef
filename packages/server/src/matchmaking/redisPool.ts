import type { Redis } from 'ioredis';
import type { MatchResult, TopInterest, WaitingPool } from './pool.js';
import type { MatchPolicy, Ticket } from './rules.js';
import { bucketKey, decodeTicket, encodeTicket, inOfferOrder, redisBucket } from './ticket.js';

/*
 * Layout under `prefix` (give it a hash tag, e.g. "duet:{pool}:", so every key shares one slot):
 *   w                      hash: id → bucket ("<mode>:<lang>") — who waits, and where
 *   d:<bucket>             hash: id → the compact record (ticket.ts encodeTicket), so a page of
 *                          candidates is one HMGET
 *   q:<bucket>             zset: id by joinedAt — everyone waiting in that mode and language
 *   i:<bucket>:<tag>       zset: id by joinedAt — the same people by interest
 *   tags                   zset: tag by how many wait with it
 *   lease                  zset: id by lease expiry; the owning node renews it, a sweep drops the lapsed
 *   alive:<node>           string with a TTL, kept by each live node (cluster/cluster.ts)
 * Every change to these is one Lua script, so no node ever sees half of one.
 *
 * A match decision is one script (MATCH): it walks the bucket's indexes in the search order of
 * search.ts, applies the rules of rules.ts, and removes the pair, all in one step. Nothing is read
 * outside the script that decides, so there is no claim to lose: of two nodes asking for the same
 * oldest person, the first script takes them and the second finds the next best — no herd, no
 * retries, one round trip per decision.
 */
const LIB = `
local p = ARGV[1]
local function tagsOf(s)
  local out = {}
  for tag in string.gmatch(s, '[^,]+') do out[#out + 1] = tag end
  return out
end
-- Takes people of one bucket out of every index; entries: { id, tags (list) }.
local function unindex(bucket, entries)
  local ids, byTag, order = {}, {}, {}
  for i, e in ipairs(entries) do
    ids[i] = e[1]
    for _, tag in ipairs(e[2]) do
      local t = byTag[tag]
      if not t then t = { n = 0, ids = {} }; byTag[tag] = t; order[#order + 1] = tag end
      t.n = t.n + 1
      if t.ids[#t.ids] ~= e[1] then t.ids[#t.ids + 1] = e[1] end
    end
  end
  redis.call('ZREM', p .. 'q:' .. bucket, unpack(ids))
  redis.call('HDEL', p .. 'd:' .. bucket, unpack(ids))
  redis.call('HDEL', p .. 'w', unpack(ids))
  redis.call('ZREM', p .. 'lease', unpack(ids))
  for _, tag in ipairs(order) do
    local t = byTag[tag]
    redis.call('ZREM', p .. 'i:' .. bucket .. ':' .. tag, unpack(t.ids))
    if tonumber(redis.call('ZINCRBY', p .. 'tags', -t.n, tag)) <= 0 then redis.call('ZREM', p .. 'tags', tag) end
  end
end
local function drop(id)
  local bucket = redis.call('HGET', p .. 'w', id)
  if not bucket then
    redis.call('ZREM', p .. 'lease', id)
    return 0
  end
  local rec = redis.call('HGET', p .. 'd:' .. bucket, id) or ''
  unindex(bucket, { { id, tagsOf(string.match(rec, '^[^\\31]*\\31([^\\31]*)') or '') } })
  return 1
end
`;

/** ARGV: prefix, id, bucket, tags, record after joinedAt, joinedAt, leaseUntil → the joinedAt kept */
const ENQUEUE = `${LIB}
local id, bucket, tags, rest, joinedAt = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local old = redis.call('HGET', p .. 'w', id)
if old then
  local rec = redis.call('HGET', p .. 'd:' .. old, id)
  if rec then
    local j, oldTags = string.match(rec, '^([^\\31]*)\\31([^\\31]*)')
    joinedAt = j
    unindex(old, { { id, tagsOf(oldTags) } })
  end
end
redis.call('HSET', p .. 'w', id, bucket)
redis.call('HSET', p .. 'd:' .. bucket, id, joinedAt .. '\\31' .. rest)
redis.call('ZADD', p .. 'q:' .. bucket, joinedAt, id)
for _, tag in ipairs(tagsOf(tags)) do
  redis.call('ZADD', p .. 'i:' .. bucket .. ':' .. tag, joinedAt, id)
  redis.call('ZINCRBY', p .. 'tags', 1, tag)
end
redis.call('ZADD', p .. 'lease', ARGV[7], id)
return joinedAt
`;

/** ARGV: prefix, id → 1 when removed */
const REMOVE = `${LIB}
return drop(ARGV[2])
`;

/** ARGV: prefix, id → the record, or nil */
const GET = `${LIB}
local bucket = redis.call('HGET', p .. 'w', ARGV[2])
if not bucket then return false end
return redis.call('HGET', p .. 'd:' .. bucket, ARGV[2])
`;

/** ARGV: prefix, now, limit → how many lapsed entries were dropped */
const SWEEP = `${LIB}
local ids = redis.call('ZRANGEBYSCORE', p .. 'lease', '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do drop(id) end
return #ids
`;

/**
 * Renews leases. ARGV: prefix, expiry, ids... → the ids that have no entry any more (another node
 * claimed them — its `matched` is on the way, unless that node died first — or they lapsed).
 */
const RENEW = `
local lease = ARGV[1] .. 'lease'
local missing = {}
for i = 3, #ARGV do
  if redis.call('ZADD', lease, 'XX', 'CH', ARGV[2], ARGV[i]) == 0 and not redis.call('ZSCORE', lease, ARGV[i]) then
    missing[#missing + 1] = ARGV[i]
  end
end
return missing
`;

/**
 * One match decision. ARGV: prefix, id, now, then the policy (interestsRequiredMs,
 * regionRequiredMs, recentCount, recentWindowMs, smallPool, relaxRecentAfterMs) and the search
 * limits (pageSize, scanLimit) → { id, record, partnerId, partnerRecord } with both removed, or nil.
 *
 * candidate (compatible and accepts, cheapest tests first) and ranksBefore mirror rules.ts, and
 * search/scan mirror search.ts; the contract suite (pool.contract.test.ts) runs both pools side by
 * side on the same random sequences and requires the same partner. Each candidate costs a few
 * microseconds of Redis time, so the search limits (pageSize, scanLimit) bound how long one
 * decision holds Redis. An entry whose node stopped beating is dropped where it is met.
 */
const MATCH = `${LIB}
local now = tonumber(ARGV[3])
local iReq, rReq, rCount, rWindow = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local smallPool, relaxAfter = tonumber(ARGV[8]), tonumber(ARGV[9])
local pageSize, scanLimit = tonumber(ARGV[10]), tonumber(ARGV[11])
local id = ARGV[2]
local bucket = redis.call('HGET', p .. 'w', id)
if not bucket then return false end
local D = p .. 'd:' .. bucket

local F = '([^\\31]*)\\31'
local RECORD = '^' .. string.rep(F, 8) .. '(.*)$'
-- A candidate's fields, as strings; flags and numbers are looked at where needed.
local function parse(cid, rec)
  local joinedAt, tagStr, node, flags, region, mode, lang, blocked, recent = string.match(rec, RECORD)
  return {
    id = cid, rec = rec, joinedAt = tonumber(joinedAt), tagStr = tagStr, node = node, flags = flags,
    region = region ~= '' and string.sub(region, 2) or nil,
    mode = mode, lang = lang, blocked = blocked, recent = recent,
  }
end
local function hasFlag(x, flag) return string.find(x.flags, flag, 1, true) ~= nil end

local t = parse(id, redis.call('HGET', D, id))
t.tags = tagsOf(t.tagStr)
local needles = {}
for i, tag in ipairs(t.tags) do needles[i] = ',' .. tag .. ',' end
local tHeld, tVerified, tVerifiedOnly = hasFlag(t, 'h'), hasFlag(t, 'v'), hasFlag(t, 'o')
-- How t appears in another's blocked and recent lists.
local tAsBlocked, tAsRecent = '\\30' .. id .. '\\30', '\\30' .. id .. '\\29'

local alive = {}
local function isAlive(node)
  if node == '' then return true end
  if alive[node] == nil then alive[node] = redis.call('EXISTS', p .. 'alive:' .. node) == 1 end
  return alive[node]
end
if not isAlive(t.node) then
  drop(id)
  return false
end

-- sharedInterests(t, c), counted over t's interests (it is zero both ways or neither).
local function shared(c)
  if c.sh == nil then
    local n = 0
    if c.tagStr ~= '' and #needles > 0 then
      local hay = ',' .. c.tagStr .. ','
      for _, needle in ipairs(needles) do
        if string.find(hay, needle, 1, true) then n = n + 1 end
      end
    end
    c.sh = n
  end
  return c.sh
end
-- needle: '\\30' .. other .. '\\29', how the other appears in x's recent list.
local function metRecently(x, other, needle)
  if x.recent == '' or not string.find(x.recent, needle, 1, true) then return false end
  local list = {}
  for rid, at in string.gmatch(x.recent, '\\30([^\\30\\29]*)\\29([^\\30]*)') do list[#list + 1] = { rid, tonumber(at) } end
  local seen = 0
  for i = #list, 1, -1 do
    if seen >= rCount then break end
    if now - list[i][2] > rWindow then break end
    if list[i][1] == other then return true end
    seen = seen + 1
  end
  return false
end
local poolSize
local function stageOfWait(waited)
  if waited >= rReq then return 3 end
  if waited >= iReq then return 2 end
  return 1
end
local tStage = stageOfWait(now - t.joinedAt)
local tRegionField = t.region and ('=' .. t.region) or nil
-- Met recently, and not excused by the tiny-pool rule (rules.ts accepts).
local function avoids(x, xJoinedAt, otherId, needle)
  return metRecently(x, otherId, needle) and not (poolSize <= smallPool and now - xJoinedAt >= relaxAfter)
end
-- compatible(t, c) of rules.ts, cheapest tests first; the candidate, or nil.
local function candidate(cid, rec)
  if cid == id then return nil end
  local joinedAt, tagStr, node, flags, region, mode, lang, blocked, recent = string.match(rec, RECORD)
  -- t requires its region until its region stage.
  if tStage ~= 3 and tRegionField ~= nil and region ~= tRegionField then return nil end
  if mode ~= t.mode or lang ~= t.lang then return nil end
  if flags == '' then
    if tHeld or tVerifiedOnly then return nil end
  else
    if (string.find(flags, 'h', 1, true) ~= nil) ~= tHeld then return nil end
    if tVerifiedOnly and not string.find(flags, 'v', 1, true) then return nil end
    if not tVerified and string.find(flags, 'o', 1, true) then return nil end
  end
  local cJoinedAt = tonumber(joinedAt)
  local cStage = stageOfWait(now - cJoinedAt)
  -- c requires its region likewise.
  if cStage ~= 3 and region ~= '' and region ~= tRegionField then return nil end
  if blocked ~= '' and string.find(blocked, tAsBlocked, 1, true) then return nil end
  if t.blocked ~= '' and string.find(t.blocked, '\\30' .. cid .. '\\30', 1, true) then return nil end
  local c = {
    id = cid, rec = rec, joinedAt = cJoinedAt, tagStr = tagStr, node = node,
    region = region ~= '' and string.sub(region, 2) or nil, recent = recent,
  }
  -- While strict, each needs a shared interest if they gave any.
  local sh = shared(c)
  if sh == 0 and ((tStage == 1 and #t.tags > 0) or (cStage == 1 and tagStr ~= '')) then return nil end
  if t.recent ~= '' and avoids(t, t.joinedAt, cid, '\\30' .. cid .. '\\29') then return nil end
  if recent ~= '' and avoids(c, cJoinedAt, id, tAsRecent) then return nil end
  return c
end
local function sameRegion(c) return c.region ~= nil and c.region == t.region end
-- rank(t, x, y) < 0
local function ranksBefore(x, y)
  local d = shared(y) - shared(x)
  if d ~= 0 then return d < 0 end
  local r = (sameRegion(y) and 1 or 0) - (sameRegion(x) and 1 or 0)
  if r ~= 0 then return r < 0 end
  return x.joinedAt < y.joinedAt
end
local function unbeatable(c) return shared(c) == #t.tags and (t.region == nil or c.region == t.region) end

local considered, best
local function scan(keys)
  local start = 0
  while start < scanLimit do
    local count = math.min(pageSize, scanLimit - start)
    local exhausted, fresh = true, {}
    for _, key in ipairs(keys) do
      local ids = redis.call('ZRANGE', key, start, start + count - 1)
      if #ids >= count then exhausted = false end
      for _, cid in ipairs(ids) do
        if not considered[cid] then
          considered[cid] = true
          fresh[#fresh + 1] = cid
        end
      end
    end
    if #fresh > 0 then
      local recs = redis.call('HMGET', D, unpack(fresh))
      for i, cid in ipairs(fresh) do
        local c = recs[i] and candidate(cid, recs[i])
        if c then
          if unbeatable(c) then return c end
          if best == nil or ranksBefore(c, best) then best = c end
        end
      end
    end
    if exhausted then break end
    start = start + pageSize
  end
  return nil
end
local function search()
  considered, best = { [id] = true }, nil
  poolSize = redis.call('ZCARD', p .. 'q:' .. bucket)
  if #t.tags > 0 then
    local keys = {}
    for i, tag in ipairs(t.tags) do keys[i] = p .. 'i:' .. bucket .. ':' .. tag end
    local found = scan(keys) or best
    if found then return found end
    if tStage == 1 then return nil end
  end
  return scan({ p .. 'q:' .. bucket }) or best
end

-- A partner on a node that went silent is a ghost: drop them and look again.
for _ = 1, 8 do
  local c = search()
  if c == nil then return false end
  if isAlive(c.node) then
    unindex(bucket, { { id, t.tags }, { c.id, tagsOf(c.tagStr) } })
    return { id, t.rec, c.id, c.rec }
  end
  drop(c.id)
end
return false
`;

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
}

type Command = (...args: Array<string | number>) => Promise<unknown>;

/**
 * The shared waiting pool in Redis, for several Duet nodes. Each change and each match decision
 * is one Lua script: the decision finds the partner (the rules of rules.ts in the order of
 * search.ts) and removes both in the same step, so a person is never handed to two partners and
 * no node ever loses a claim. Tickets are stored as compact records, not JSON. The counts shown to
 * people are a snapshot taken by `refresh()` (the cluster runs it every second).
 */
export class RedisPool implements WaitingPool {
  readonly #r: Redis;
  readonly #p: string;
  readonly #o: Required<Omit<RedisPoolOptions, 'redis' | 'prefix'>>;
  /** The policy and limits as the MATCH script takes them. */
  readonly #matchArgs: number[];
  readonly #enqueue: Command;
  readonly #remove: Command;
  readonly #get: Command;
  readonly #sweep: Command;
  readonly #match: Command;
  readonly #renew: Command;
  #size = 0;
  /** Pool sizes of the buckets this node has enqueued people in, as of the last refresh. */
  readonly #buckets = new Map<string, { mode: string; language: string; size: number }>();
  #top: TopInterest[] = [];

  constructor(options: RedisPoolOptions) {
    this.#r = options.redis;
    this.#p = options.prefix;
    this.#o = { leaseMs: 30_000, pageSize: 32, scanLimit: 256, ...options };
    const { policy, pageSize, scanLimit } = this.#o;
    this.#matchArgs = [
      policy.interestsRequiredMs,
      policy.regionRequiredMs,
      policy.recentCount,
      policy.recentWindowMs,
      policy.smallPool,
      policy.relaxRecentAfterMs,
      pageSize,
      scanLimit,
    ];
    const define = (name: string, lua: string): Command => {
      this.#r.defineCommand(name, { numberOfKeys: 0, lua });
      const command = (this.#r as unknown as Record<string, Command>)[name]!;
      return (...args) => command.apply(this.#r, [this.#p, ...args]);
    };
    this.#enqueue = define('duetEnqueue', ENQUEUE);
    this.#remove = define('duetRemove', REMOVE);
    this.#get = define('duetGet', GET);
    this.#sweep = define('duetSweep', SWEEP);
    this.#match = define('duetMatch', MATCH);
    this.#renew = define('duetRenew', RENEW);
  }

  async enqueue(t: Ticket, now: number = Date.now()): Promise<void> {
    const { bucket, tags, rest } = encodeTicket(t);
    // Until the next refresh, the person's own bucket counts at least them.
    const key = bucketKey(t.mode, t.language);
    if (!this.#buckets.has(key)) this.#buckets.set(key, { mode: t.mode, language: t.language, size: 1 });
    await this.#enqueue(t.userId, bucket, tags, rest, t.joinedAt, now + this.#o.leaseMs);
  }

  async remove(userId: string): Promise<boolean> {
    return (await this.#remove(userId)) === 1;
  }

  async has(userId: string): Promise<boolean> {
    return (await this.#r.hexists(`${this.#p}w`, userId)) === 1;
  }

  async get(userId: string): Promise<Ticket | undefined> {
    const record = (await this.#get(userId)) as string | null;
    return record === null ? undefined : decodeTicket(userId, record);
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
      this.#r.hlen(`${this.#p}w`),
      this.#r.zrevrange(`${this.#p}tags`, 0, 4, 'WITHSCORES'),
      ...buckets.map((b) => this.#r.zcard(`${this.#p}q:${redisBucket(b.mode, b.language)}`)),
    ]);
    this.#size = size as number;
    const flat = top as string[];
    const tops: TopInterest[] = [];
    for (let i = 0; i < flat.length; i += 2) tops.push({ tag: flat[i]!, count: Number(flat[i + 1]) });
    // Same order as the in-process pool: count, then tag.
    this.#top = tops.sort((x, y) => y.count - x.count || (x.tag < y.tag ? -1 : 1));
    buckets.forEach((b, i) => (b.size = sizes[i] as number));
  }

  /**
   * Renews the lease of people this node still holds (call every few seconds), in one round trip.
   * Returns those of them who have no entry any more: claimed by another node (see `Cluster`).
   */
  async renew(userIds: readonly string[], now: number = Date.now()): Promise<string[]> {
    if (userIds.length === 0) return [];
    return (await this.#renew(now + this.#o.leaseMs, ...userIds)) as string[];
  }

  /** Drops entries whose lease lapsed (their node crashed); any node may run it. */
  async sweep(now: number = Date.now(), limit = 1000): Promise<number> {
    return Number(await this.#sweep(now, limit));
  }

  /** One round trip: the MATCH script decides and removes the pair. Never 'retry': nothing is lost to another node. */
  async matchFor(userId: string, now: number): Promise<MatchResult> {
    const r = (await this.#match(userId, now, ...this.#matchArgs)) as [string, string, string, string] | null;
    if (r === null) return undefined;
    return inOfferOrder(decodeTicket(r[0], r[1]), decodeTicket(r[2], r[3]));
  }
}
