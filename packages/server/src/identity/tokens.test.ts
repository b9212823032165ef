import { describe, expect, it } from 'vitest';
import { TokenIssuer } from './tokens.js';

describe('TokenIssuer', () => {
  const issuer = new TokenIssuer('x'.repeat(48));

  it('round-trips the user id it issued', async () => {
    expect(await issuer.verify(await issuer.issue('user-1'))).toBe('user-1');
  });

  it('rejects tokens signed with another secret, tampered or malformed', async () => {
    const other = new TokenIssuer('y'.repeat(48));
    const token = await other.issue('user-1');
    expect(await issuer.verify(token)).toBeUndefined();
    const [h, , s] = (await issuer.issue('user-1')).split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ sub: 'admin', iss: 'duet', aud: 'duet:guest' })).toString('base64url');
    expect(await issuer.verify(`${h}.${forgedPayload}.${s}`)).toBeUndefined();
    expect(await issuer.verify('not-a-token')).toBeUndefined();
    // "alg: none" must never be accepted.
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${forgedPayload}.`;
    expect(await issuer.verify(none)).toBeUndefined();
  });
});
