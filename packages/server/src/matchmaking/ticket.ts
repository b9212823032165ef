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

/** Separators of the Redis pool's compact record (see `encodeTicket`): no stored string may hold one. */
const FIELD = '\x1f';
const LIST = '\x1e';
const PAIR = '\x1d';

/** Whether s holds a record separator (\x1d-\x1f), or, with `comma`, a comma. A loop: every enqueue runs it. */
function forbidden(s: string, comma = false): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 0x1d && c <= 0x1f) || (comma && c === 0x2c)) return true;
  }
  return false;
}

/**
 * Checks that a ticket can be stored by either pool, so both accept the same tickets: Redis keeps
 * a person's tags as one comma-separated field (its Lua scripts index by it), so a tag cannot hold
 * a comma or be empty; no id, tag, region, mode or language may hold a record separator.
 */
export function checkTicket(t: Ticket): void {
  for (const tag of t.interests) {
    if (tag === '') throw new Error('interest tags cannot be empty');
    if (forbidden(tag, true)) {
      if (tag.includes(',')) throw new Error('interest tags cannot contain commas');
      separator();
    }
  }
  if (forbidden(t.userId) || forbidden(t.mode) || forbidden(t.language)) separator();
  if ((t.region !== undefined && forbidden(t.region)) || (t.node !== undefined && forbidden(t.node))) separator();
  for (const s of t.blocked) if (forbidden(s)) separator();
  for (const r of t.recent) if (forbidden(r.userId)) separator();
}

function separator(): never {
  throw new Error('ticket strings cannot contain the characters \\x1d-\\x1f');
}

/** A bucket's name inside Redis keys (q:<bucket>, d:<bucket>, i:<bucket>:<tag>). */
export const redisBucket = (mode: string, language: string): string => `${mode}:${language}`;

/**
 * The Redis pool's compact record of a ticket, read field by field by its Lua scripts (no JSON):
 *   joinedAt ␟ tags ␟ node ␟ flags ␟ region ␟ mode ␟ language ␟ blocked ␟ recent
 * tags comma-separated; flags a subset of "hvo" (held, verified, verifiedOnly); region "" for none
 * or "=" and the region; blocked "␞id␞id␞" (so a plain find of "␞id␞" tests it); recent
 * "␞id␝at" per partner, oldest first. `encodeTicket` gives everything after joinedAt: a re-join
 * keeps the stored joinedAt, which only the script knows.
 */
export function encodeTicket(t: Ticket): { bucket: string; tags: string; rest: string } {
  checkTicket(t);
  const tags = t.interests.join(',');
  const flags = `${t.held ? 'h' : ''}${t.verified ? 'v' : ''}${t.verifiedOnly ? 'o' : ''}`;
  const blocked = t.blocked.size === 0 ? '' : `${LIST}${[...t.blocked].join(LIST)}${LIST}`;
  const recent = t.recent.map((r) => `${LIST}${r.userId}${PAIR}${r.at}`).join('');
  const rest = [tags, t.node ?? '', flags, t.region === undefined ? '' : `=${t.region}`, t.mode, t.language, blocked, recent].join(FIELD);
  return { bucket: redisBucket(t.mode, t.language), tags, rest };
}

export function decodeTicket(userId: string, record: string): Ticket {
  const [joinedAt, tags, node, flags, region, mode, language, blocked, recent] = record.split(FIELD) as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const t: { -readonly [K in keyof Ticket]: Ticket[K] } = {
    userId,
    mode,
    language,
    region: region === '' ? undefined : region.slice(1),
    interests: tags === '' ? [] : tags.split(','),
    joinedAt: Number(joinedAt),
    blocked: new Set(blocked === '' ? [] : blocked.slice(1, -1).split(LIST)),
    recent:
      recent === ''
        ? []
        : recent
            .slice(1)
            .split(LIST)
            .map((r) => {
              const [id, at] = r.split(PAIR) as [string, string];
              return { userId: id, at: Number(at) };
            }),
  };
  if (node !== '') t.node = node;
  if (flags.includes('h')) t.held = true;
  if (flags.includes('v')) t.verified = true;
  if (flags.includes('o')) t.verifiedOnly = true;
  return t;
}
