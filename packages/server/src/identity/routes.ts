import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { StandingPort } from '../lobby/ports.js';
import type { Clock } from '../util/clock.js';
import { RULES_VERSION, type UserRepository } from './users.js';
import type { TokenIssuer } from './tokens.js';

export interface IdentityDeps {
  users: UserRepository;
  tokens: TokenIssuer;
  lobby: Pick<StandingPort, 'rulesAccepted'>;
  clock: Clock;
  /** Requests per client address per minute on these routes. */
  rateLimitPerMinute: number;
  /** Called for every page load that opens a session (the funnel's first step). */
  onSession?: (userId: string) => void;
  /** Called once for each new guest (welcome credits). */
  onCreated?: (userId: string, from: { address: string; deviceId?: string | undefined }) => Promise<void>;
}

const sessionBody = z
  .strictObject({ token: z.string().max(2048).optional(), deviceId: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/).optional() })
  .default({});
const acceptBody = z.strictObject({ adult: z.literal(true), rulesVersion: z.literal(RULES_VERSION) });

/**
 * Guest identity. The first visit creates an anonymous user and a signed token the browser keeps;
 * a returning browser presents it and is the same user. The client never chooses its own id.
 */
export function identityRoutes(app: FastifyInstance, deps: IdentityDeps): void {
  // Creating guests is cheap for a client and costs a row each: limit it per address.
  const limited = { config: { rateLimit: { max: deps.rateLimitPerMinute, timeWindow: '1 minute' } } };
  app.post('/api/session', limited, async (req, reply) => {
    const body = sessionBody.safeParse(req.body ?? {});
    if (!body.success) return badRequest(reply, 'Body must be {"token"?: string}.');
    const existingId = body.data.token ? await deps.tokens.verify(body.data.token) : undefined;
    let user = existingId ? await deps.users.get(existingId) : undefined;
    let token = body.data.token;
    if (!user) {
      user = await deps.users.create(deps.clock.now());
      token = await deps.tokens.issue(user.id);
      await deps.onCreated?.(user.id, { address: req.ip, deviceId: body.data.deviceId });
      req.log.info({ userId: user.id }, 'guest created');
    }
    if (body.data.deviceId) await deps.users.setDevice(user.id, body.data.deviceId);
    deps.onSession?.(user.id);
    return { token, userId: user.id, rulesAccepted: user.rulesAcceptedAt !== null, rulesVersion: RULES_VERSION };
  });

  app.post('/api/rules/accept', limited, async (req, reply) => {
    const userId = await authenticate(req, deps.tokens);
    if (!userId || !(await deps.users.get(userId))) {
      return reply.code(401).send({ error: { code: 'invalid_token', message: 'Sign in again: the session token is invalid.' } });
    }
    const body = acceptBody.safeParse(req.body);
    if (!body.success) return badRequest(reply, `Confirm you are 18 or older and accept rules version ${RULES_VERSION}.`);
    await deps.users.acceptRules(userId, deps.clock.now());
    deps.lobby.rulesAccepted(userId);
    req.log.info({ userId }, 'rules accepted');
    return reply.code(204).send();
  });
}

async function authenticate(req: FastifyRequest, tokens: TokenIssuer): Promise<string | undefined> {
  const header = req.headers.authorization;
  if (!header?.startsWith('Bearer ')) return undefined;
  return tokens.verify(header.slice('Bearer '.length));
}

function badRequest(reply: FastifyReply, message: string) {
  return reply.code(400).send({ error: { code: 'invalid_request', message } });
}
