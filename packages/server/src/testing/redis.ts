import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** The Redis the test machines run (PRODUCT.md); override with REDIS_URL. */
export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A fresh key prefix for one test run, and a function that deletes every key under it. */
export function testPrefix(): { prefix: string; cleanup: (redis: Redis) => Promise<void> } {
  const prefix = `duet-test:{${process.pid}-${randomBytes(4).toString('hex')}}:`;
  return {
    prefix,
    cleanup: async (redis) => {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
    },
  };
}

export function connectRedis(): Redis {
  return new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 2, lazyConnect: false });
}
