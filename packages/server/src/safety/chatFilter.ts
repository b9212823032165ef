/**
 * Removes links and contact details from chat between strangers (a common route to scams and to
 * moving a minor off-platform). Deliberately broad: a false positive costs a word, a miss can cost more.
 */
const PATTERNS: Array<[RegExp, string]> = [
  [/\b(?:https?:\/\/|www\.)\S+/gi, '[link removed]'],
  [/\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b/g, '[contact removed]'],
  // Bare domains such as example.com or t.me/name.
  [/\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|io|me|co|app|gg|ly|tv|xyz|info|biz|ru|de|uk|fr|ca)\b(?:\/\S*)?/gi, '[link removed]'],
  // Phone numbers: 7+ digits with optional separators and a leading +.
  [/(?:\+|\b)\d(?:[\s().-]*\d){6,}\b/g, '[contact removed]'],
  // Social handles: @name.
  [/(?:^|\s)@[a-z0-9_.]{3,}/gi, ' [contact removed]'],
];

export function filterChat(text: string): { text: string; filtered: boolean } {
  let out = text;
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return { text: out.trim(), filtered: out !== text };
}
