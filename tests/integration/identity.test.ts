import { PROTOCOL_VERSION } from '@duet/protocol';
import { describe, expect, it } from 'vitest';
import { useTestServer, type Guest } from './harness.js';

const server = useTestServer();

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** The victim's valid token with its payload swapped for one naming `sub`; the signature no longer matches. */
function tamperedToken(valid: string, sub: string): string {
  const [header, , signature] = valid.split('.');
  const now = Math.floor(Date.now() / 1000);
  return `${header}.${b64url({ sub, iss: 'duet', aud: 'duet:guest', iat: now, exp: now + 3600 })}.${signature}`;
}

/** An unsigned token ("alg": "none") naming `sub`. */
function unsignedToken(sub: string): string {
  const now = Math.floor(Date.now() / 1000);
  return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub, iss: 'duet', aud: 'duet:guest', iat: now, exp: now + 3600 })}.`;
}

interface SessionBody {
  token: string;
  userId: string;
  rulesAccepted: boolean;
  rulesVersion: number;
}

async function postSession(token?: string): Promise<SessionBody> {
  const res = await server().request('POST', '/api/session', token === undefined ? {} : { json: { token } });
  expect(res.status).toBe(200);
  return res.body as SessionBody;
}

describe('guest identity over HTTP', () => {
  it('creates a user and token, and the token brings back the same user', async () => {
    const first = await postSession();
    expect(first).toMatchObject({ userId: expect.any(String), token: expect.any(String), rulesAccepted: false, rulesVersion: 1 });

    const again = await postSession(first.token);
    expect(again.userId).toBe(first.userId);
    expect(again.token).toBe(first.token);
  });

  it('gives a new user, never the named one, for forged, unsigned or garbage tokens', async () => {
    const victim = await postSession();
    for (const forged of [tamperedToken(victim.token, victim.userId), unsignedToken(victim.userId), 'garbage', `${victim.token}x`]) {
      const res = await postSession(forged);
      expect(res.userId).not.toBe(victim.userId);
      expect(res.token).not.toBe(forged);
    }
  });

  it('accepts the rules only with a valid token and the exact body', async () => {
    const s = server();
    const { token } = await postSession();
    const valid = { adult: true, rulesVersion: 1 };

    for (const auth of [undefined, 'garbage', unsignedToken('someone')]) {
      const res = await s.request('POST', '/api/rules/accept', { json: valid, ...(auth === undefined ? {} : { token: auth }) });
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error: { code: 'invalid_token' } });
    }

    for (const body of [
      {},
      { adult: false, rulesVersion: 1 },
      { adult: true, rulesVersion: 2 },
      { adult: 'yes', rulesVersion: 1 },
      { ...valid, admin: true },
    ]) {
      const res = await s.request('POST', '/api/rules/accept', { token, json: body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body).toMatchObject({ error: { code: 'invalid_request', message: expect.any(String) } });
    }
    expect((await postSession(token)).rulesAccepted).toBe(false);

    const ok = await s.request('POST', '/api/rules/accept', { token, json: valid });
    expect(ok.status).toBe(204);
    expect((await postSession(token)).rulesAccepted).toBe(true);
  });

  it('rejects a session body of the wrong shape with invalid_request', async () => {
    const res = await server().request('POST', '/api/session', { json: { token: 42 } });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { code: 'invalid_request' } });
  });

  it('limits guest creation per client address, with a catalogue code', async () => {
    const s = server();
    const from = s.newVisitorAddress();
    for (let i = 0; i < s.config.sessionRateLimit; i++) {
      expect((await s.request('POST', '/api/session', { from })).status).toBe(200);
    }
    const refused = await s.request('POST', '/api/session', { from });
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ error: { code: 'rate_limited' } });
    // Someone else is not affected.
    expect((await s.request('POST', '/api/session')).status).toBe(200);
    // Another address of the same IPv6 /64 is the same subscriber: rotating the host part buys nothing.
    expect((await s.request('POST', '/api/session', { from: from.replace(/::1$/, '::beef:2') })).status).toBe(429);
  });

  it('rejects a body that is not JSON with 400', async () => {
    const s = server();
    const { token } = await postSession();
    for (const [route, auth] of [
      ['/api/session', undefined],
      ['/api/rules/accept', token],
    ] as const) {
      const res = await s.request('POST', route, { rawBody: '{nope', ...(auth === undefined ? {} : { token: auth }) });
      expect(res.status).toBe(400);
    }
  });

  it('answers a body that is not JSON with the invalid_request envelope', async () => {
    const res = await server().request('POST', '/api/session', { rawBody: '{nope' });
    expect(res.body).toMatchObject({ error: { code: 'invalid_request' } });
  });
});

describe('signaling handshake', () => {
  it('welcomes a valid token with the user id', async () => {
    const s = server();
    const guest = await s.guest();
    const c = await s.rawClient('C');
    const welcome = await c.hello(guest.token);
    expect(welcome).toMatchObject({ v: PROTOCOL_VERSION, userId: guest.userId, online: expect.any(Number) });
  });

  it('answers hello with a bad token with invalid_token and closes 4001', async () => {
    const s = server();
    const victim = await s.guest();
    for (const token of ['garbage', tamperedToken(victim.token, victim.userId), unsignedToken(victim.userId)]) {
      const c = await s.rawClient('C');
      c.send({ type: 'hello', v: PROTOCOL_VERSION, token });
      await c.nextError('invalid_token');
      expect((await c.waitForClose()).code).toBe(4001);
      expect(c.all('welcome')).toEqual([]);
    }
  });

  it('answers hello with another protocol version with unsupported_version and closes 4000', async () => {
    const s = server();
    const guest = await s.guest();
    const c = await s.rawClient('C');
    c.send({ type: 'hello', v: PROTOCOL_VERSION + 1, token: guest.token });
    await c.nextError('unsupported_version');
    expect((await c.waitForClose()).code).toBe(4000);
    expect(c.all('welcome')).toEqual([]);
  });

  it('refuses messages before hello with not_authenticated, and a second hello', async () => {
    const s = server();
    const guest = await s.guest();
    const c = await s.rawClient('C');
    c.send({ type: 'join' });
    expect(await c.nextError('not_authenticated')).toMatchObject({ ref: 'join' });
    c.send({ type: 'ping' });
    expect(await c.nextError('not_authenticated')).toMatchObject({ ref: 'ping' });
    expect(c.all('queued')).toEqual([]);
    expect(c.all('pong')).toEqual([]);

    // The connection is still usable once it says hello.
    await c.hello(guest.token);
    c.send({ type: 'hello', v: PROTOCOL_VERSION, token: guest.token });
    await c.nextError('already_authenticated');
    await c.roundTrip();
  });

  it('refuses join before the rules are accepted, and allows it right after accepting over HTTP', async () => {
    const s = server();
    const guest: Guest = await s.guest({ acceptRules: false });
    const c = await s.client('C', { guest });
    c.send({ type: 'join' });
    expect(await c.nextError('rules_not_accepted')).toMatchObject({ ref: 'join' });
    await c.roundTrip();
    expect(c.all('queued')).toEqual([]);

    await s.acceptRules(guest.token);
    c.send({ type: 'join' });
    await c.next('queued');
  });
});
