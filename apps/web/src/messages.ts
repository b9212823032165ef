import type { CallEnd, CallState } from '@duet/client';

/** What happened to the last call, said plainly and without blaming the other person. */
export function endMessage(end: CallEnd | null): string | null {
  if (!end) return null;
  const { reason, by } = end;
  if (by === 'you') {
    switch (reason) {
      case 'blocked':
        return 'Blocked. You won’t be matched with them again.';
      case 'reported':
        return 'Thanks for reporting. Our moderators will review it, and you won’t meet them again.';
      case 'leave':
        return 'You left the call.';
      case 'connection_lost':
      case 'heartbeat_timeout':
        return 'Your connection dropped. Reconnecting…';
      case 'insufficient_credits':
        return 'Your credit ran out, so the call ended.';
      default:
        return null;
    }
  }
  switch (reason) {
    case 'next':
      return 'Your partner moved on.';
    case 'leave':
    case 'blocked':
    case 'reported':
      return 'Your partner left the call.';
    case 'connection_lost':
    case 'heartbeat_timeout':
      return 'Your partner’s connection dropped.';
    case 'ice_failed':
      return 'Couldn’t connect to that person — their network or yours blocked the call.';
    case 'server_shutdown':
      return 'Duet is restarting. Tap Start again in a moment.';
    case 'moderator':
      return 'A moderator ended the call.';
    case 'banned':
      return 'The call was ended by Duet’s safety team.';
    case 'insufficient_credits':
      // Only the person whose credit ran out is told about money; the partner did nothing wrong.
      return by === 'partner' ? 'Your partner had to leave: their time ran out.' : 'The call ended: out of credit.';
    default:
      return 'The call ended.';
  }
}

export function stateMessage(state: CallState, online: number): string {
  switch (state) {
    case 'idle':
      return 'Ready when you are.';
    case 'waiting':
      return online <= 1
        ? 'Nobody else is online right now. Stay here — we’ll connect you the moment someone arrives.'
        : 'Looking for someone to talk to…';
    case 'connecting':
      return 'Connecting…';
    case 'connected':
      return 'Connected';
    case 'reconnecting':
      return 'Connection unstable — reconnecting…';
    case 'ended':
      return 'Call ended.';
    case 'failed':
      return 'Couldn’t connect.';
  }
}

/** A short label for the status pill. */
export function stateLabel(state: CallState): string {
  const labels: Record<CallState, string> = {
    idle: 'Ready',
    waiting: 'Waiting',
    connecting: 'Connecting',
    connected: 'Connected',
    reconnecting: 'Reconnecting',
    ended: 'Call ended',
    failed: 'Couldn’t connect',
  };
  return labels[state];
}

/** "Nobody with #chess right now — …": what widening means for this wait. */
export function widenedMessage(w: { stage: 'interests' | 'region'; interests: string[] }): string {
  if (w.stage === 'region') return 'Widening to everyone, wherever they are';
  if (w.interests.length === 0) return 'Matching you with anyone';
  return `Nobody with ${listOf(w.interests.map((t) => `#${t}`))} right now — matching you with anyone`;
}

/**
 * The server's estimate in words. null means there is nothing to base one on, so we promise
 * only what is true; a number is rounded, never invented.
 */
export function estimateMessage(estimatedWaitMs: number | null): string {
  if (estimatedWaitMs === null) return 'We’ll connect you the moment someone’s free';
  return `Usually about ${roundWait(estimatedWaitMs)}`;
}

/** 400 ms → "1 s", 7.4 s → "7 s", 23 s → "25 s", 95 s → "2 min". */
export function roundWait(ms: number): string {
  const s = Math.max(1, Math.round(ms / 1000));
  if (s <= 10) return `${s} s`;
  const fives = Math.round(s / 5) * 5;
  if (fives < 60) return `${fives} s`;
  return `${Math.round(s / 60)} min`;
}

/** A wait clock: 0:07, 1:42, 12:05. */
export function clock(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, '0')}`;
}

function listOf(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}
