import type { Redis } from 'ioredis';
import type { MatchResult, TopInterest, WaitingPool } from './pool.js';
import type { MatchPolicy, Ticket } from './rules.js';
import { bucketKey, decodeTicket, encodeTicket, inOfferOrder, redisBucket } from './ticket.js';

/*
 * Layout under `prefix` (give it a hash tag, e.g. "duet:{pool}:", so every key shares one slot):
 *   d                      hash: id → the compact record (ticket.ts encodeTicket): who waits, and
 *                          how (the record names the mode and language, so its bucket "<mode>:<lang>");
 *                          a page of candidates is one HMGET
 *   q:<bucket>             zset: id by joinedAt — everyone waiting in that mode and language
 *   i:<bucket>:<tag>       zset: id by joinedAt — the same people by interest
 *   tags                   zset: tag by how many wait with it
 *   lease                  zset: id by lease expiry; the owning node renews it, a sweep drops the lapsed
 *   alive:<node>           string with a TTL, kept by each live node (cluster/cluster.ts)
 * Every change to these is one Lua script, so no node ever sees half of one.
 *
 * A match decision is one script: it walks the bucket's indexes in the search order of search.ts,
 * applies the rules of rules.ts, and removes the pair, all in one step. Nothing is read outside the
 * script that decides, so there is no claim to lose: of two nodes asking for the same oldest person,
 * the first script takes them and the second finds the next best — no herd, no retries, one round
 * trip per decision. A person who joins and is searched for at once (ENTER) is written only if
 * nobody fits: the one who finds a partner on arrival costs no entry, and no removal.
 */
const LIB = `
local p = ARGV[1]
local D = p .. 'd'
local RECORD = '^' .. string.rep('([^\\31]*)\\31', 8) .. '(.*)$'
local function tagsOf(s)
  local out = {}
  for tag in string.gmatch(s, '[^,]+') do out[#out + 1] = tag end
  return out
end
-- joinedAt, tags and bucket of a stored record.
local function placeOf(rec)
  local joinedAt, tags, _, _, _, mode, lang = string.match(rec, RECORD)
  return joinedAt, tags, mode .. ':' .. lang
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
  redis.call('HDEL', D, unpack(ids))
  redis.call('ZREM', p .. 'lease', unpack(ids))
  for _, tag in ipairs(order) do
    local t = byTag[tag]
    redis.call('ZREM', p .. 'i:' .. bucket .. ':' .. tag, unpack(t.ids))
    if tonumber(redis.call('ZINCRBY', p .. 'tags', -t.n, tag)) <= 0 then redis.call('ZREM', p .. 'tags', tag) end
  end
end
local function drop(id)
  local rec = redis.call('HGET', D, id)
  if not rec then
    redis.call('ZREM', p .. 'lease', id)
    return 0
  end
  local _, tags, bucket = placeOf(rec)
  unindex(bucket, { { id, tagsOf(tags) } })
  return 1
end
`;

/** Writes an entry into every index; with LIB. */
const WRITE = `
local function write(id, bucket, tags, rec, joinedAt, leaseUntil)
  redis.call('HSET', D, id, rec)
  redis.call('ZADD', p .. 'q:' .. bucket, joinedAt, id)
  for _, tag in ipairs(tagsOf(tags)) do
    redis.call('ZADD', p .. 'i:' .. bucket .. ':' .. tag, joinedAt, id)
    redis.call('ZINCRBY', p .. 'tags', 1, tag)
  end
  redis.call('ZADD', p .. 'lease', leaseUntil, id)
end
`;

/** ARGV: prefix, id, bucket, tags, record after joinedAt, joinedAt, leaseUntil → the joinedAt kept */
const ENQUEUE = `${LIB}${WRITE}
local id, bucket, tags, rest, joinedAt = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local old = redis.call('HGET', D, id)
if old then
  local j, oldTags, oldBucket = placeOf(old)
  joinedAt = j
  unindex(oldBucket, { { id, tagsOf(oldTags) } })
end
write(id, bucket, tags, joinedAt .. '\\31' .. rest, joinedAt, ARGV[7])
return joinedAt
`;

/** ARGV: prefix, id → 1 when removed */
const REMOVE = `${LIB}
return drop(ARGV[2])
`;

