import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** A token bucket's shape: `burst` tokens at most, refilled at `perSecond`. */
export interface Rate {
  readonly perSecond: number;
  readonly burst: number;
}

/** One bucket to take a token from: a limit's name, its rate, and whose bucket (a user id, an address). */
export interface Charge {
  readonly name: string;
  readonly rate: Rate;
  readonly key: string;
}

/**
 * Where the buckets live. `take` takes one token from every bucket named, or from none when any of
 * them is empty, and says which. Time is passed in, never read.
 */
export interface LimitStore {
  take(charges: readonly Charge[], now: number): Promise<boolean>;
}

interface Bucket {
  tokens: number;
  at: number;
  /** When the bucket is full again: from then on it is the same as no entry. */
  fullAt: number;
}

export interface MemoryLimitStoreOptions {
  /** Hard cap on buckets kept; beyond it the least recently used go first. */
  maxEntries?: number;
  /** How often full buckets are swept out. */
  sweepEveryMs?: number;
}

/** Buckets in a Map, for a single node. Memory stays bounded: full buckets are dropped, and there is a cap. */
export class MemoryLimitStore implements LimitStore {
  // Insertion order is last-use order: a bucket is re-inserted each time it is charged.
  readonly #buckets = new Map<string, Bucket>();
  readonly #maxEntries: number;
  readonly #sweepEveryMs: number;
  #sweptAt = Number.NEGATIVE_INFINITY;

  constructor(options: MemoryLimitStoreOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 100_000;
    this.#sweepEveryMs = options.sweepEveryMs ?? 60_000;
  }

  get size(): number {
    return this.#buckets.size;
  }

  take(charges: readonly Charge[], now: number): Promise<boolean> {
    return Promise.resolve(this.takeNow(charges, now));
  }

  /** The same decision, synchronously. */
  takeNow(charges: readonly Charge[], now: number): boolean {
    if (now - this.#sweptAt >= this.#sweepEveryMs) this.#sweep(now);
    const levels = charges.map((c) => {
      const id = `${c.name}:${c.key}`;
      const b = this.#buckets.get(id);
      const tokens = b ? Math.min(c.rate.burst, b.tokens + (Math.max(0, now - b.at) / 1000) * c.rate.perSecond) : c.rate.burst;
      return { id, rate: c.rate, tokens };
    });
    // A refusal changes nothing: the refill is computed from the last charge.
    if (levels.some((l) => l.tokens < 1)) return false;
    for (const { id, rate, tokens } of levels) {
      const left = tokens - 1;
      this.#buckets.delete(id);
      this.#buckets.set(id, { tokens: left, at: now, fullAt: now + ((rate.burst - left) / rate.perSecond) * 1000 });
    }
    for (const id of this.#buckets.keys()) {
      if (this.#buckets.size <= this.#maxEntries) break;
      this.#buckets.delete(id);
    }
    return true;
  }

  #sweep(now: number): void {
    this.#sweptAt = now;
    for (const [id, b] of this.#buckets) if (b.fullAt <= now) this.#buckets.delete(id);
  }
}

/**
 * KEYS: the buckets; ARGV: now, then perSecond and burst for each key → 1 when a token was taken from
 * every bucket, 0 (and nothing taken) when any is empty. A bucket is one string, "<tokens> <at>",
 * that expires when it would be full: a GET and a SET each (every join and Next takes one).
 */
const TAKE = `
local now = tonumber(ARGV[1])
local levels = {}
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[i * 2])
  local burst = tonumber(ARGV[i * 2 + 1])
  local tokens = burst
  local b = redis.call('GET', key)
  if b then
    local t, at = string.match(b, '^(%S+) (%S+)$')
    if t then tokens = math.min(burst, tonumber(t) + math.max(0, now - tonumber(at)) / 1000 * rate) end
  end
  if tokens < 1 then return 0 end
  levels[i] = tokens
end
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[i * 2])
  local burst = tonumber(ARGV[i * 2 + 1])
  local left = levels[i] - 1
  redis.call('SET', key, tostring(left) .. ' ' .. tostring(now), 'PX', math.max(1, math.ceil((burst - left) / rate * 1000)))
end
return 1
`;

export interface RedisLimitStoreOptions {
  redis: Redis;
  /** Key prefix with the cluster's hash tag ("duet:{pool}:"), so one script may touch several buckets. */
  prefix: string;
  log: Logger;
  /** A decision Redis has not answered by then is made locally instead. */
  timeoutMs?: number;
}

/**
 * Buckets in Redis, shared by every node: one Lua script per decision (one round trip, atomic).
 * When Redis fails or is slow, the decision is made by a local store, so limits degrade to per node
 * instead of stopping chat and matching.
 */
export class RedisLimitStore implements LimitStore {
  readonly #o: Required<RedisLimitStoreOptions>;
  readonly #local = new MemoryLimitStore();
  #warnedAt = Number.NEGATIVE_INFINITY;

  constructor(options: RedisLimitStoreOptions) {
    this.#o = { timeoutMs: 500, ...options };
    this.#o.redis.defineCommand('duetLimitTake', { lua: TAKE });
  }

  async take(charges: readonly Charge[], now: number): Promise<boolean> {
    if (charges.length === 0) return true;
    const keys = charges.map((c) => `${this.#o.prefix}rl:${c.name}:${c.key}`);
    const args = charges.flatMap((c) => [c.rate.perSecond, c.rate.burst]);
    const command = (this.#o.redis as unknown as { duetLimitTake(...a: Array<string | number>): Promise<number> }).duetLimitTake;
    let timer: NodeJS.Timeout | undefined;
    try {
      const answer = await Promise.race([
        command.call(this.#o.redis, keys.length, ...keys, now, ...args),
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${this.#o.timeoutMs} ms`)), this.#o.timeoutMs);
        }),
      ]);
      return answer === 1;
    } catch (err) {
      // One warning a minute at most: a Redis outage must not flood the log either.
      if (now - this.#warnedAt >= 60_000) {
        this.#warnedAt = now;
        this.#o.log.warn({ err: (err as Error).message }, 'rate limits: Redis unavailable, deciding on this node');
      }
      return this.#local.takeNow(charges, now);
    } finally {
      clearTimeout(timer);
    }
  }
}
