/**
 * Reproduces a lost-update (ABA) in the Redis pool's claim, found by `bench:matchmaking` with
 * several nodes (see docs/benchmarks.md). An entry's version restarts at 1 whenever the entry is
 * created anew, so a claim prepared from a read of a person's *previous* wait still succeeds against
 * their new one: they are paired on stale criteria, blocks and recent partners.
 *
 *   npx tsx bench/redis-claim-aba.ts      (prints the outcome; exits 1 while the bug is there)
 *
 * The in-flight claim of node A is replayed by calling the pool's own Lua command with the versions
 * A read; that is exactly what RedisPool.matchFor sends after its reads.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisPool } from '../packages/server/src/matchmaking/redisPool.js';
import { DEFAULT_POLICY, type Ticket } from '../packages/server/src/matchmaking/rules.js';
import { out } from './lib/stats.js';

const t = (userId: string, o: Partial<Ticket> = {}): Ticket => ({
  userId,
  mode: 'chat',
  language: 'en',
  region: undefined,
  interests: [],
  joinedAt: 0,
  blocked: new Set(),
  recent: [],
  ...o,
});

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `duet-bench:{aba-${process.pid}-${randomBytes(3).toString('hex')}}:`;
const r1 = new Redis(url);
const r2 = new Redis(url);
try {
  const nodeA = new RedisPool({ redis: r1, prefix, policy: DEFAULT_POLICY });
  const nodeB = new RedisPool({ redis: r2, prefix, policy: DEFAULT_POLICY });
  // Node A reads self and x (both version 1) and is about to claim them together...
  await nodeA.enqueue(t('self', { joinedAt: 1 }));
  await nodeA.enqueue(t('x', { joinedAt: 2 }));
  const vSelf = await r1.hget(`${prefix}t:self`, 'v');
  const vX = await r1.hget(`${prefix}t:x`, 'v');
  // ...meanwhile node B pairs x with y, and x comes straight back (Next) now speaking French and
  // having blocked self.
  await nodeB.remove('self');
  await nodeB.enqueue(t('y', { joinedAt: 3 }));
  const pairB = await nodeB.matchFor('y', 4);
  await nodeB.enqueue(t('self', { joinedAt: 1 }));
  await nodeB.enqueue(t('x', { joinedAt: 5, language: 'fr', blocked: new Set(['self']) }));
  const vXNow = await r1.hget(`${prefix}t:x`, 'v');
  // Node A's claim arrives with the versions it read before.
  const claim = (r1 as unknown as { duetClaim: (...a: Array<string | null>) => Promise<number> }).duetClaim;
  const won = await claim.call(r1, prefix, 'self', vSelf, 'x', vX);
  out(
    `node B matched ${pairB === 'retry' ? 'nobody (retry)' : pairB?.map((p) => p.userId).join('+')}; x re-entered with version ${vXNow} (read as ${vX} before)`,
  );
  out(
    `node A's stale claim of self+x: ${won === 1 ? 'WON — x (French, blocking self) is paired with self on stale data' : 'lost (fixed)'}`,
  );
  if (won === 1) process.exitCode = 1;
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
