import { REPORT_REASONS } from '@duet/protocol';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { TokenIssuer } from '../identity/tokens.js';
import type { Clock } from '../util/clock.js';
import type { Moderation } from './moderation.js';
import { SESSION_COOKIE, type StaffAccounts } from './staff.js';

const loginBody = z.strictObject({ email: z.string().email().max(254), password: z.string().min(1).max(256) });
const staffBody = z.strictObject({ email: z.string().email().max(254), password: z.string().min(12, 'at least 12 characters').max(256), role: z.enum(['moderator', 'admin']) });
const resolveBody = z.strictObject({ action: z.enum(['dismiss', 'warn', 'ban']), banDays: z.number().int().min(1).max(3650).optional(), note: z.string().max(1000).optional() });
const banBody = z
  .strictObject({ userId: z.string().uuid().optional(), deviceId: z.string().max(64).optional(), reason: z.string().min(3).max(500), days: z.number().int().min(1).max(3650).optional() })
  .refine((b) => b.userId || b.deviceId, 'userId or deviceId');
const appealBody = z.strictObject({ message: z.string().trim().min(10, 'Tell us a little more (10 characters at least).').max(2000) });
const decideBody = z.strictObject({ decision: z.enum(['uphold', 'lift']) });
const frameBody = z.strictObject({ frame: z.string().regex(/^data:image\/jpeg;base64,[A-Za-z0-9+/=]+$/).max(400_000) });
const id = z.string().uuid();

export interface SafetyRouteDeps {
  staff: StaffAccounts;
  moderation: Moderation;
  tokens: TokenIssuer;
  clock: Clock;
  secureCookies: boolean;
}

const bad = (reply: FastifyReply, message: string) => reply.code(400).send({ error: { code: 'invalid_request', message } });
const notFound = (reply: FastifyReply, what: string) => reply.code(404).send({ error: { code: 'not_found', message: `No such ${what}.` } });

