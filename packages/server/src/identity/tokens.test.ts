import { SignJWT, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { TokenIssuer } from './tokens.js';

const SECRET = 'x'.repeat(48);
const key = new TextEncoder().encode(SECRET);
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('TokenIssuer', () => {
  const issuer = new TokenIssuer(SECRET, { cacheTtlMs: 0 });

  it('round-trips the user id it issued', async () => {
    expect(await issuer.verify(await issuer.issue('user-1'))).toBe('user-1');
  });

  it('rejects tokens signed with another secret, tampered or malformed', async () => {
    const other = new TokenIssuer('y'.repeat(48));
    const token = await other.issue('user-1');
    expect(await issuer.verify(token)).toBeUndefined();
    const [h, , s] = (await issuer.issue('user-1')).split('.');
    const forgedPayload = b64({ sub: 'admin', iss: 'duet', aud: 'duet:guest' });
    expect(await issuer.verify(`${h}.${forgedPayload}.${s}`)).toBeUndefined();
    expect(await issuer.verify('not-a-token')).toBeUndefined();
    expect(await issuer.verify('a.b.c.d')).toBeUndefined();
    expect(await issuer.verify(`${h}.${forgedPayload}.!!`)).toBeUndefined();
    // "alg: none" must never be accepted, nor another algorithm with the same HMAC.
    expect(await issuer.verify(`${b64({ alg: 'none' })}.${forgedPayload}.`)).toBeUndefined();
    expect(await issuer.verify(`${b64({ alg: 'HS512' })}.${forgedPayload}.${s}`)).toBeUndefined();
  });

  it('reads tokens issued before (by jose) and jose reads the ones it issues', async () => {
    const old = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('user-2')
      .setIssuer('duet')
      .setAudience('duet:guest')
      .setIssuedAt()
      .setExpirationTime('365d')
      .sign(key);
    expect(await issuer.verify(old)).toBe('user-2');
    const { payload } = await jwtVerify(await issuer.issue('user-3'), key, {
      issuer: 'duet',
      audience: 'duet:guest',
      algorithms: ['HS256'],
    });
    expect(payload.sub).toBe('user-3');
  });

  it('refuses expired tokens, wrong audience or issuer, and a header with crit', async () => {
    const sign = (claims: object, header: object = { alg: 'HS256' }) =>
      new SignJWT({ ...claims }).setProtectedHeader(header as { alg: string }).sign(key);
    const now = Math.floor(Date.now() / 1000);
    expect(await issuer.verify(await sign({ sub: 'u', iss: 'duet', aud: 'duet:guest', exp: now - 1 }))).toBeUndefined();
    expect(await issuer.verify(await sign({ sub: 'u', iss: 'duet', aud: 'duet:admin', exp: now + 60 }))).toBeUndefined();
    expect(await issuer.verify(await sign({ sub: 'u', iss: 'evil', aud: 'duet:guest', exp: now + 60 }))).toBeUndefined();
    expect(await issuer.verify(await sign({ sub: 'u', iss: 'duet', aud: 'duet:guest' }))).toBeUndefined(); // no expiry
    expect(await issuer.verify(await sign({ sub: 'u', iss: 'duet', aud: 'duet:guest', exp: now + 60, nbf: now + 30 }))).toBeUndefined();
    const crit = `${b64({ alg: 'HS256', crit: ['x'], x: 1 })}.${b64({ sub: 'u', iss: 'duet', aud: 'duet:guest', exp: now + 60 })}`;
    expect(await issuer.verify(`${crit}.x`)).toBeUndefined();
  });
});

describe('TokenIssuer: verified tokens remembered', () => {
  it('answers from memory within the TTL, and checks again after it', async () => {
    let t = Date.UTC(2026, 0, 1);
    const issuer = new TokenIssuer(SECRET, { now: () => t, cacheTtlMs: 1_000 });
    const token = await issuer.issue('user-1');
    expect(issuer.cached).toBe(1);
    expect(issuer.verifySync(token)).toBe('user-1');
    t += 1_001;
    expect(issuer.verifySync(token)).toBe('user-1'); // verified again, remembered again
    expect(issuer.cached).toBe(1);
  });

  it('never answers for an expired token, even when remembered', async () => {
    let t = Date.UTC(2026, 0, 1);
    const issuer = new TokenIssuer(SECRET, { now: () => t, cacheTtlMs: 10 * 365 * 86_400_000 });
    const token = await issuer.issue('user-1');
    t += 366 * 86_400_000;
    expect(issuer.verifySync(token)).toBeUndefined();
    expect(issuer.cached).toBe(0);
  });

  it('keeps at most cacheSize tokens, dropping the oldest', async () => {
    const issuer = new TokenIssuer(SECRET, { cacheSize: 3 });
    const tokens = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((u) => issuer.issue(u)));
    expect(issuer.cached).toBe(3);
    // The dropped ones still verify (by signature), they are just not remembered.
    expect(issuer.verifySync(tokens[0]!)).toBe('a');
    expect(issuer.cached).toBe(3);
  });

  it('does not remember a forged token', () => {
    const issuer = new TokenIssuer(SECRET);
    expect(issuer.verifySync(`${b64({ alg: 'HS256' })}.${b64({ sub: 'u' })}.AAAA`)).toBeUndefined();
    expect(issuer.cached).toBe(0);
  });
});
