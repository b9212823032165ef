import { createHmac } from 'node:crypto';

/**
 * A TURN REST API credential (draft-uberti-behave-turn-rest, as coturn's `use-auth-secret`
 * expects): username `<expiry-unix-seconds>:<userId>`, password base64(HMAC-SHA1(secret, username)).
 * The relay checks it without a database; it is valid until the expiry.
 */
export function turnCredential(
  secret: string,
  userId: string,
  nowMs: number,
  ttlSeconds: number,
): { username: string; credential: string; expiresAt: number } {
  const expiry = Math.floor(nowMs / 1000) + ttlSeconds;
  const username = `${expiry}:${userId}`;
  const credential = createHmac('sha1', secret).update(username).digest('base64');
  return { username, credential, expiresAt: expiry * 1000 };
}
