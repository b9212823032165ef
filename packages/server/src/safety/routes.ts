import { REPORT_REASONS } from '@duet/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { TokenIssuer } from '../identity/tokens.js';
import type { Clock } from '../util/clock.js';
import { expects, useZodValidation, type ZodTypeProvider } from '../web/validation.js';
import type { Moderation } from './moderation.js';
import { SESSION_COOKIE, type StaffAccounts } from './staff.js';

const loginBody = expects(
  z.strictObject({ email: z.string().email().max(254), password: z.string().min(1).max(256) }),
  'Email and password, please.',
);
const staffBody = expects(
  z.strictObject({
    email: z.string().email().max(254),
    password: z.string().min(12, 'at least 12 characters').max(256),
    role: z.enum(['moderator', 'admin']),
  }),
  'An email, a password (12 characters at least) and a role.',
);
const resolveBody = expects(
  z.strictObject({
    action: z.enum(['dismiss', 'warn', 'ban']),
    banDays: z.number().int().min(1).max(3650).optional(),
    note: z.string().max(1000).optional(),
  }),
  'Resolve with {"action": "dismiss" | "warn" | "ban", "banDays"?: number}.',
);
const banBody = expects(
  z
    .strictObject({
      userId: z.string().uuid().optional(),
      deviceId: z.string().max(64).optional(),
      reason: z.string().min(3).max(500),
      days: z.number().int().min(1).max(3650).optional(),
    })
    .refine((b) => b.userId || b.deviceId, 'A ban needs a userId or a deviceId.'),
  'A ban needs a userId or deviceId, a reason, and optionally days.',
);
const appealBody = expects(
  z
    .strictObject({ message: z.string().trim().max(2000) })
    .refine((b) => b.message.length >= 10, 'Tell us a little more (10 characters at least).'),
  'Write your appeal: {"message": "..."}.',
);
const decideBody = expects(z.strictObject({ decision: z.enum(['uphold', 'lift']) }), 'Decide with {"decision": "uphold" | "lift"}.');
const JPEG = Buffer.from([0xff, 0xd8, 0xff]);
const frameBody = expects(
  z
    .strictObject({
      frame: z
        .string()
        .max(400_000)
        .regex(/^data:image\/jpeg;base64,[A-Za-z0-9+/=]+$/),
    })
    .refine(
      (b) =>
        Buffer.from(b.frame.slice('data:image/jpeg;base64,'.length, 'data:image/jpeg;base64,'.length + 8), 'base64')
          .subarray(0, 3)
          .equals(JPEG),
      'That is not a JPEG image.',
    ),
  'Upload {"frame": "data:image/jpeg;base64,..."} (300 KB at most).',
);
/** A path's `:id`, named in the 400 (`Not a report id.`). */
const idOf = (what: string) => expects(z.strictObject({ id: z.string().uuid() }), `Not a ${what} id.`);
const callId = idOf('call');
const reportId = idOf('report');
const banId = idOf('ban');
const appealId = idOf('appeal');
const reportsQuery = expects(z.object({ status: z.enum(['open', 'resolved', 'all']).default('open') }), 'status is open, resolved or all.');

export interface SafetyRouteDeps {
  staff: StaffAccounts;
  moderation: Moderation;
  tokens: TokenIssuer;
  clock: Clock;
  secureCookies: boolean;
}

/**
 * Who is asking, for people's own endpoints: settled before the input is looked at (a
 * `preValidation` hook), so a stranger learns nothing from a 400; `people` holds the user id.
 */
export function personGate(tokens: TokenIssuer) {
  const person = async (authorization: string | undefined) =>
    authorization?.startsWith('Bearer ') ? tokens.verify(authorization.slice(7)) : undefined;
  const unauthorized = (reply: FastifyReply) =>
    reply.code(401).send({ error: { code: 'invalid_token', message: 'Sign in again: the session token is invalid.' } });
  const people = new WeakMap<FastifyRequest, string>();
  const signedIn = async (req: FastifyRequest, reply: FastifyReply) => {
    const userId = await person(req.headers.authorization);
    if (!userId) return unauthorized(reply);
    people.set(req, userId);
  };
  return { person, unauthorized, signedIn, people };
}

const notFound = (reply: FastifyReply, what: string) => reply.code(404).send({ error: { code: 'not_found', message: `No such ${what}.` } });