/** ARGV: prefix, id → the record, or nil */
const GET = `${LIB}
return redis.call('HGET', D, ARGV[2])
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
 * The search for a partner, shared by MATCH and ENTER. ARGV (after the prefix): now, the policy
 * (interestsRequiredMs, regionRequiredMs, recentCount, recentWindowMs, smallPool,
 * relaxRecentAfterMs), the search limits (pageSize, scanLimit) and the deciding node (its own
 * people are alive without asking). Expects \`id\`, \`bucket\`, \`t\` (the person, parsed) and
 * \`counted\` (whether t is in q:<bucket> already) and defines \`partner()\`: the best candidate,
 * still in the pool, or nil.
 *
 * candidate (compatible and accepts, cheapest tests first) and ranksBefore mirror rules.ts, and
 * search/scan mirror search.ts; the contract suite (pool.contract.test.ts) runs both pools side by
 * side on the same random sequences and requires the same partner. Each candidate costs a few
 * microseconds of Redis time, so the search limits (pageSize, scanLimit) bound how long one
 * decision holds Redis. An entry whose node stopped beating is dropped where it is met.
 */
const SEARCH = `
local now = tonumber(ARGV[2])
local iReq, rReq, rCount, rWindow = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local smallPool, relaxAfter = tonumber(ARGV[7]), tonumber(ARGV[8])
local pageSize, scanLimit = tonumber(ARGV[9]), tonumber(ARGV[10])
local alive = { [ARGV[11]] = true }
local function isAlive(node)
  if node == '' then return true end
  if alive[node] == nil then alive[node] = redis.call('EXISTS', p .. 'alive:' .. node) == 1 end
  return alive[node]
end

t.tags = tagsOf(t.tagStr)
local needles = {}
for i, tag in ipairs(t.tags) do needles[i] = ',' .. tag .. ',' end
local tHeld, tVerified, tVerifiedOnly = hasFlag(t, 'h'), hasFlag(t, 'v'), hasFlag(t, 'o')
-- How t appears in another's blocked and recent lists.
local tAsBlocked, tAsRecent = '\\30' .. id .. '\\30', '\\30' .. id .. '\\29'

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
-- Everyone waiting in the bucket, t included: read only when the tiny-pool rule needs it.
local poolSize
local function tiny()
  if poolSize == nil then poolSize = redis.call('ZCARD', p .. 'q:' .. bucket) + (counted and 0 or 1) end
  return poolSize <= smallPool
end
local function stageOfWait(waited)
  if waited >= rReq then return 3 end
  if waited >= iReq then return 2 end
  return 1
