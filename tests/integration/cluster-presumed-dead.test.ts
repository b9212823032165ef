import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../packages/server/src/testing/postgres.js';
import { connectRedis, testPrefix } from '../../packages/server/src/testing/redis.js';
import { TestServer } from './harness.js';

/**
 * A node held up past its `alive` key (a long pause, a starved process) is presumed dead by the
 * others, who end their calls with it, yet it lives on. It must end its side of those calls too:
 * otherwise its person stays in a call whose partner has long moved on, and is never matched again.
 */
describe('a node presumed dead that lives on', () => {
  let n1: TestServer;
  let n2: TestServer;
  let dropDb: () => Promise<void>;
  const redis = connectRedis();
  const { prefix, cleanup } = testPrefix();

  beforeAll(async () => {
    const db = await createTestDatabase();
    dropDb = db.drop;
    const env = {
      DATABASE_URL: db.url,
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      REDIS_PREFIX: prefix,
      DUET_SECRET: 'presumed-dead-test-secret-0123456789',
      CLUSTER_HEARTBEAT_MS: '200',
      MATCH_INTERESTS_WAIT_MS: '0',
      MATCH_REGION_WAIT_MS: '0',
      CONNECT_TIMEOUT_MS: '60000',
    };
    n1 = await TestServer.start({ env: { ...env, NODE_ID: 'n1' } });
    n2 = await TestServer.start({ env: { ...env, NODE_ID: 'n2' } });
  });

  afterAll(async () => {
    await n1?.stop();
    await n2?.stop();
    await dropDb?.();
    await cleanup(redis);
    redis.disconnect();
  });

  afterEach(async () => {
    await n1.releaseClients();
    await n2.releaseClients();
  });

  it('ends its side of the calls the others ended, and its person is requeued', async () => {
    const a = await n1.client('a');
    const b = await n2.client('b');
    a.send({ type: 'join' });
    await a.next('queued');
    b.send({ type: 'join' });
    await b.next('queued');
    const { callId } = await a.next('matched');
    expect((await b.next('matched')).callId).toBe(callId);

    // n2 goes on beating, but its key keeps lapsing at once, as if n2 were held up past each beat,
    // until n1 finds it gone and ends the call.
    let holding = true;
    const lapse = (async () => {
      while (holding) {
        await redis.del(`${prefix}alive:n2`);
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    try {
      const ended = await a.next('call_ended', undefined, 5_000);
      expect(ended).toMatchObject({ callId, reason: 'connection_lost', by: 'partner', then: 'waiting' });
    } finally {
      holding = false;
      await lapse;
    }

    // n2 was never gone: it ends the call too, as the server's doing, and b goes back to waiting.
    expect(await b.next('call_ended', undefined, 5_000)).toMatchObject({
      callId,
      reason: 'connection_lost',
      by: 'server',
      then: 'waiting',
    });
    expect(n2.duet.lobby.calls.get(callId)).toBeUndefined();
    await b.next('queued'); // its client answered `requeue`
    expect(n2.duet.lobby.statusOf(b.userId)).not.toBe('idle');
  });
});