/** The moderation console's API (staff only), and the few safety endpoints people use. */
export function safetyRoutes(app: FastifyInstance, d: SafetyRouteDeps): void {
  const now = () => d.clock.now();

  // ---- staff sign-in --------------------------------------------------------------------
  app.post('/api/staff/login', { config: { rateLimit: { max: 10, timeWindow: '1 minute' } } }, async (req, reply) => {
    const body = loginBody.safeParse(req.body);
    if (!body.success) return bad(reply, 'Email and password, please.');
    const session = await d.staff.login(body.data.email, body.data.password, now());
    if (!session) return reply.code(401).send({ error: { code: 'unauthorized', message: 'Wrong email or password.' } });
    reply.setCookie(SESSION_COOKIE, session.token, { httpOnly: true, sameSite: 'strict', secure: d.secureCookies, path: '/', maxAge: 12 * 3600 });
    req.log.info({ staffId: session.principal.staffId }, 'staff signed in');
    return { email: session.principal.email, role: session.principal.role, csrf: session.principal.csrf };
  });

  app.register(async (staffOnly) => {
    staffOnly.addHook('onRequest', d.staff.guard('moderator', now));

    staffOnly.get('/api/staff/me', async (req) => ({ email: req.staff!.email, role: req.staff!.role, csrf: req.staff!.csrf ?? null }));
    staffOnly.post('/api/staff/logout', async (req, reply) => {
      const token = req.cookies[SESSION_COOKIE];
      if (token) await d.staff.logout(token);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.code(204).send();
    });

    staffOnly.get('/api/admin/live-calls', async () => ({ calls: await d.moderation.liveCalls() }));
    staffOnly.post<{ Params: { id: string } }>('/api/admin/calls/:id/end', async (req, reply) => {
      if (!id.safeParse(req.params.id).success) return bad(reply, 'Not a call id.');
      if (!(await d.moderation.endCall(req.staff!, req.params.id))) return notFound(reply, 'live call on this node');
      return reply.code(204).send();
    });

    staffOnly.get<{ Querystring: { status?: string } }>('/api/admin/reports', async (req, reply) => {
      const status = z.enum(['open', 'resolved', 'all']).default('open').safeParse(req.query.status);
      if (!status.success) return bad(reply, 'status is open, resolved or all.');
      return { reports: await d.moderation.reports(status.data), reasons: REPORT_REASONS };
    });
    staffOnly.get<{ Params: { id: string } }>('/api/admin/reports/:id', async (req, reply) => {
      if (!id.safeParse(req.params.id).success) return bad(reply, 'Not a report id.');
      return (await d.moderation.report(req.params.id)) ?? notFound(reply, 'report');
    });
    staffOnly.post<{ Params: { id: string } }>('/api/admin/reports/:id/resolve', async (req, reply) => {
      const body = resolveBody.safeParse(req.body);
      if (!id.safeParse(req.params.id).success || !body.success) return bad(reply, 'Resolve with {"action": "dismiss" | "warn" | "ban", "banDays"?: number}.');
      const result = await d.moderation.resolve(req.staff!, req.params.id, body.data.action, body.data);
      if (result === 'not_found') return notFound(reply, 'report');
      if (result === 'already') return reply.code(409).send({ error: { code: 'out_of_turn', message: 'This report was already resolved.' } });
      return reply.code(204).send();
    });

    staffOnly.get('/api/admin/bans', async () => ({ bans: await d.moderation.bans() }));
    staffOnly.post('/api/admin/bans', async (req, reply) => {
      const body = banBody.safeParse(req.body);
      if (!body.success) return bad(reply, 'A ban needs a userId or deviceId, a reason, and optionally days.');
      return reply.code(201).send({ id: await d.moderation.ban(req.staff!, body.data) });
    });
    staffOnly.post<{ Params: { id: string } }>('/api/admin/bans/:id/lift', async (req, reply) => {
      if (!id.safeParse(req.params.id).success) return bad(reply, 'Not a ban id.');
      return (await d.moderation.lift(req.staff!, req.params.id)) ? reply.code(204).send() : notFound(reply, 'active ban');
    });

    staffOnly.get('/api/admin/appeals', async () => ({ appeals: await d.moderation.appeals() }));
    staffOnly.post<{ Params: { id: string } }>('/api/admin/appeals/:id/decide', async (req, reply) => {
      const body = decideBody.safeParse(req.body);
      if (!id.safeParse(req.params.id).success || !body.success) return bad(reply, 'Decide with {"decision": "uphold" | "lift"}.');
      return (await d.moderation.decideAppeal(req.staff!, req.params.id, body.data.decision)) ? reply.code(204).send() : notFound(reply, 'open appeal');
    });

    staffOnly.get('/api/admin/audit', async () => ({ entries: await d.moderation.auditLog() }));
  });

  app.register(async (adminOnly) => {
    adminOnly.addHook('onRequest', d.staff.guard('admin', now));
    adminOnly.get('/api/admin/staff', async () => ({ staff: await d.staff.list() }));
    adminOnly.post('/api/admin/staff', async (req, reply) => {
      const body = staffBody.safeParse(req.body);
      if (!body.success) return bad(reply, `An email, a password (${body.error.issues[0]?.message ?? 'invalid'}) and a role.`);
      if (await d.staff.exists(body.data.email)) return reply.code(409).send({ error: { code: 'invalid_request', message: 'That email already has an account.' } });
      const staffId = await d.staff.create(body.data.email, body.data.password, body.data.role, now());
      await d.moderation.audit(req.staff!, 'create_staff', staffId, { email: body.data.email, role: body.data.role });
      return reply.code(201).send({ id: staffId });
    });
  });

  // ---- people ---------------------------------------------------------------------------
  const person = async (authorization: string | undefined) => (authorization?.startsWith('Bearer ') ? d.tokens.verify(authorization.slice(7)) : undefined);
  const unauthorized = (reply: FastifyReply) => reply.code(401).send({ error: { code: 'invalid_token', message: 'Sign in again: the session token is invalid.' } });

  app.post<{ Params: { id: string } }>('/api/reports/:id/evidence', { bodyLimit: 512 * 1024, config: { rateLimit: { max: 20, timeWindow: '1 minute' } } }, async (req, reply) => {
    const userId = await person(req.headers.authorization);
    if (!userId) return unauthorized(reply);
    const body = frameBody.safeParse(req.body);
    if (!id.safeParse(req.params.id).success || !body.success) return bad(reply, 'Upload {"frame": "data:image/jpeg;base64,..."} (300 KB at most).');
    const base64 = body.data.frame.slice('data:image/jpeg;base64,'.length);
    if (!Buffer.from(base64, 'base64').subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff]))) return bad(reply, 'That is not a JPEG image.');
    const result = await d.moderation.attachFrame(userId, req.params.id, base64);
    if (result === 'not_found') return notFound(reply, 'report of yours');
    if (result !== 'ok') return reply.code(409).send({ error: { code: 'out_of_turn', message: result === 'already' ? 'Evidence was already attached.' : 'Too late to attach evidence to this report.' } });
    return reply.code(204).send();
  });

  app.get('/api/me/ban', async (req, reply) => {
    const userId = await person(req.headers.authorization);
    if (!userId) return unauthorized(reply);
    const ban = await d.moderation.activeBan(userId);
    return ban ? { banned: true, ...d.moderation.banNotice(ban) } : { banned: false };
  });

  app.post('/api/appeals', { config: { rateLimit: { max: 5, timeWindow: '1 hour' } } }, async (req, reply) => {
    const userId = await person(req.headers.authorization);
    if (!userId) return unauthorized(reply);
    const body = appealBody.safeParse(req.body);
    if (!body.success) return bad(reply, body.error.issues[0]?.message ?? 'Write your appeal.');
    const result = await d.moderation.appeal(userId, body.data.message);
    if (result === 'not_banned') return reply.code(409).send({ error: { code: 'out_of_turn', message: 'You are not banned.' } });
    if (result === 'already') return reply.code(409).send({ error: { code: 'out_of_turn', message: 'Your appeal is already with our moderators.' } });
    return reply.code(201).send({ status: 'received' });
  });
}
