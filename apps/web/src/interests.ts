import { LIMITS } from '@duet/protocol';

const SEPARATORS = /[,\s#]+/;

/** A tag as the protocol accepts it: lower case, letters, digits, `_` and `-`, at most 24 characters. */
export function normaliseTag(raw: string): string {
  return raw
    .toLowerCase()
    .replace(/[^\p{L}\p{N}_-]/gu, '')
    .slice(0, LIMITS.maxInterestChars);
}

/** Adds tags to a list: no empties, no duplicates, never more than the protocol allows. */
export function addTags(tags: readonly string[], more: readonly string[]): string[] {
  const out = [...tags];
  for (const raw of more) {
    const tag = normaliseTag(raw);
    if (tag && !out.includes(tag) && out.length < LIMITS.maxInterests) out.push(tag);
  }
  return out;
}

/**
 * Splits what was typed into finished tags and the word still being typed: "chess, tra" gives
 * `{ done: ['chess'], rest: 'tra' }`. A trailing separator finishes the last word too.
 */
export function splitDraft(text: string): { done: string[]; rest: string } {
  const parts = text.split(SEPARATORS);
  const rest = parts.pop() ?? '';
  return { done: parts.filter(Boolean), rest };
}

/** Every tag in a free-text list, as `join` would carry them. */
export function parseInterests(text: string): string[] {
  return addTags([], text.split(SEPARATORS));
}
