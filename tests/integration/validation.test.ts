/**
 * HTTP input is refused at the edge by the routes' schemas, before any handler runs, in the
 * catalogue's envelope with a message that says what was wrong; bodies over the cap never parse.
 */
import { describe, expect, it } from 'vitest';
import { useTestServer, type HttpResult } from './harness.js';

const ADMIN = 'admin-token-for-validation-tests-0123456789';
const UUID = '00000000-0000-4000-8000-000000000000';

const server = useTestServer({ env: { ADMIN_TOKEN: ADMIN } });

function refused(res: HttpResult, status = 400): string {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  const body = res.body as { error: { code: string; message: string } };
  expect(body).toEqual({ error: { code: 'invalid_request', message: expect.any(String) } });
  return body.error.message;
}

describe('validation at the edge', () => {
  it('names the field of a body that does not match, after the route’s own words', async () => {
    const s = server();
    expect(refused(await s.request('POST', '/api/session', { json: { token: 42 } }))).toMatch(
      /^Body must be .*\(body\.token: .*expected string, received number\)$/,
    );
    expect(refused(await s.request('POST', '/api/session', { json: { admin: true } }))).toMatch(/unknown field "admin"/);

    const { token } = await s.guest({ acceptRules: false });
    const message = refused(await s.request('POST', '/api/rules/accept', { token, json: { adult: true, rulesVersion: 'one' } }));
    expect(message).toContain('Confirm you are 18 or older');
    expect(message).toContain('body.rulesVersion');
    // A missing body is refused as such, not as a crash in the handler.
    expect(refused(await s.request('POST', '/api/rules/accept', { token }))).toContain('expected object');
  });

  it('answers who is asking before what they sent: a stranger gets 401, not a description of the schema', async () => {
    const s = server();
    const res = await s.request('POST', '/api/rules/accept', { json: { nope: 1 } });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: { code: 'invalid_token' } });
    expect((await s.request('POST', `/api/reports/not-a-uuid/evidence`, { json: {} })).status).toBe(401);
    expect((await s.request('GET', '/api/admin/reports?status=nope')).status).toBe(401);
  });

  it('checks path parameters and query strings too', async () => {
    const s = server();
    const admin = (path: string) => s.request('GET', path, { token: ADMIN });
    expect(refused(await admin('/api/admin/reports/not-a-uuid'))).toMatch(/^Not a report id\. \(path\.id: /);
    expect(refused(await admin('/api/admin/calls/42'))).toMatch(/^Not a call id\./);
    expect(refused(await admin('/api/admin/reports?status=pending'))).toMatch(/^status is open, resolved or all\. \(query\.status: /);
    expect(refused(await admin('/api/admin/insights?from=abc&to=10'))).toMatch(/query\.from: /);
    // A refinement of the whole query speaks for itself.
    expect(refused(await admin('/api/admin/insights?from=10&to=5'))).toBe('`to` must be after `from`.');
    expect(refused(await admin(`/api/admin/insights?from=0&to=${400 * 86_400_000}&bucket=hour`))).toMatch(/^At most \d+ hours per query/);
    expect(refused(await admin('/api/admin/economics?from=0'))).toMatch(/query\.to: /);

    // Valid input still reaches the handlers, parsed (defaults applied, numbers coerced).
    expect((await admin('/api/admin/reports')).status).toBe(200);
    expect((await admin(`/api/admin/reports/${UUID}`)).status).toBe(404);
    expect((await admin('/api/admin/insights?from=0&to=3600000')).status).toBe(200);
    expect((await admin('/api/admin/calls/export?from=0&to=3600000&format=csv')).status).toBe(200);
  });

  it('keeps a route’s own wording where it said it best', async () => {
    const s = server();
    const { token } = await s.guest();
    // The evidence upload: params, shape and a JPEG check, each in words a person can act on.
    const upload = (id: string, frame: unknown) => s.request('POST', `/api/reports/${id}/evidence`, { token, json: { frame } });
    expect(refused(await upload('nope', 'data:image/jpeg;base64,/9j/'))).toMatch(/^Not a report id\./);
    expect(refused(await upload(UUID, 'data:image/png;base64,aGVsbG8='))).toMatch(/^Upload \{"frame"/);
    expect(refused(await upload(UUID, 'data:image/jpeg;base64,aGVsbG8='))).toBe('That is not a JPEG image.');
    expect(refused(await s.request('POST', '/api/appeals', { token, json: { message: 'short' } }))).toBe(
      'Tell us a little more (10 characters at least).',
    );
  });

  it('refuses a body over the cap before parsing it, in the same envelope', async () => {
    const s = server();
    const big = JSON.stringify({ token: 'x'.repeat(70 * 1024) });
    const message = refused(await s.request('POST', '/api/session', { rawBody: big }), 413);
    expect(message).toMatch(/too large/i);
    // Routes with a larger cap of their own (evidence frames) still stop at it.
    const { token } = await s.guest();
    const frame = `data:image/jpeg;base64,${'A'.repeat(600 * 1024)}`;
    refused(await s.request('POST', `/api/reports/${UUID}/evidence`, { token, rawBody: JSON.stringify({ frame }) }), 413);
  });

  it('answers a body that is not JSON, or not an object, with invalid_request', async () => {
    const s = server();
    refused(await s.request('POST', '/api/session', { rawBody: '{"token":' }));
    expect(refused(await s.request('POST', '/api/session', { json: [1, 2] }))).toContain('expected object, received array');
  });
});
