import { REQUEUE_PARTNER_REASONS, type EndReason } from '@duet/protocol';
import type { Call } from '../calls/call.js';
import { DuetError } from '../errors.js';
import type { Participant } from './participant.js';

/**
 * The call a move (`next`, `leave`) acts on: only the person's current call, and only when the
 * move names it. Naming another call, or none while the server has the person in one (its
 * `matched` may still be on its way: they have not seen it), is `stale_call` and changes nothing.
 * Undefined when the person is in no call.
 */
export function namedCall(p: Participant, callId: string | null): Call | undefined {
  if (!p.call) return undefined;
  if (callId !== p.call.id) throw new DuetError('stale_call');
  return p.call;
}

/** The person who pressed Next goes back first, so they meet whoever has been waiting longest. */
export const requeueOrder = (call: Call) => (call.endedBy === call.b ? [call.b, call.a] : [call.a, call.b]);

/**
 * What becomes of one person of a call that ended. Whoever ended it by Next, Block or Report asked
 * to meet someone new: back in the queue at once. A partner the reason requeues is back only once
 * their client has seen the end and answered `requeue` (they may have pressed Stop meanwhile; a
 * crashed tab never answers and stays out). Anyone else is idle.
 */
export function afterCall(
  call: Call,
  userId: string,
  closed: boolean,
): { by: 'you' | 'partner' | 'server'; then: 'waiting' | 'idle'; requeue: 'now' | 'on_ack' | 'no' } {
  const reason: EndReason = call.endReason!;
  const own = userId === call.endedBy;
  const by = own ? 'you' : call.endedBy === null ? 'server' : 'partner';
  const requeue = own
    ? reason === 'next' || reason === 'blocked' || reason === 'reported'
      ? 'now'
      : 'no'
    : REQUEUE_PARTNER_REASONS.has(reason) && !closed
      ? 'on_ack'
      : 'no';
  return { by, then: requeue === 'no' ? 'idle' : 'waiting', requeue };
}
