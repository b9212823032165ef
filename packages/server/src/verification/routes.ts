import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { VerificationChallengeInfo, VerificationResultInfo, VerificationStatus } from '@duet/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { TokenIssuer } from '../identity/tokens.js';
import type { Moderation } from '../safety/moderation.js';
import type { StaffAccounts } from '../safety/staff.js';
import type { Clock } from '../util/clock.js';
import { detectorAssetPaths } from './detector.js';
import { parseSubmission, VERIFICATION_LIMITS } from './schema.js';
import type { LivenessVerifier } from './service.js';
import type { VerificationRepository } from './sqlStore.js';
import type { VerificationReason } from './verify.js';

export interface VerificationSettings {
  /** The operator offers the check (VERIFICATION). */
  enabled: boolean;
  /** Only verified people may queue (VERIFIED_ONLY). */
  required: boolean;
  /** Failed attempts allowed per hour before a person has to wait. */
  maxFailuresPerHour: number;
}

export interface VerificationRouteDeps {
  settings: VerificationSettings;
  /** The verifier, loaded on first use (the detector's models take a few seconds). */
  verifier: () => Promise<LivenessVerifier>;
  repo: VerificationRepository;
  tokens: TokenIssuer;
  staff: StaffAccounts;
  moderation: Moderation;
  clock: Clock;
  log: Logger;
  /** The person's verification changed: the lobby matches on it and shows it to partners. */
  onChange: (userId: string, verifiedUntil: number | null) => void;
}

/** What each reason means to the person who failed, in words they can act on. */
const MESSAGES: Partial<Record<VerificationReason, string>> & { default: string } = {
  wrong_order: 'The actions came in a different order from the one asked. Try again and follow the prompts one by one.',
  action_missing: 'We could not see every action. Try again in good light, facing the camera.',
  unexpected_action: 'We saw an action that was not asked for. Try again and do only what the prompt says.',
  deadline_missed: 'Time ran out before the check finished. Try again — it takes about ten seconds.',
  no_face: 'We could not see a face in some pictures. Make sure your face is in view and well lit.',
  multiple_faces: 'More than one face was in view. Do the check on your own.',
  no_baseline: 'We need a picture of you looking straight at the camera first. Try again.',
  face_changed: 'The face changed during the check. The same person must do every step.',
  spoof_suspected: 'This looked like a photo or a screen rather than a live person. Use your camera directly.',
  liveness_failed: 'This looked like a photo or a screen rather than a live person. Use your camera directly.',
  nonce_reused: 'That check was already used. Start a new one.',
  nonce_unknown: 'That check is unknown or expired. Start a new one.',
  bad_image: 'Some pictures could not be read. Try again.',
  default: 'The check did not pass. Try again.',
};

const idSchema = z.string().uuid();
const revokeBody = z.strictObject({ reason: z.string().trim().min(3).max(500) });
const HOUR = 3600_000;

async function subject(req: FastifyRequest, tokens: TokenIssuer): Promise<string | undefined> {
  const header = req.headers.authorization;
  return header?.startsWith('Bearer ') ? tokens.verify(header.slice(7)) : undefined;
}

const unauthorized = (reply: FastifyReply) => reply.code(401).send({ error: { code: 'invalid_token', message: 'Sign in again: the session token is invalid.' } });
const unavailable = (reply: FastifyReply) => reply.code(404).send({ error: { code: 'verification_unavailable', message: 'Verification is off on this server.' } });

/**
 * The liveness check's HTTP side: status, challenges, answers (judged on the server by the same
 * detector the browser uses), the detector's model files for the browser, and the moderators'
 * revoke. Judging is one attempt at a time per node: the detector is CPU-heavy.
 */
