import { describe, expect, it } from 'vitest';
import { connectCall, matchPair, useTestServer, type TestServer } from './harness.js';

const ADMIN = { email: 'admin@example.test', password: 'correct-horse-battery-staple' };
const API_TOKEN = 'operator-api-token-0123456789';
// The smallest valid JPEG header is enough: the server checks the magic bytes, moderators look at it.
const TINY_JPEG = `data:image/jpeg;base64,${Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1]).toString('base64')}`;

/** A console session: the cookie and the CSRF token it must send with every change. */
async function signIn(s: TestServer, email = ADMIN.email, password = ADMIN.password) {
  const res = await fetch(`${s.httpUrl}/api/staff/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': s.newVisitorAddress() },
    body: JSON.stringify({ email, password }),
  });
  const body = (await res.json()) as { csrf: string; role: string };
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
  const call = (method: string, path: string, json?: unknown, opts: { csrf?: boolean } = {}) =>
    fetch(`${s.httpUrl}${path}`, {
      method,
      headers: {
        cookie,
        ...(json === undefined ? {} : { 'content-type': 'application/json' }),
        ...(opts.csrf === false ? {} : { 'x-csrf-token': body.csrf }),
      },
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
    });
  return { status: res.status, role: body.role, cookie, call };
}

describe('safety and authorization', () => {
  const server = useTestServer({
    env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, ADMIN_TOKEN: API_TOKEN, STRIKES: '2', HOLD_REPORTED: 'true' },
  });

  it('staff sign in with a password; sessions need the CSRF token to change anything; roles limit admin actions', async () => {
    const s = server();
    expect((await signIn(s, ADMIN.email, 'wrong-password-123')).status).toBe(401);
    const admin = await signIn(s);
    expect(admin.status).toBe(200);
    expect(admin.cookie).toMatch(/^duet_staff=/);
    expect(await (await admin.call('GET', '/api/staff/me')).json()).toMatchObject({ email: ADMIN.email, role: 'admin' });
    expect((await fetch(`${s.httpUrl}/api/staff/me`)).status).toBe(401);

    const create = { email: 'mod@example.test', password: 'a-long-moderator-password', role: 'moderator' };
    expect((await admin.call('POST', '/api/admin/staff', create, { csrf: false })).status).toBe(403); // no CSRF token
    expect((await admin.call('POST', '/api/admin/staff', create)).status).toBe(201);
    const mod = await signIn(s, create.email, create.password);
    expect(mod.role).toBe('moderator');
    expect((await mod.call('GET', '/api/admin/reports')).status).toBe(200);
    expect((await mod.call('POST', '/api/admin/staff', { ...create, email: 'x@example.test' })).status).toBe(403);
    expect((await mod.call('POST', '/api/staff/logout')).status).toBe(204);
    expect((await mod.call('GET', '/api/admin/reports')).status).toBe(401);
  });

  it('refuses every console action to ordinary people, forged sessions and no credentials', async () => {
    const s = server();
    const person = await s.guest();
    const uuid = '00000000-0000-4000-8000-000000000000';
    const endpoints: Array<[string, string, unknown?]> = [
      ['GET', '/api/admin/live-calls'],
      ['POST', `/api/admin/calls/${uuid}/end`, {}],
      ['GET', '/api/admin/reports'],
      ['GET', `/api/admin/reports/${uuid}`],
      ['POST', `/api/admin/reports/${uuid}/resolve`, { action: 'dismiss' }],
      ['GET', '/api/admin/bans'],
      ['POST', '/api/admin/bans', { userId: person.userId, reason: 'x y z' }],
      ['POST', `/api/admin/bans/${uuid}/lift`, {}],
      ['GET', '/api/admin/appeals'],
      ['POST', `/api/admin/appeals/${uuid}/decide`, { decision: 'lift' }],
      ['GET', '/api/admin/audit'],
      ['GET', '/api/admin/staff'],
      ['POST', '/api/admin/staff', { email: 'e@example.test', password: 'aaaaaaaaaaaaaaa', role: 'admin' }],
      ['GET', `/api/admin/insights?from=0&to=3600000`],
      ['GET', `/api/admin/calls/${uuid}`],
      ['GET', '/api/admin/calls/export?from=0&to=1000'],
      ['GET', '/api/staff/me'],
      ['POST', '/api/staff/logout', {}],
    ];
    for (const [method, path, json] of endpoints) {
      for (const headers of [{ authorization: `Bearer ${person.token}` }, { cookie: 'duet_staff=forged-session-token' }, {}] as Array<
        Record<string, string>
      >) {
        const res = await fetch(`${s.httpUrl}${path}`, {
          method,
          headers: { ...headers, ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(json === undefined ? {} : { body: JSON.stringify(json) }),
        });
        expect(res.status, `${method} ${path} with ${Object.keys(headers).join() || 'nothing'}`).toBe(401);
      }
    }
    // The operator's API token is an admin (for automation).
    expect((await fetch(`${s.httpUrl}/api/admin/bans`, { headers: { authorization: `Bearer ${API_TOKEN}` } })).status).toBe(200);
  });

  it('reports carry the transcript and the reporter’s frame; only the reporter can attach it, once; a moderator sees both', async () => {
    const s = server();
    const aGuest = await s.guest();
    const bGuest = await s.guest();
    const other = await s.guest();
    const pair = await matchPair(await s.client('A', { guest: aGuest }), await s.client('B', { guest: bGuest }));
    await connectCall(pair);
    const [a, b] = pair.offerer.userId === aGuest.userId ? [pair.offerer, pair.answerer] : [pair.answerer, pair.offerer];
    b.send({ type: 'chat', callId: pair.callId, text: 'add me on insta @bob_real or www.example.com' });
    expect((await a.next('chat')).text).toBe('add me on insta [contact removed] or [link removed]'); // contact details filtered
    a.send({ type: 'report', callId: pair.callId, reason: 'harassment', comment: 'asked for my socials' });
    const filed = await a.next('report_filed');
    expect(await b.next('call_ended')).toMatchObject({ reason: 'reported', by: 'partner' });

    const upload = (token: string, frame = TINY_JPEG) =>
      s.request('POST', `/api/reports/${filed.reportId}/evidence`, { token, json: { frame } });
    expect((await upload(other.token)).status).toBe(404); // someone else's report: not even its existence
    expect((await upload(bGuest.token)).status).toBe(404); // the reported person neither
    expect((await upload(aGuest.token, 'data:image/jpeg;base64,aGVsbG8=')).status).toBe(400); // not a JPEG
    expect((await upload(aGuest.token)).status).toBe(204);
    expect((await upload(aGuest.token)).status).toBe(409);
    await s.duet.settled();

    const mod = await signIn(s);
    const detail = (await (await mod.call('GET', `/api/admin/reports/${filed.reportId}`)).json()) as {
      frame: string;
      transcript: Array<{ from: string; text: string }>;
      reason: string;
      reportedId: string;
    };
    expect(detail).toMatchObject({ reason: 'harassment', reportedId: bGuest.userId, frame: TINY_JPEG });
    expect(detail.transcript).toEqual([
      { from: 'reported', text: 'add me on insta [contact removed] or [link removed]', at: expect.any(Number) },
    ]);
    const queue = (await (await mod.call('GET', '/api/admin/reports')).json()) as {
      reports: Array<{ id: string; reporter: { filed: number } }>;
    };
    expect(queue.reports.find((r) => r.id === filed.reportId)?.reporter.filed).toBe(1);
  });

  it('held pool: someone with unreviewed reports only meets others in the same situation', async () => {
    const s = server();
    const mod = await signIn(s);
    const reported = await s.guest();
    const pair = await matchPair(await s.client('R', { guest: reported }), await s.client('X'));
    const [x] = pair.offerer.userId === reported.userId ? [pair.answerer] : [pair.offerer];
    x.send({ type: 'report', callId: pair.callId, reason: 'spam' });
    await x.next('report_filed');
    x.send({ type: 'leave' });
    await x.next('idle');
    const r = pair.offerer.userId === reported.userId ? pair.offerer : pair.answerer;
    r.send({ type: 'leave' });
    await r.next('idle');
    await s.duet.settled();
    // R reconnects (held is decided at hello) and waits; a clean newcomer is not matched with R.
    const again = await s.client('R again', { guest: reported });
    again.send({ type: 'join' });
    await again.next('queued');
    const clean = await s.client('clean');
    clean.send({ type: 'join' });
    await clean.next('queued');
    await clean.roundTrip();
    expect(clean.pending('matched')).toEqual([]);
    // Once a moderator reviews the report, R is back in the common pool.
    const reports = (await (await mod.call('GET', '/api/admin/reports')).json()) as { reports: Array<{ id: string; reportedId: string }> };
    const report = reports.reports.find((x2) => x2.reportedId === reported.userId)!;
    expect((await mod.call('POST', `/api/admin/reports/${report.id}/resolve`, { action: 'dismiss' })).status).toBe(204);
    again.send({ type: 'join' }); // a re-join carries the new standing
    expect((await clean.next('matched', undefined, 5_000)).callId).toBeTruthy();
  });

  it('a moderator ends a live call; bans disconnect at once, hold by device, and can be appealed and lifted', async () => {
    const s = server();
    const mod = await signIn(s);
    const bob = await s.guest();
    const pair = await matchPair(await s.client('Alice'), await s.client('Bob', { guest: bob }));
    await connectCall(pair);
    const live = (await (await mod.call('GET', '/api/admin/live-calls')).json()) as { calls: Array<{ id: string }> };
    expect(live.calls.map((c) => c.id)).toContain(pair.callId);
    expect((await mod.call('POST', `/api/admin/calls/${pair.callId}/end`)).status).toBe(204);
    for (const c of [pair.offerer, pair.answerer])
      expect(await c.next('call_ended')).toMatchObject({ reason: 'moderator', by: 'server', then: 'idle' });

    // Ban Bob while he is connected: he is told why and disconnected.
    const bobClient = pair.offerer.userId === bob.userId ? pair.offerer : pair.answerer;
    expect((await mod.call('POST', '/api/admin/bans', { userId: bob.userId, reason: 'Harassment', days: 7 })).status).toBe(201);
    expect(await bobClient.next('banned')).toMatchObject({ reason: 'Harassment', until: expect.any(Number) });
    expect((await bobClient.waitForClose()).code).toBe(4004);
    const back = await s.rawClient('Bob back');
    back.send({ type: 'hello', v: 1, token: bob.token });
    expect(await back.next('banned')).toMatchObject({ reason: 'Harassment' });
    expect((await back.waitForClose()).code).toBe(4004);
    expect((await s.request('GET', '/api/me/ban', { token: bob.token })).body).toMatchObject({ banned: true, reason: 'Harassment' });

    // Appeal, and a moderator lifts the ban.
    expect((await s.request('POST', '/api/appeals', { token: bob.token, json: { message: 'short' } })).status).toBe(400);
    expect(
      (await s.request('POST', '/api/appeals', { token: bob.token, json: { message: 'I was misunderstood, please review the call.' } }))
        .status,
    ).toBe(201);
    const appeals = (await (await mod.call('GET', '/api/admin/appeals')).json()) as { appeals: Array<{ id: string; userId: string }> };
    const appeal = appeals.appeals.find((a) => a.userId === bob.userId)!;
    expect((await mod.call('POST', `/api/admin/appeals/${appeal.id}/decide`, { decision: 'lift' })).status).toBe(204);
    expect((await s.request('GET', '/api/me/ban', { token: bob.token })).body).toEqual({ banned: false });
    expect(await (await s.rawClient('Bob again')).hello(bob.token)).toMatchObject({ type: 'welcome' });

    // A device ban follows the device to a brand-new guest account.
    const device = 'device-0123456789';
    const first = await s.request('POST', '/api/session', { json: { deviceId: device } });
    const { userId } = first.body as { userId: string };
    expect((await mod.call('POST', '/api/admin/bans', { userId, reason: 'Spam' })).status).toBe(201);
    const fresh = await s.request('POST', '/api/session', { json: { deviceId: device } });
    expect((await s.request('GET', '/api/me/ban', { token: (fresh.body as { token: string }).token })).body).toMatchObject({
      banned: true,
      reason: 'Spam',
      until: null,
    });

    const audit = (await (await mod.call('GET', '/api/admin/audit')).json()) as { entries: Array<{ action: string }> };
    expect(audit.entries.map((e) => e.action)).toEqual(expect.arrayContaining(['end_call', 'ban', 'appeal_lift']));
  });

  it('strike policy: enough upheld reports suspend automatically', async () => {
    const s = server();
    const mod = await signIn(s);
    const target = await s.guest();
    for (let i = 0; i < 2; i++) {
      const pair = await matchPair(await s.client(`reporter${i}`), await s.client(`target${i}`, { guest: target }));
      const reporter = pair.offerer.userId === target.userId ? pair.answerer : pair.offerer;
      const targetClient = reporter === pair.offerer ? pair.answerer : pair.offerer;
      reporter.send({ type: 'report', callId: pair.callId, reason: 'harassment' });
      const { reportId } = await reporter.next('report_filed');
      for (const c of [reporter, targetClient]) {
        c.send({ type: 'leave' });
        await c.next('idle');
      }
      await s.duet.settled();
      expect((await mod.call('POST', `/api/admin/reports/${reportId}/resolve`, { action: 'warn' })).status).toBe(204);
      if (i === 0) expect(await targetClient.next('warning')).toMatchObject({ message: expect.stringContaining('moderator') });
      await targetClient.close();
    }
    expect((await s.request('GET', '/api/me/ban', { token: target.token })).body).toMatchObject({
      banned: true,
      reason: '2 upheld reports',
    });
  });
});