/** The moderation console's API (staff only), and the few safety endpoints people use. */
export function safetyRoutes(app: FastifyInstance, d: SafetyRouteDeps): void {
  const api = useZodValidation(app);
  const now = () => d.clock.now();

  // ---- staff sign-in --------------------------------------------------------------------
  api.post(
    '/api/staff/login',
    { config: { rateLimit: { max: 10, timeWindow: '1 minute' } }, schema: { body: loginBody } },
    async (req, reply) => {
      const session = await d.staff.login(req.body.email, req.body.password, now());
      if (!session) return reply.code(401).send({ error: { code: 'unauthorized', message: 'Wrong email or password.' } });
      reply.setCookie(SESSION_COOKIE, session.token, {
        httpOnly: true,
        sameSite: 'strict',
        secure: d.secureCookies,
        path: '/',
        maxAge: 12 * 3600,
      });
      req.log.info({ staffId: session.principal.staffId }, 'staff signed in');
      return { email: session.principal.email, role: session.principal.role, csrf: session.principal.csrf };
    },
  );

  api.register(async (scope) => {
    const staffOnly = scope.withTypeProvider<ZodTypeProvider>();
    staffOnly.addHook('onRequest', d.staff.guard('moderator', now));

    staffOnly.get('/api/staff/me', async (req) => ({ email: req.staff!.email, role: req.staff!.role, csrf: req.staff!.csrf ?? null }));
    staffOnly.post('/api/staff/logout', async (req, reply) => {
      const token = req.cookies[SESSION_COOKIE];
      if (token) await d.staff.logout(token);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.code(204).send();
    });

    // Every node of the cluster: each call once, with the node it runs on (docs/safety.md).
    staffOnly.get('/api/admin/live-calls', async () => d.moderation.liveCalls());
    staffOnly.post('/api/admin/calls/:id/end', { schema: { params: callId } }, async (req, reply) => {
      if (!(await d.moderation.endCall(req.staff!, req.params.id))) return notFound(reply, 'live call');
      return reply.code(204).send();
    });

    staffOnly.get('/api/admin/reports', { schema: { querystring: reportsQuery } }, async (req) => {
      return { reports: await d.moderation.reports(req.query.status), reasons: REPORT_REASONS };
    });
    staffOnly.get('/api/admin/reports/:id', { schema: { params: reportId } }, async (req, reply) => {
      return (await d.moderation.report(req.params.id)) ?? notFound(reply, 'report');
    });
    staffOnly.post('/api/admin/reports/:id/resolve', { schema: { params: reportId, body: resolveBody } }, async (req, reply) => {
      const result = await d.moderation.resolve(req.staff!, req.params.id, req.body.action, req.body);
      if (result === 'not_found') return notFound(reply, 'report');
      if (result === 'already')
        return reply.code(409).send({ error: { code: 'out_of_turn', message: 'This report was already resolved.' } });
      return reply.code(204).send();
    });

    staffOnly.get('/api/admin/bans', async () => ({ bans: await d.moderation.bans() }));
    staffOnly.post('/api/admin/bans', { schema: { body: banBody } }, async (req, reply) => {
      return reply.code(201).send({ id: await d.moderation.ban(req.staff!, req.body) });
    });
    staffOnly.post('/api/admin/bans/:id/lift', { schema: { params: banId } }, async (req, reply) => {
      return (await d.moderation.lift(req.staff!, req.params.id)) ? reply.code(204).send() : notFound(reply, 'active ban');
    });

    staffOnly.get('/api/admin/appeals', async () => ({ appeals: await d.moderation.appeals() }));
    staffOnly.post('/api/admin/appeals/:id/decide', { schema: { params: appealId, body: decideBody } }, async (req, reply) => {
      return (await d.moderation.decideAppeal(req.staff!, req.params.id, req.body.decision))
        ? reply.code(204).send()
        : notFound(reply, 'open appeal');
    });

    staffOnly.get('/api/admin/audit', async () => ({ entries: await d.moderation.auditLog() }));
  });

  api.register(async (scope) => {
    const adminOnly = scope.withTypeProvider<ZodTypeProvider>();
    adminOnly.addHook('onRequest', d.staff.guard('admin', now));
    adminOnly.get('/api/admin/staff', async () => ({ staff: await d.staff.list() }));
    adminOnly.post('/api/admin/staff', { schema: { body: staffBody } }, async (req, reply) => {
      const { email, password, role } = req.body;
      if (await d.staff.exists(email))
        return reply.code(409).send({ error: { code: 'invalid_request', message: 'That email already has an account.' } });
      const staffId = await d.staff.create(email, password, role, now());
      await d.moderation.audit(req.staff!, 'create_staff', staffId, { email, role });
      return reply.code(201).send({ id: staffId });
    });
  });

  // ---- people ---------------------------------------------------------------------------
  const { person, unauthorized, signedIn, people } = personGate(d.tokens);

  api.post(
    '/api/reports/:id/evidence',
    {
      bodyLimit: 512 * 1024,
      config: { rateLimit: { max: 20, timeWindow: '1 minute' } },
      preValidation: signedIn,
      schema: { params: reportId, body: frameBody },
    },
    async (req, reply) => {
      const userId = people.get(req)!;
      const base64 = req.body.frame.slice('data:image/jpeg;base64,'.length);
      const result = await d.moderation.attachFrame(userId, req.params.id, base64);
      if (result === 'not_found') return notFound(reply, 'report of yours');
      if (result !== 'ok')
        return reply.code(409).send({
          error: {
            code: 'out_of_turn',
            message: result === 'already' ? 'Evidence was already attached.' : 'Too late to attach evidence to this report.',
          },
        });
      return reply.code(204).send();
    },
  );

  app.get('/api/me/ban', async (req, reply) => {
    const userId = await person(req.headers.authorization);
    if (!userId) return unauthorized(reply);
    const ban = await d.moderation.activeBan(userId);
    return ban ? { banned: true, ...d.moderation.banNotice(ban) } : { banned: false };
  });

  api.post(
    '/api/appeals',
    { config: { rateLimit: { max: 5, timeWindow: '1 hour' } }, preValidation: signedIn, schema: { body: appealBody } },
    async (req, reply) => {
      const result = await d.moderation.appeal(people.get(req)!, req.body.message);
      if (result === 'not_banned') return reply.code(409).send({ error: { code: 'out_of_turn', message: 'You are not banned.' } });
      if (result === 'already')
        return reply.code(409).send({ error: { code: 'out_of_turn', message: 'Your appeal is already with our moderators.' } });
      return reply.code(201).send({ status: 'received' });
    },
  );
}
