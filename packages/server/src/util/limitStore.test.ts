import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { connectRedis, testPrefix } from '../testing/redis.js';
import { MemoryLimitStore, RedisLimitStore, type Charge, type LimitStore } from './limitStore.js';

const perMinute = (n: number, burst: number) => ({ perSecond: n / 60, burst });
const charge = (name: string, key: string, rate = perMinute(6, 3)): Charge => ({ name, key, rate });

const redis = connectRedis();
const { prefix, cleanup } = testPrefix();
afterAll(async () => {
  await cleanup(redis);
  redis.disconnect();
});

// The same contract for both stores; each test uses its own keys.
const stores: Array<[string, () => LimitStore]> = [
  ['memory', () => new MemoryLimitStore()],
  ['redis', () => new RedisLimitStore({ redis, prefix, log: pino({ level: 'silent' }) })],
];

describe.each(stores)('%s limit store', (_name, make) => {
  let n = 0;
  const key = () => `k${(n += 1)}-${Math.random().toString(36).slice(2)}`;

  it('allows the burst, refuses the next, and refills at the rate', async () => {
    const store = make();
    const c = charge('t', key());
    const t0 = 1_000_000;
    const taken = [];
    for (let i = 0; i < 4; i++) taken.push(await store.take([c], t0));
    expect(taken).toEqual([true, true, true, false]);
    expect(await store.take([c], t0 + 9_000)).toBe(false); // 0.9 of a token
    expect(await store.take([c], t0 + 10_000)).toBe(true); // one every 10 s
    expect(await store.take([c], t0 + 10_000)).toBe(false);
    // Never more than the burst, however long the pause.
    const later = t0 + 3_600_000;
    const again = [];
    for (let i = 0; i < 4; i++) again.push(await store.take([c], later));
    expect(again).toEqual([true, true, true, false]);
  });

  it('keeps keys apart, and the same key is the same bucket for every caller', async () => {
    const a = charge('t', key());
    const b = charge('t', key());
    const one = make();
    const other = make(); // another node: same Redis, or (in memory) another process
    for (let i = 0; i < 3; i++) expect(await one.take([a], 0)).toBe(true);
    expect(await one.take([a], 0)).toBe(false);
    expect(await one.take([b], 0)).toBe(true);
    if (_name === 'redis') expect(await other.take([a], 0)).toBe(false);
    else expect(await other.take([a], 0)).toBe(true);
  });

  it('takes from every bucket or from none', async () => {
    const store = make();
    const person = charge('person', key(), perMinute(1, 5));
    const address = charge('address', key(), perMinute(1, 2));
    expect(await store.take([person, address], 0)).toBe(true);
    expect(await store.take([person, address], 0)).toBe(true);
    // The address is spent: refused, and the person's bucket is not charged for it.
    expect(await store.take([person, address], 0)).toBe(false);
    const personAlone = [];
    for (let i = 0; i < 4; i++) personAlone.push(await store.take([person], 0));
    expect(personAlone).toEqual([true, true, true, false]);
  });
});

describe('redis limit store', () => {
  it('keeps its buckets under the prefix, expiring when they would be full again', async () => {
    const store = new RedisLimitStore({ redis, prefix, log: pino({ level: 'silent' }) });
    await store.take([charge('ttl', 'person-1', perMinute(6, 3))], Date.now());
    const ttl = await redis.pttl(`${prefix}rl:ttl:person-1`);
    expect(ttl).toBeGreaterThan(8_000); // one token short: 10 s to refill
    expect(ttl).toBeLessThanOrEqual(10_000);
  });

  it('decides on this node when Redis does not answer', async () => {
    const broken = connectRedis();
    broken.disconnect();
    const store = new RedisLimitStore({ redis: broken, prefix, log: pino({ level: 'silent' }), timeoutMs: 100 });
    const c = charge('down', 'person-1', perMinute(1, 2));
    expect([await store.take([c], 0), await store.take([c], 0), await store.take([c], 0)]).toEqual([true, true, false]);
  });
});

describe('memory limit store', () => {
  it('drops buckets once they are full again, and never keeps more than its cap', () => {
    const store = new MemoryLimitStore({ maxEntries: 100, sweepEveryMs: 1_000 });
    for (let i = 0; i < 50; i++) store.takeNow([charge('t', `p${i}`)], 0);
    expect(store.size).toBe(50);
    store.takeNow([charge('t', 'late')], 20_000); // the 50 refilled (10 s) and are swept
    expect(store.size).toBe(1);
    for (let i = 0; i < 500; i++) store.takeNow([charge('t', `q${i}`)], 20_000);
    expect(store.size).toBe(100);
  });
});