end
local tStage = stageOfWait(now - t.joinedAt)
local tRegionField = t.region and ('=' .. t.region) or nil
-- Met recently, and not excused by the tiny-pool rule (rules.ts accepts).
local function avoids(x, xJoinedAt, otherId, needle)
  return metRecently(x, otherId, needle) and not (now - xJoinedAt >= relaxAfter and tiny())
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
-- Index entries with no record (left by another version's layout), taken out once the search is
-- over (not during it: the pages would shift).
local dangling, scanned = {}, {}
local function scan(keys)
  local start = 0
  -- One budget per scan, shared by its indexes (search.ts SearchLimits).
  local limit = math.ceil(scanLimit / #keys)
  while start < limit do
    local count = math.min(pageSize, limit - start)
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
        if not recs[i] then
          dangling[#dangling + 1] = cid
          for _, key in ipairs(keys) do scanned[key] = true end
        end
      end
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
local function partner()
  local c
  for _ = 1, 8 do
    c = search()
    if c == nil or isAlive(c.node) then break end
    drop(c.id)
    c = nil
  end
  if #dangling > 0 then
    for key in pairs(scanned) do redis.call('ZREM', key, unpack(dangling)) end
  end
  return c
end
`;

/** A person's fields, as strings (flags and numbers are looked at where needed); with LIB. */
const PARSE = `
local function parse(cid, rec)
  local joinedAt, tagStr, node, flags, region, mode, lang, blocked, recent = string.match(rec, RECORD)
  return {
    id = cid, rec = rec, joinedAt = tonumber(joinedAt), tagStr = tagStr, node = node, flags = flags,
    region = region ~= '' and string.sub(region, 2) or nil,
    mode = mode, lang = lang, blocked = blocked, recent = recent,
  }
end
local function hasFlag(x, flag) return string.find(x.flags, flag, 1, true) ~= nil end
`;

/**
 * One match decision for a person waiting in the pool. ARGV: prefix, the search's (see SEARCH), id
 * → { id, record, partnerId, partnerRecord } with both removed, or nil.
 */
const MATCH = `${LIB}${PARSE}
local id = ARGV[12]
local rec = redis.call('HGET', D, id)
if not rec then return false end
local t = parse(id, rec)
local _, _, bucket = placeOf(rec)
local counted = true
${SEARCH}
if not isAlive(t.node) then
  drop(id)
  return false
end
local c = partner()
if c == nil then return false end
unindex(bucket, { { id, t.tags }, { c.id, tagsOf(c.tagStr) } })
return { id, t.rec, c.id, c.rec }
`;

/**
 * A person joins and is searched for in one step, as ENQUEUE then MATCH would (a re-join keeps its
 * wait). ARGV: prefix, the search's (see SEARCH), id, bucket, tags, record after joinedAt,
 * joinedAt, leaseUntil → as MATCH; when nobody fits, the person is in the pool.
 */
const ENTER = `${LIB}${WRITE}${PARSE}
local id, bucket, tags, rest = ARGV[12], ARGV[13], ARGV[14], ARGV[15]
local old = redis.call('HGET', D, id)
local joinedAt, oldTags, oldBucket = ARGV[16], nil, nil
if old then joinedAt, oldTags, oldBucket = placeOf(old) end
local t = parse(id, joinedAt .. '\\31' .. rest)
local counted = oldBucket == bucket
${SEARCH}
local c = partner()
if old then unindex(oldBucket, { { id, tagsOf(oldTags) } }) end
if c == nil then
  write(id, bucket, tags, t.rec, joinedAt, ARGV[17])
  return false
end
unindex(bucket, { { c.id, tagsOf(c.tagStr) } })
return { id, t.rec, c.id, c.rec }
`;

export interface RedisPoolOptions {
  redis: Redis;
  /** Key prefix, ideally with a hash tag: "duet:{pool}:". */
  prefix: string;
  policy: MatchPolicy;
  /** An entry whose node stops renewing it leaves the pool this long after its last renewal. */
  leaseMs?: number;
  /** Candidates read per page and index, and at most per scan (shared by its indexes; search.ts), when looking for a partner. */
  pageSize?: number;
  scanLimit?: number;
  /** The node deciding: its own people's entries are alive without asking Redis. */
  node?: string;
}

type Command = (...args: Array<string | number>) => Promise<unknown>;

/** A promise and the means to settle it, for an answer that arrives with another command's reply. */
interface Settles<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
}

function settles<T>(): Settles<T> {
  const s = {} as Settles<T>;
  s.promise = new Promise<T>((resolve, reject) => Object.assign(s, { resolve, reject }));
  return s;
}

/** An entry not sent yet, and the search asked for it in the same turn, if one was. */
interface Entering {
  t: Ticket;
  record: ReturnType<typeof encodeTicket>;
  now: number;
  written: Settles<void>;
  search?: { now: number; found: Settles<MatchResult> };
}

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
  /** The policy, limits and deciding node as the search (MATCH, ENTER) takes them. */
  readonly #searchArgs: Array<string | number>;
  readonly #enqueue: Command;
  readonly #remove: Command;
  readonly #get: Command;
  readonly #sweep: Command;
  readonly #match: Command;
  readonly #enter: Command;
  readonly #renew: Command;
  /**
   * Entries made in this turn of the event loop, sent at its end: a join, a requeue or a Next is an
   * entry then a search for the person, and the two go as one script (ENTER).
   */
  readonly #entering = new Map<string, Entering>();
  #size = 0;
  /** Pool sizes of the buckets this node has enqueued people in, as of the last refresh. */
  readonly #buckets = new Map<string, { mode: string; language: string; size: number }>();
  #top: TopInterest[] = [];

  constructor(options: RedisPoolOptions) {
    this.#r = options.redis;
    this.#p = options.prefix;
    this.#o = { leaseMs: 30_000, pageSize: 32, scanLimit: 256, node: '', ...options };
    const { policy, pageSize, scanLimit, node } = this.#o;
    this.#searchArgs = [
      policy.interestsRequiredMs,
      policy.regionRequiredMs,
      policy.recentCount,
      policy.recentWindowMs,
      policy.smallPool,
      policy.relaxRecentAfterMs,
      pageSize,
      scanLimit,
      node,
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
    this.#enter = define('duetEnter', ENTER);
    this.#renew = define('duetRenew', RENEW);
  }

  /**
   * Written at the end of this turn (see `#entering`), or with the search asked for the person in
   * the same turn.
   */
  async enqueue(t: Ticket, now: number = Date.now()): Promise<void> {
    const record = this.#encode(t);
    if (this.#entering.has(t.userId)) this.#flush();
    if (this.#entering.size === 0) queueMicrotask(() => this.#flush());
    const written = settles<void>();
    this.#entering.set(t.userId, { t, record, now, written });
    return written.promise;
  }

  #encode(t: Ticket): ReturnType<typeof encodeTicket> {
    const record = encodeTicket(t);
    // Until the next refresh, the person's own bucket counts at least them.
    const key = bucketKey(t.mode, t.language);
    if (!this.#buckets.has(key)) this.#buckets.set(key, { mode: t.mode, language: t.language, size: 1 });
    return record;
  }

  /**
   * Sends the entries of this turn, in the order they were made: ENTER for one whose search was
   * asked for meanwhile, ENQUEUE for the rest. Every other command sends them first, so Redis
   * sees the pool's commands in the order they were asked for.
   */
  #flush(): void {
    if (this.#entering.size === 0) return;
    const batch = [...this.#entering.values()];
    this.#entering.clear();
    for (const { t, record, now, written, search } of batch) {
      const { bucket, tags, rest } = record;
      if (search) {
        const decided = this.#enter(
          search.now,
          ...this.#searchArgs,
          t.userId,
          bucket,
          tags,
          rest,
          t.joinedAt,
          search.now + this.#o.leaseMs,
        );
        decided.then(
          (r) => {
            written.resolve();
            search.found.resolve(this.#pair(r));
          },
          (err: unknown) => {
            written.reject(err);
            search.found.reject(err);
          },
        );
      } else {
        this.#enqueue(t.userId, bucket, tags, rest, t.joinedAt, now + this.#o.leaseMs).then(() => written.resolve(), written.reject);
      }
    }
  }

  async remove(userId: string): Promise<boolean> {
    this.#flush();
    return (await this.#remove(userId)) === 1;
  }

  async has(userId: string): Promise<boolean> {
    this.#flush();
    return (await this.#r.hexists(`${this.#p}d`, userId)) === 1;
  }

  async get(userId: string): Promise<Ticket | undefined> {
    this.#flush();
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
    this.#flush();
    const buckets = [...this.#buckets.values()];
    const [size, top, ...sizes] = await Promise.all([
      this.#r.hlen(`${this.#p}d`),
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
    this.#flush();
    return (await this.#renew(now + this.#o.leaseMs, ...userIds)) as string[];
  }

  /** Drops entries whose lease lapsed (their node crashed); any node may run it. */
  async sweep(now: number = Date.now(), limit = 1000): Promise<number> {
    this.#flush();
    return Number(await this.#sweep(now, limit));
  }

  /**
   * One round trip: the MATCH script decides and removes the pair, or, for someone entered in this
   * turn, the ENTER script enters and decides (someone matched on arrival is never written). Never
   * 'retry': nothing is lost to another node.
   */
  async matchFor(userId: string, now: number): Promise<MatchResult> {
    const entering = this.#entering.get(userId);
    if (entering && !entering.search) {
      const found = settles<MatchResult>();
      entering.search = { now, found };
      return found.promise;
    }
    this.#flush();
    return this.#pair(await this.#match(now, ...this.#searchArgs, userId));
  }

  #pair(r: unknown): MatchResult {
    if (r === null) return undefined;
    const [id, record, partnerId, partnerRecord] = r as [string, string, string, string];
    return inOfferOrder(decodeTicket(id, record), decodeTicket(partnerId, partnerRecord));
  }
}
