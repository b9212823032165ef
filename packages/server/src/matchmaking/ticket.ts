import type { Ticket } from './rules.js';

/**
 * A ticket's stored form, and the keys both pools group people by: written once so that the two
 * pools cannot drift apart on what a waiting person is.
 */

/** People are matched only within one mode and language: the pool's buckets. */
export const bucketKey = (mode: string, language: string): string => `${mode}\u0000${language}`;

/** The pair as a match reports it: the one who has waited longer first (and makes the offer). */
export function inOfferOrder(t: Ticket, partner: Ticket): [Ticket, Ticket] {
  return partner.joinedAt <= t.joinedAt ? [partner, t] : [t, partner];
}

/**
 * Redis keeps a person's tags as one comma-separated field (its Lua scripts index by it), so a tag
 * cannot hold a comma; both pools refuse one, so they accept the same tickets.
 */
export function checkTags(t: Ticket): void {
  for (const tag of t.interests) if (tag.includes(',')) throw new Error('interest tags cannot contain commas');
}

export function tagList(t: Ticket): string {
  checkTags(t);
  return t.interests.join(',');
}

/** Everything about a ticket but its id and wait, which are stored beside it. */
export interface StoredTicket {
  mode: string;
  language: string;
  region: string | null;
  interests: string[];
  blocked: string[];
  recent: Array<{ userId: string; at: number }>;
  node?: string;
  held?: boolean;
  verified?: boolean;
  verifiedOnly?: boolean;
}

/** Optional facts stored only when true (or set), so a stored entry stays small. */
const FLAGS = ['held', 'verified', 'verifiedOnly'] as const;

function optionals(t: Pick<Ticket, 'node' | (typeof FLAGS)[number]>): Pick<Ticket, 'node' | (typeof FLAGS)[number]> {
  const out: { node?: string; held?: boolean; verified?: boolean; verifiedOnly?: boolean } = {};
  if (t.node) out.node = t.node;
  for (const flag of FLAGS) if (t[flag]) out[flag] = true;
  return out;
}

export function toStored(t: Ticket): StoredTicket {
  return {
    mode: t.mode,
    language: t.language,
    region: t.region ?? null,
    interests: [...t.interests],
    blocked: [...t.blocked],
    recent: [...t.recent],
    ...optionals(t),
  };
}

export function fromStored(userId: string, s: StoredTicket, joinedAt: number): Ticket {
  return {
    userId,
    mode: s.mode,
    language: s.language,
    region: s.region ?? undefined,
    interests: s.interests,
    joinedAt,
    blocked: new Set(s.blocked),
    recent: s.recent,
    ...optionals(s),
  };
}
