import { describe, expect, it } from 'vitest';
import { useTestServer } from './harness.js';

describe('connection limits', () => {
  const server = useTestServer({ env: { WS_MAX_PER_ADDRESS: '3' } });

  it('refuses sockets beyond the per-address limit with a plain error, and frees the slot on close', async () => {
    const s = server();
    const open = await Promise.all([s.rawClient('1'), s.rawClient('2'), s.rawClient('3')]);
    const fourth = await s.rawClient('4');
    expect(await fourth.nextError('rate_limited')).toMatchObject({ message: expect.stringContaining('Too many connections') });
    expect((await fourth.waitForClose()).code).toBe(1008);
    await open[0]!.close();
    const fifth = await s.rawClient('5');
    const guest = await s.guest();
    expect(await fifth.hello(guest.token)).toMatchObject({ type: 'welcome' });
  });
});
