import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../storage/database.js';
import { hashPassword, verifyPassword } from './passwords.js';

export type StaffRole = 'moderator' | 'admin';

export interface StaffPrincipal {
  /** null for the operator's API token (ADMIN_TOKEN), which acts as an admin. */
  staffId: string | null;
  email: string;
  role: StaffRole;
  /** Present for cookie sessions: state-changing requests must echo it in `x-csrf-token`. */
  csrf?: string;
}

export const SESSION_COOKIE = 'duet_staff';
const SESSION_MS = 12 * 3_600_000;
const sha256 = (s: string) => createHash('sha256').update(s).digest();
const hex = (s: string) => sha256(s).toString('hex');

/** Moderator and admin accounts, their sessions, and who a request comes from. */
export class StaffAccounts {
  readonly #db: Db;
  readonly #apiToken: Buffer | undefined;

  constructor(db: Db, apiToken: string | undefined) {
    this.#db = db;
    this.#apiToken = apiToken ? sha256(apiToken) : undefined;
  }

  async create(email: string, password: string, role: StaffRole, now: number): Promise<string> {
    const id = randomUUID();
    await this.#db
      .insertInto('staff')
      .values({ id, email: email.toLowerCase(), password_hash: await hashPassword(password), role, created_at: now })
      .execute();
    return id;
  }

  async exists(email: string): Promise<boolean> {
    return (await this.#db.selectFrom('staff').select('id').where('email', '=', email.toLowerCase()).executeTakeFirst()) !== undefined;
  }

  async list(): Promise<Array<{ id: string; email: string; role: StaffRole; createdAt: number }>> {
    const rows = await this.#db.selectFrom('staff').select(['id', 'email', 'role', 'created_at']).orderBy('created_at').execute();
    return rows.map((r) => ({ id: r.id, email: r.email, role: r.role, createdAt: r.created_at }));
  }

  /** A new session for valid credentials; undefined (after the same work) for anything else. */
  async login(email: string, password: string, now: number): Promise<{ token: string; principal: StaffPrincipal } | undefined> {
    const row = await this.#db.selectFrom('staff').selectAll().where('email', '=', email.toLowerCase()).executeTakeFirst();
    // Hash even for unknown emails, so timing does not reveal which accounts exist.
    const ok = await verifyPassword(
      password,
      row?.password_hash ?? 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    );
    if (!row || !ok) return undefined;
    const token = randomBytes(32).toString('base64url');
    const csrf = randomBytes(24).toString('base64url');
    await this.#db
      .insertInto('staff_sessions')
      .values({ token_hash: hex(token), staff_id: row.id, csrf, expires_at: now + SESSION_MS })
      .execute();
    await this.#db.deleteFrom('staff_sessions').where('expires_at', '<', now).execute();
    return { token, principal: { staffId: row.id, email: row.email, role: row.role, csrf } };
  }

  async logout(token: string): Promise<void> {
    await this.#db.deleteFrom('staff_sessions').where('token_hash', '=', hex(token)).execute();
  }

  /** The staff member behind a request: a session cookie, or the operator's bearer API token. */
  async principal(req: FastifyRequest, now: number): Promise<StaffPrincipal | undefined> {
    const header = req.headers.authorization;
    if (header?.startsWith('Bearer ') && this.#apiToken) {
      const given = sha256(header.slice(7));
      if (timingSafeEqual(given, this.#apiToken)) return { staffId: null, email: 'api-token', role: 'admin' };
      return undefined;
    }
    const token = req.cookies?.[SESSION_COOKIE];
    if (!token) return undefined;
    const row = await this.#db
      .selectFrom('staff_sessions')
      .innerJoin('staff', 'staff.id', 'staff_sessions.staff_id')
      .select(['staff.id', 'staff.email', 'staff.role', 'staff_sessions.csrf', 'staff_sessions.expires_at'])
      .where('staff_sessions.token_hash', '=', hex(token))
      .executeTakeFirst();
    if (!row || row.expires_at < now) return undefined;
    return { staffId: row.id, email: row.email, role: row.role, csrf: row.csrf };
  }

  /**
   * A Fastify hook: only staff (of at least `role`) get through, and cookie sessions must prove
   * the request comes from the console (CSRF token header) for anything but reads.
   */
  guard(role: StaffRole, now: () => number) {
    return async (req: FastifyRequest, reply: FastifyReply) => {
      const who = await this.principal(req, now());
      if (!who) return reply.code(401).send({ error: { code: 'unauthorized', message: 'Sign in to the console.' } });
      if (role === 'admin' && who.role !== 'admin')
        return reply.code(403).send({ error: { code: 'forbidden', message: 'Only admins can do that.' } });
      if (req.method !== 'GET' && req.method !== 'HEAD' && who.csrf !== undefined) {
        const given = req.headers['x-csrf-token'];
        if (typeof given !== 'string' || given.length !== who.csrf.length || !timingSafeEqual(Buffer.from(given), Buffer.from(who.csrf))) {
          return reply.code(403).send({ error: { code: 'forbidden', message: 'Missing or wrong CSRF token; reload the console.' } });
        }
      }
      req.staff = who;
    };
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    staff?: StaffPrincipal;
  }
}