export function verificationRoutes(app: FastifyInstance, d: VerificationRouteDeps): void {
  const s = d.settings;
  let queue: Promise<unknown> = Promise.resolve();
  let waiting = 0;

  const status = async (userId: string): Promise<VerificationStatus> => {
    const now = d.clock.now();
    const until = await d.repo.verifiedUntil(userId);
    const failures = await d.repo.failuresSince(userId, now - HOUR);
    const attemptsLeft = Math.max(0, s.maxFailuresPerHour - failures.length);
    return {
      enabled: s.enabled,
      required: s.required,
      verified: until !== null && until > now,
      verifiedUntil: until !== null && until > now ? until : null,
      attemptsLeft,
      retryAfterMs: attemptsLeft > 0 ? null : Math.max(0, failures[failures.length - s.maxFailuresPerHour]! + HOUR - now),
    };
  };

  // The browser runs the same detector to guide the person: its models and WebAssembly come from
  // here, never from a CDN.
  if (s.enabled) {
    const assets = detectorAssetPaths();
    app.register(async (scope) => {
      await scope.register(fastifyStatic, { root: path.resolve(assets.modelsDir), prefix: '/models/human/', decorateReply: false, maxAge: '7d', immutable: true });
    });
    app.register(async (scope) => {
      await scope.register(fastifyStatic, { root: path.resolve(assets.wasmDir), prefix: '/models/tfjs-wasm/', decorateReply: false, maxAge: '7d', allowedPath: (p) => p.endsWith('.wasm') });
    });
  }

  app.get('/api/me/verification', async (req, reply) => {
    const userId = await subject(req, d.tokens);
    if (!userId) return unauthorized(reply);
    return status(userId);
  });

  app.post('/api/me/verification/challenge', { config: { rateLimit: { max: 20, timeWindow: '1 minute' } } }, async (req, reply) => {
    const userId = await subject(req, d.tokens);
    if (!userId) return unauthorized(reply);
    if (!s.enabled) return unavailable(reply);
    const st = await status(userId);
    if (st.attemptsLeft === 0) {
      const minutes = Math.max(1, Math.ceil((st.retryAfterMs ?? 0) / 60_000));
      return reply.code(429).send({ error: { code: 'rate_limited', message: `Too many failed attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.` } });
    }
    const verifier = await d.verifier();
    const c = await verifier.issue(userId);
    const body: VerificationChallengeInfo = { nonce: c.nonce, actions: c.actions, issuedAt: c.issuedAt, deadline: c.deadline, ttlMs: c.deadline - d.clock.now() };
    return body;
  });

  // A whole attempt's frames (24 × 200 KB at most, base64) in one body.
  const bodyLimit = Math.ceil((VERIFICATION_LIMITS.maxFrames * VERIFICATION_LIMITS.maxFrameBytes * 4) / 3) + 64 * 1024;
  app.post('/api/me/verification', { bodyLimit, config: { rateLimit: { max: 20, timeWindow: '1 minute' } } }, async (req, reply) => {
    const userId = await subject(req, d.tokens);
    if (!userId) return unauthorized(reply);
    if (!s.enabled) return unavailable(reply);
    const now = d.clock.now();
    const parsed = parseSubmission(req.body);
    if (!parsed.ok) {
      await d.repo.record({ userId, at: now, ok: false, reasons: [parsed.reason], ms: 0, scores: {} });
      return reply.code(400).send({ error: { code: 'invalid_request', message: `The upload was refused (${parsed.reason}).` } });
    }
    if (waiting >= 20) return reply.code(503).send({ error: { code: 'rate_limited', message: 'Many people are verifying right now. Try again in a minute.' } });
    const verifier = await d.verifier();
    waiting += 1;
    const judged = queue.then(() => verifier.verify(userId, parsed.value));
    queue = judged.catch(() => undefined);
    let outcome;
    try {
      outcome = await judged;
    } finally {
      waiting -= 1;
    }
    await d.repo.record({ userId, at: d.clock.now(), ok: outcome.ok, reasons: outcome.reasons, ms: outcome.ms, scores: outcome.scores });
    d.log.info({ userId, ok: outcome.ok, reasons: outcome.reasons, ms: Math.round(outcome.ms) }, 'verification attempt');
    const verifiedUntil = outcome.ok ? (outcome.verifiedUntil ?? null) : null;
    if (verifiedUntil !== null) {
      await d.repo.setVerifiedUntil(userId, verifiedUntil);
      d.onChange(userId, verifiedUntil);
    }
    const first = outcome.reasons[0];
    const result: VerificationResultInfo = {
      ok: outcome.ok,
      reasons: [...outcome.reasons],
      message: outcome.ok ? 'You are verified.' : ((first && MESSAGES[first]) ?? MESSAGES.default),
      verifiedUntil,
    };
    return result;
  });

  // Moderators see a person's status and attempts, and can revoke a verification.
  app.register(async (staffOnly) => {
    staffOnly.addHook('onRequest', d.staff.guard('moderator', () => d.clock.now()));
    staffOnly.get<{ Params: { id: string } }>('/api/admin/users/:id/verification', async (req, reply) => {
      if (!idSchema.safeParse(req.params.id).success) return reply.code(400).send({ error: { code: 'invalid_request', message: 'Not a user id.' } });
      const until = await d.repo.verifiedUntil(req.params.id);
      const attempts = await d.repo.recent(req.params.id);
      return {
        verifiedUntil: until !== null && until > d.clock.now() ? until : null,
        attempts: attempts.map((a) => ({ at: Number(a.at), ok: a.ok === 1, reasons: a.reasons ? a.reasons.split(',') : [], ms: a.ms })),
      };
    });
    staffOnly.post<{ Params: { id: string } }>('/api/admin/users/:id/verification/revoke', async (req, reply) => {
      const body = revokeBody.safeParse(req.body);
      if (!idSchema.safeParse(req.params.id).success || !body.success) return reply.code(400).send({ error: { code: 'invalid_request', message: 'Revoke with {"reason": "..."} (3 to 500 characters).' } });
      const until = await d.repo.verifiedUntil(req.params.id);
      if (until === null || until <= d.clock.now()) return reply.code(404).send({ error: { code: 'not_found', message: 'This person is not verified.' } });
      await d.repo.setVerifiedUntil(req.params.id, null);
      await d.moderation.audit(req.staff!, 'revoke_verification', req.params.id, { reason: body.data.reason });
      d.onChange(req.params.id, null);
      return reply.code(204).send();
    });
  });
}
