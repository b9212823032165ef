import { describe, expect, it } from 'vitest';
import { CallStateMachine, canMove } from './callState.js';
import { DuetClientError } from './errors.js';
import type { CallState } from './types.js';

function machine() {
  const changes: string[] = [];
  const lines: string[] = [];
  const m = new CallStateMachine({ onChange: ({ from, to }) => changes.push(`${from}>${to}`), log: (line) => lines.push(line) });
  return { m, changes, lines };
}

describe('CallStateMachine', () => {
  it('walks a call from the queue to its end, announcing and logging each move', () => {
    const { m, changes, lines } = machine();
    for (const to of ['waiting', 'connecting', 'connected', 'reconnecting', 'connected', 'ended', 'waiting'] as const)
      expect(m.transition(to)).toBe(true);
    expect(m.state).toBe('waiting');
    expect(changes).toEqual([
      'idle>waiting',
      'waiting>connecting',
      'connecting>connected',
      'connected>reconnecting',
      'reconnecting>connected',
      'connected>ended',
      'ended>waiting',
    ]);
    expect(lines[0]).toBe('call state: idle -> waiting');
  });

  it('ignores a move to the state it is already in', () => {
    const { m, changes } = machine();
    m.transition('waiting');
    expect(m.transition('waiting')).toBe(false);
    expect(changes).toEqual(['idle>waiting']);
  });

  it('rejects an illegal move with a catalogue code and keeps its state', () => {
    const { m, changes } = machine();
    m.transition('waiting');
    let thrown: unknown;
    try {
      m.transition('connected');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(DuetClientError);
    expect((thrown as DuetClientError).code).toBe('out_of_turn');
    expect((thrown as DuetClientError).message).toContain('waiting -> connected');
    expect(m.state).toBe('waiting');
    expect(changes).toEqual(['idle>waiting']);
  });

  it('only a new match or the queue leads out of an ended call; a call cannot reconnect before it starts', () => {
    const illegal: Array<[CallState, CallState]> = [
      ['idle', 'connected'],
      ['idle', 'reconnecting'],
      ['idle', 'ended'],
      ['waiting', 'failed'],
      ['ended', 'connected'],
      ['failed', 'reconnecting'],
      ['connecting', 'waiting'],
      ['connected', 'idle'],
    ];
    for (const [from, to] of illegal) expect(canMove(from, to), `${from} -> ${to}`).toBe(false);
    // A call can fail before it ever connects (ice_failed) and be replaced by a new match at any time.
    expect(canMove('connecting', 'failed')).toBe(true);
    for (const from of ['idle', 'waiting', 'connected', 'reconnecting', 'ended', 'failed'] as const)
      expect(canMove(from, 'connecting')).toBe(true);
  });
});
