/**
 * The lost-update (ABA) once found in the Redis pool's claim by `bench:matchmaking` with several
 * nodes (see docs/benchmarks.md): a claim prepared from a read of a person's *previous* wait
 * succeeded against their new one, pairing them on stale criteria, blocks and recent partners.
 * Since issue 12 a decision reads and claims inside one Lua script, so there is no read to go
 * stale; this replays the old scenario against that and checks it.
 *
 *   npx tsx bench/redis-claim-aba.ts      (prints the outcome; exits 1 if a stale pairing happens)
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisPool } from '../packages/server/src/matchmaking/redisPool.js';
import { DEFAULT_POLICY } from '../packages/server/src/matchmaking/rules.js';
import { out } from './lib/stats.js';
import { ticket as t } from '../packages/server/src/testing/tickets.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `duet-bench:{aba-${process.pid}-${randomBytes(3).toString('hex')}}:`;
const r1 = new Redis(url);
const r2 = new Redis(url);
try {
  const nodeA = new RedisPool({ redis: r1, prefix, policy: DEFAULT_POLICY });
  const nodeB = new RedisPool({ redis: r2, prefix, policy: DEFAULT_POLICY });
  // Node A is about to decide for self, with x (older, compatible) waiting...
  await nodeA.enqueue(t('self', { joinedAt: 2 }));
  await nodeA.enqueue(t('x', { joinedAt: 1 }));
  // ...node B pairs x with y, and x comes straight back (Next) having blocked self, while node A's
  // decision is on its way.
  await nodeB.enqueue(t('y', { joinedAt: 0 }));
  const pairB = await nodeB.matchFor('x', 3);
  const decisionA = nodeA.matchFor('self', 4);
  await nodeB.enqueue(t('x', { joinedAt: 5, blocked: new Set(['self']) }));
  const pairA = await decisionA;
  const names = (r: typeof pairA) => (r === 'retry' ? 'nobody (retry)' : (r?.map((p) => p.userId).join('+') ?? 'nobody'));
  const stale = pairA !== 'retry' && pairA?.some((p) => p.userId === 'x') === true;
  out(`node B matched ${names(pairB)}; x re-entered having blocked self`);
  out(`node A's decision for self: ${names(pairA)} — ${stale ? 'STALE: paired with the x that blocked them' : 'no stale pairing'}`);
  if (stale) process.exitCode = 1;
} finally {
  let cursor = '0';
  do {
    const [next, keys] = await r1.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await r1.unlink(...keys);
  } while (cursor !== '0');
  r1.disconnect();
  r2.disconnect();
}
