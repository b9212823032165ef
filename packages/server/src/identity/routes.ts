import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { StandingPort } from '../lobby/ports.js';
import type { Clock } from '../util/clock.js';
import { expects, useZodValidation } from '../web/validation.js';
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

// No body at all (Fastify's null) is a first visit, like `{}`.
const sessionBody = expects(
  z.preprocess(
    (b) => b ?? {},
    z.strictObject({
      token: z.string().max(2048).optional(),
      deviceId: z
        .string()
        .regex(/^[A-Za-z0-9_-]{8,64}$/)
        .optional(),
    }),
  ),
  'Body must be {"token"?: string, "deviceId"?: string}.',
);
const acceptBody = expects(
  z.strictObject({ adult: z.literal(true), rulesVersion: z.literal(RULES_VERSION) }),
  `Confirm you are 18 or older and accept rules version ${RULES_VERSION}.`,
);

/**
 * Guest identity. The first visit creates an anonymous user and a signed token the browser keeps;
 * a returning browser presents it and is the same user. The client never chooses its own id.
 */
export function identityRoutes(app: FastifyInstance, deps: IdentityDeps): void {
  const api = useZodValidation(app);
  // Creating guests is cheap for a client and costs a row each: limit it per address.
  const limited = { config: { rateLimit: { max: deps.rateLimitPerMinute, timeWindow: '1 minute' } } };
  api.post('/api/session', { ...limited, schema: { body: sessionBody } }, async (req) => {
    const body = req.body;
    const existingId = body.token ? await deps.tokens.verify(body.token) : undefined;
    let user = existingId ? await deps.users.get(existingId) : undefined;
    let token = body.token;
    if (!user) {
      user = await deps.users.create(deps.clock.now(), body.deviceId);
      token = await deps.tokens.issue(user.id);
      await deps.onCreated?.(user.id, { address: req.ip, deviceId: body.deviceId });
      req.log.info({ userId: user.id }, 'guest created');
    } else if (body.deviceId) await deps.users.setDevice(user.id, body.deviceId);
    deps.onSession?.(user.id);
    return { token, userId: user.id, rulesAccepted: user.rulesAcceptedAt !== null, rulesVersion: RULES_VERSION };
  });

  // Who is asking is settled before the body is looked at: a stranger learns nothing from a 400.
  // The token's signature is enough here; whether its user still exists is the acceptance's own
  // answer (one write, no read first).
  const signedIn = new WeakMap<FastifyRequest, string>();
  const invalid = (reply: FastifyReply) =>
    reply.code(401).send({ error: { code: 'invalid_token', message: 'Sign in again: the session token is invalid.' } });
  const authenticated = async (req: FastifyRequest, reply: FastifyReply) => {
    const userId = await authenticate(req, deps.tokens);
    if (!userId) return invalid(reply);
    signedIn.set(req, userId);
  };

  api.post('/api/rules/accept', { ...limited, preValidation: authenticated, schema: { body: acceptBody } }, async (req, reply) => {
    const userId = signedIn.get(req)!;
    if (!(await deps.users.acceptRules(userId, deps.clock.now()))) return invalid(reply);
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
