import type { CallEnd, CallState } from '@duet/client';
import type { AppMessageId, Text } from './i18n/index.js';

export type AppText = Text<AppMessageId>;

/** What happened to the last call, said plainly and without blaming the other person. */
export function endMessage(t: AppText, end: CallEnd | null): string | null {
  if (!end) return null;
  const { reason, by } = end;
  if (by === 'you') {
    switch (reason) {
      case 'blocked':
        return t('app.end.you.blocked');
      case 'reported':
        return t('app.end.you.reported');
      case 'leave':
        return t('app.end.you.leave');
      case 'connection_lost':
      case 'heartbeat_timeout':
        return t('app.end.you.connectionLost');
      case 'insufficient_credits':
        return t('app.end.you.insufficientCredits');
      default:
        return null;
    }
  }
  switch (reason) {
    case 'next':
      return t('app.end.partner.next');
    case 'leave':
    case 'blocked':
    case 'reported':
      return t('app.end.partner.leave');
    case 'connection_lost':
    case 'heartbeat_timeout':
      return t('app.end.partner.connectionLost');
    case 'ice_failed':
      return t('app.end.iceFailed');
    case 'server_shutdown':
      return t('app.end.serverShutdown');
    case 'moderator':
      return t('app.end.moderator');
    case 'banned':
      return t('app.end.banned');
    case 'insufficient_credits':
      // Only the person whose credit ran out is told about money; the partner did nothing wrong.
      return by === 'partner' ? t('app.end.partner.insufficientCredits') : t('app.end.insufficientCredits');
    default:
      return t('app.end.other');
  }
}

export function stateMessage(t: AppText, state: CallState, online: number): string {
  switch (state) {
    case 'idle':
      return t('app.stateMessage.idle');
    case 'waiting':
      return online <= 1 ? t('app.stateMessage.waitingAlone') : t('app.stateMessage.waiting');
    case 'connecting':
      return t('app.stateMessage.connecting');
    case 'connected':
      return t('app.stateMessage.connected');
    case 'reconnecting':
      return t('app.stateMessage.reconnecting');
    case 'ended':
      return t('app.stateMessage.ended');
    case 'failed':
      return t('app.stateMessage.failed');
  }
}

/** A short label for the status pill. */
export function stateLabel(t: AppText, state: CallState): string {
  const labels: Record<CallState, AppMessageId> = {
    idle: 'app.state.idle',
    waiting: 'app.state.waiting',
    connecting: 'app.state.connecting',
    connected: 'app.state.connected',
    reconnecting: 'app.state.reconnecting',
    ended: 'app.state.ended',
    failed: 'app.state.failed',
  };
  return t(labels[state]);
}

/** "Nobody with #chess right now — …": what widening means for this wait. */
export function widenedMessage(t: AppText, w: { stage: 'interests' | 'region'; interests: string[] }): string {
  if (w.stage === 'region') return t('app.widened.region');
  if (w.interests.length === 0) return t('app.widened.anyone');
  // British English lists without the serial comma ("#chess, #go or #art"), as Duet always has.
  const list = new Intl.ListFormat(t.intl.locale === 'en' ? 'en-GB' : t.intl.locale, { type: 'disjunction' });
  return t('app.widened.interests', { tags: list.format(w.interests.map((tag) => `#${tag}`)) });
}

/**
 * The server's estimate in words. null means there is nothing to base one on, so we promise
 * only what is true; a number is rounded, never invented.
 */
export function estimateMessage(t: AppText, estimatedWaitMs: number | null): string {
  if (estimatedWaitMs === null) return t('app.estimate.unknown');
  return t('app.estimate.about', { wait: roundWait(t, estimatedWaitMs) });
}

/** 400 ms → "1 s", 7.4 s → "7 s", 23 s → "25 s", 95 s → "2 min". */
export function roundWait(t: AppText, ms: number): string {
  const s = Math.max(1, Math.round(ms / 1000));
  if (s <= 10) return t('app.unit.seconds', { n: s });
  const fives = Math.round(s / 5) * 5;
  if (fives < 60) return t('app.unit.seconds', { n: fives });
  return t('app.unit.minutes', { n: Math.round(s / 60) });
}

/** A wait clock: 0:07, 1:42, 12:05. */
export function clock(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, '0')}`;
}
