import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Assembly } from './assembly.js';

const log = pino({ level: 'silent' });

describe('Assembly', () => {
  it('refuses a part whose needs have not started, and a name used twice', () => {
    const parts = new Assembly(log);
    parts.add({ name: 'storage' }, null);
    expect(() => parts.add({ name: 'meter', needs: ['storage', 'calls'] }, null)).toThrow(
      'part "meter" needs "calls", not started before it',
    );
    expect(() => parts.add({ name: 'storage' }, null)).toThrow('started twice');
  });

  it('drains in start order, then stops and closes in reverse, once, past a failing step', async () => {
    const seen: string[] = [];
    const parts = new Assembly(log);
    const part = (name: string, needs: string[] = [], fail = false) => ({
      name,
      needs,
      drain: () => void seen.push(`drain ${name}`),
      stop: () => void seen.push(`stop ${name}`),
      close: () => {
        seen.push(`close ${name}`);
        if (fail) throw new Error('boom');
      },
    });
    parts.add(part('storage'), null);
    parts.add(part('calls', ['storage'], true), null);
    parts.add(part('hub', ['calls']), null);
    await Promise.all([parts.shutdown(), parts.shutdown()]);
    expect(seen).toEqual([
      'drain storage',
      'drain calls',
      'drain hub',
      'stop hub',
      'stop calls',
      'stop storage',
      'close hub',
      'close calls',
      'close storage',
    ]);
  });
});
