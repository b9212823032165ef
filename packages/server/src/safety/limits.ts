import { addressKey } from '../util/address.js';
import type { Charge, LimitStore, Rate } from '../util/limitStore.js';

/**
 * The limits that belong to a person, not to a socket: kept in a store keyed by user (and by
 * address for reports), so closing and reopening the connection, or moving to another node, starts
 * nothing afresh. The numbers and keys are listed in docs/safety.md.
 */
export const PERSON_LIMITS = {
  /** Joining and skipping. */
  moves: { perSecond: 20 / 60, burst: 15 },
  chat: { perSecond: 1, burst: 5 },
  /** Reports filed (beyond it the call still ends and blocks; the moderators' queue is spared). */
  reports: { perSecond: 5 / 3600, burst: 5 },
  /** Reports filed from one address, whoever signs in there: fresh guests cannot report-bomb. */
  addressReports: { perSecond: 20 / 3600, burst: 20 },
} as const satisfies Record<string, Rate>;

export type LimitedKind = 'moves' | 'chat' | 'reports';

/** What a person is told when a limit refuses them (reports are answered by the lobby). */
export const LIMIT_MESSAGES = {
  moves: 'You’re skipping very fast. Take a breath — try again in a few seconds.',
  chat: 'You are sending messages too fast. Wait a moment.',
} as const;

/** Which limit a signaling message is counted against, if any. */
export function limitedKind(type: string): LimitedKind | undefined {
  switch (type) {
    case 'join':
    case 'next':
      return 'moves';
    case 'chat':
      return 'chat';
    case 'report':
      return 'reports';
    default:
      return undefined;
  }
}

export class PersonLimiter {
  constructor(readonly store: LimitStore) {}

  /** Takes one from the person's allowance of `kind` (reports: also their address's); false when spent. */
  take(kind: LimitedKind, who: { userId: string; address: string }, now: number): Promise<boolean> {
    const charges: Charge[] = [{ name: kind, rate: PERSON_LIMITS[kind], key: `u:${who.userId}` }];
    if (kind === 'reports')
      charges.push({ name: 'addressReports', rate: PERSON_LIMITS.addressReports, key: `a:${addressKey(who.address)}` });
    return this.store.take(charges, now);
  }
}
