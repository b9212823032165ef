import { createHmac } from 'node:crypto';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { VerificationChallengeInfo, VerificationResultInfo, VerificationStatus } from '@duet/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { TokenIssuer } from '../identity/tokens.js';
import type { Moderation } from '../safety/moderation.js';
import type { StaffAccounts } from '../safety/staff.js';
import { addressKey } from '../util/address.js';
import type { Clock } from '../util/clock.js';
import { detectorAssetPaths } from './detector.js';
import { FairQueue, type FairQueueOptions, type QueueRefusal } from './fairQueue.js';
import { expects, useZodValidation, type ZodTypeProvider } from '../web/validation.js';
import { parseSubmission, VERIFICATION_LIMITS, verificationSubmissionSchema } from './schema.js';
import type { LivenessVerifier } from './service.js';
import type { RequestLimit, VerificationRepository } from './sqlStore.js';
import type { VerificationReason } from './verify.js';

export interface VerificationSettings {
  /** The operator offers the check (VERIFICATION). */
  enabled: boolean;
  /** Only verified people may queue (VERIFIED_ONLY). */
  required: boolean;
  /** Failed attempts allowed per hour before a person has to wait. */
  maxFailuresPerHour: number;
  /** Age assurance (AGE_CHALLENGE, AGE_CHECK_URL, AGE_REVIEW); challenge 0 is off. */
  age?: { challenge: number; checkUrl: string | undefined; review: boolean };
}

/** What a person is told about age assurance, beside the protocol's status and result. */
export interface AgeInfo {
  /** The age the estimate must reach. */
  challenge: number;
  status: 'passed' | 'refused' | 'review' | 'confirmed' | null;
  /** The operator's other way to prove age (an ID check), when there is one. */
  checkUrl: string | null;
  /** Whether a refused person may ask a moderator to review. */
  review: boolean;
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
  /** Key for hashing client addresses: the limits' table never holds an address. */
  secret: string;
  /** Limits on challenges and uploads (default `VERIFICATION_REQUEST_LIMITS`) and on the detector's queue. */
  limits?: readonly RequestLimit[];
  queue?: Partial<FairQueueOptions>;
}

const MINUTE = 60_000;

/**
 * What one person and one address may ask of the detector. Every upload needs a fresh challenge, so
 * the upload limits bound its CPU: 3 a minute and 30 an hour per address, one at a time per person.
 */
export const VERIFICATION_REQUEST_LIMITS: readonly RequestLimit[] = Object.freeze([
  { kind: 'challenge', by: 'person', max: 10, windowMs: 60 * MINUTE },
  { kind: 'challenge', by: 'address', max: 30, windowMs: 60 * MINUTE },
  { kind: 'upload', by: 'person', max: 10, windowMs: 60 * MINUTE },
  { kind: 'upload', by: 'address', max: 3, windowMs: MINUTE },
  { kind: 'upload', by: 'address', max: 30, windowMs: 60 * MINUTE },
]);

const QUEUE_MESSAGES: Record<QueueRefusal, string> = {
  person_busy: 'Your previous check is still being judged. Wait for its answer.',
  address_busy: 'Checks from your network are already waiting. Try again in a moment.',
  full: 'Many people are verifying right now. Try again in a minute.',
};

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
  blank_frame: 'The pictures were blank. Make sure your camera is on and uncovered.',
  frame_too_large: 'The pictures were larger than the check takes. Reload the page and try again.',
  default: 'The check did not pass. Try again.',
};

/** The refusal, in words a person can act on, with the operator's ways forward. */
export function ageRefusalMessage(age: { challenge: number; checkUrl: string | undefined | null; review: boolean }): string {
  const ways = [age.checkUrl ? 'confirm your age with an ID check' : null, age.review ? 'ask a moderator to review' : null].filter(Boolean);
  return (
    `This check could not confirm that you are ${age.challenge} or older, so you cannot be matched with adults here. ` +
    (ways.length ? `You can ${ways.join(', or ')}.` : 'Nothing about you was kept but the estimate.')
  );
}

const userParams = expects(z.strictObject({ id: z.string().uuid() }), 'Not a user id.');
const revokeBody = expects(
  z.strictObject({ reason: z.string().trim().min(3).max(500) }),
  'Revoke with {"reason": "..."} (3 to 500 characters).',
);
const HOUR = 3600_000;
const reviewBody = expects(
  z.strictObject({ note: z.string().trim().max(500).default('') }),
  'Ask for a review with {"note": "..."} (500 characters at most).',
);
const ageDecisionBody = expects(
  z.strictObject({ decision: z.enum(['confirm', 'refuse']) }),
  'Decide with {"decision": "confirm" | "refuse"}.',
);

async function subject(req: FastifyRequest, tokens: TokenIssuer): Promise<string | undefined> {
  const header = req.headers.authorization;
  return header?.startsWith('Bearer ') ? tokens.verify(header.slice(7)) : undefined;
}

const limited = (reply: FastifyReply, status: 429 | 503, retryAfterMs: number, message: string) =>
  reply
    .code(status)
    .header('retry-after', String(Math.max(1, Math.ceil(retryAfterMs / 1000))))
    .send({ error: { code: 'rate_limited', message } });
const inWords = (ms: number) => {
  const minutes = Math.ceil(ms / MINUTE);
  return ms < MINUTE ? `${Math.max(1, Math.ceil(ms / 1000))} seconds` : `${minutes} minute${minutes === 1 ? '' : 's'}`;
};

const unauthorized = (reply: FastifyReply) =>
  reply.code(401).send({ error: { code: 'invalid_token', message: 'Sign in again: the session token is invalid.' } });
const unavailable = (reply: FastifyReply) =>
  reply.code(404).send({ error: { code: 'verification_unavailable', message: 'Verification is off on this server.' } });

/**
 * The liveness check's HTTP side: status, challenges, answers (judged on the server by the same
 * detector the browser uses), the detector's model files for the browser, and the moderators'
 * revoke. Judging is one attempt at a time per node: the detector is CPU-heavy.
 */
export function verificationRoutes(app: FastifyInstance, d: VerificationRouteDeps): void {
  const api = useZodValidation(app);
  const s = d.settings;
  const limits = d.limits ?? VERIFICATION_REQUEST_LIMITS;
  const queue = new FairQueue(d.queue);
  const addressHash = (ip: string) =>
    createHmac('sha256', d.secret)
      .update(`verification:${addressKey(ip)}`)
      .digest('hex')
      .slice(0, 32);
  let prunedAt = 0;

  const ageOn = s.age !== undefined && s.age.challenge > 0;
  const ageInfo = async (userId: string): Promise<AgeInfo | undefined> =>
    ageOn && s.age
      ? {
          challenge: s.age.challenge,
          status: (await d.repo.ageOf(userId))?.status ?? null,
          checkUrl: s.age.checkUrl ?? null,
          review: s.age.review,
        }
      : undefined;

  const status = async (userId: string): Promise<VerificationStatus & { age?: AgeInfo }> => {
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
      ...(ageOn ? { age: await ageInfo(userId) } : {}),
    };
  };

  // The browser runs the same detector to guide the person: its models and WebAssembly come from
  // here, never from a CDN.
  if (s.enabled) {
    const assets = detectorAssetPaths();
    app.register(async (scope) => {
      await scope.register(fastifyStatic, {
        root: path.resolve(assets.modelsDir),
        prefix: '/models/human/',
        decorateReply: false,
        maxAge: '7d',
        immutable: true,
      });
    });
    app.register(async (scope) => {
      await scope.register(fastifyStatic, {
        root: path.resolve(assets.wasmDir),
        prefix: '/models/tfjs-wasm/',
        decorateReply: false,
        maxAge: '7d',
        allowedPath: (p) => p.endsWith('.wasm'),
      });
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
    // The detector's time is for people who have agreed to the rules, not for anonymous callers.
    if (!(await d.repo.rulesAccepted(userId)))
      return reply.code(403).send({ error: { code: 'rules_not_accepted', message: 'Accept the rules before taking the check.' } });
    const st = await status(userId);
    if (st.attemptsLeft === 0) {
      const minutes = Math.max(1, Math.ceil((st.retryAfterMs ?? 0) / 60_000));
      return limited(
        reply,
        429,
        st.retryAfterMs ?? MINUTE,
        `Too many failed attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
      );
    }
    const now = d.clock.now();
    const over = await d.repo.admit('challenge', userId, addressHash(req.ip), now, limits);
    if (over)
      return limited(
        reply,
        429,
        over.retryAfterMs,
        `Too many checks started ${over.limit.by === 'person' ? 'by you' : 'from your network'}. Try again in ${inWords(over.retryAfterMs)}.`,
      );
    if (now - prunedAt > 10 * MINUTE) {
      prunedAt = now;
      void d.repo.pruneRequests(now).catch((err: unknown) => d.log.warn({ err }, 'pruning verification requests failed'));
    }
    const verifier = await d.verifier();
    const c = await verifier.issue(userId);
    const body: VerificationChallengeInfo = {
      nonce: c.nonce,
      actions: c.actions,
      issuedAt: c.issuedAt,
      deadline: c.deadline,
      ttlMs: c.deadline - d.clock.now(),
    };
    return body;
  });

  // A whole attempt's frames (24 × 200 KB at most, base64) in one body.
  const bodyLimit = Math.ceil((VERIFICATION_LIMITS.maxFrames * VERIFICATION_LIMITS.maxFrameBytes * 4) / 3) + 64 * 1024;
  // The schema is checked at the edge, but a malformed upload still reaches the handler
  // (attachValidation): it counts as a failed attempt, with the reason the detector would give.
  const uploadOptions = {
    bodyLimit,
    attachValidation: true,
    config: { rateLimit: { max: 20, timeWindow: '1 minute' } },
    schema: { body: verificationSubmissionSchema },
  };
  api.post('/api/me/verification', uploadOptions, async (req, reply) => {
    const userId = await subject(req, d.tokens);
    if (!userId) return unauthorized(reply);
    if (!s.enabled) return unavailable(reply);
    const now = d.clock.now();
    // Decodes the frames; for a body the edge refused, it names the reason the person is shown.
    const parsed = parseSubmission(req.body);
    if (!parsed.ok) {
      await d.repo.record({ userId, at: now, ok: false, reasons: [parsed.reason], ms: 0, scores: {} });
      return reply.code(400).send({ error: { code: 'invalid_request', message: `The upload was refused (${parsed.reason}).` } });
    }
    // One attempt in the queue per person, a few per address, addresses served in turn: nobody can
    // fill the detector's queue alone. Checked before counting the upload, so a refusal costs nothing.
    const address = addressHash(req.ip);
    const busy = queue.check(userId, address);
    if (busy) return limited(reply, busy.reason === 'full' ? 503 : 429, busy.retryAfterMs, QUEUE_MESSAGES[busy.reason]);
    const over = await d.repo.admit('upload', userId, address, now, limits);
    if (over)
      return limited(
        reply,
        429,
        over.retryAfterMs,
        `Too many checks ${over.limit.by === 'person' ? 'from you' : 'from your network'}. Try again in ${inWords(over.retryAfterMs)}.`,
      );
    const verifier = await d.verifier();
    const ageConfirmed = ageOn && (await d.repo.ageOf(userId))?.status === 'confirmed';
    const admitted = queue.enter(userId, address, () => verifier.verify(userId, parsed.value, { ageConfirmed }));
    if (!admitted.ok) return limited(reply, admitted.reason === 'full' ? 503 : 429, admitted.retryAfterMs, QUEUE_MESSAGES[admitted.reason]);
    const outcome = await admitted.done;
    const at = d.clock.now();
    const ageJudged = ageOn && (outcome.ok || outcome.reasons.includes('age_unconfirmed'));
    const scores = ageJudged && outcome.age !== undefined ? { ...outcome.scores, age: outcome.age } : outcome.scores;
    await d.repo.record({ userId, at, ok: outcome.ok, reasons: outcome.reasons, ms: outcome.ms, scores });
    // The estimate only (a number); the frames are gone when this handler returns.
    if (ageJudged) await d.repo.recordAge(userId, outcome.age ?? null, outcome.ok, at);
    d.log.info({ userId, ok: outcome.ok, reasons: outcome.reasons, ms: Math.round(outcome.ms) }, 'verification attempt');
    const verifiedUntil = outcome.ok ? (outcome.verifiedUntil ?? null) : null;
    if (verifiedUntil !== null) {
      await d.repo.setVerifiedUntil(userId, verifiedUntil);
      d.onChange(userId, verifiedUntil);
    }
    const refusedAge = outcome.reasons.includes('age_unconfirmed');
    if (refusedAge && (await d.repo.verifiedUntil(userId)) !== null) {
      // An earlier pass no longer stands: the person leaves the pool that needs verification.
      await d.repo.setVerifiedUntil(userId, null);
      d.onChange(userId, null);
    }
    const first = outcome.reasons[0];
    const result: VerificationResultInfo & { age?: AgeInfo } = {
      ok: outcome.ok,
      reasons: [...outcome.reasons],
      message: outcome.ok
        ? 'You are verified.'
        : refusedAge && s.age
          ? ageRefusalMessage(s.age)
          : ((first && MESSAGES[first]) ?? MESSAGES.default),
      verifiedUntil,
    };
    const age = ageJudged ? await ageInfo(userId) : undefined;
    if (age) result.age = age;
    return result;
  });

  // A person the estimate refused asks a moderator to look again (AGE_REVIEW).
  api.post(
    '/api/me/verification/age-review',
    { config: { rateLimit: { max: 5, timeWindow: '1 minute' } }, schema: { body: reviewBody } },
    async (req, reply) => {
      const userId = await subject(req, d.tokens);
      if (!userId) return unauthorized(reply);
      if (!ageOn || !s.age?.review)
        return reply.code(404).send({ error: { code: 'not_found', message: 'This server does not offer age reviews.' } });
      if (!(await d.repo.requestAgeReview(userId, req.body.note)))
        return reply.code(409).send({ error: { code: 'not_refused', message: 'There is no age refusal to review.' } });
      d.log.info({ userId }, 'age review requested');
      return { age: await ageInfo(userId) };
    },
  );

  // Moderators see a person's status and attempts, and can revoke a verification.
  api.register(async (scope) => {
    const staffOnly = scope.withTypeProvider<ZodTypeProvider>();
    staffOnly.addHook(
      'onRequest',
      d.staff.guard('moderator', () => d.clock.now()),
    );
    staffOnly.get('/api/admin/users/:id/verification', { schema: { params: userParams } }, async (req) => {
      const until = await d.repo.verifiedUntil(req.params.id);
      const attempts = await d.repo.recent(req.params.id);
      return {
        verifiedUntil: until !== null && until > d.clock.now() ? until : null,
        age: (await d.repo.ageOf(req.params.id)) ?? null,
        attempts: attempts.map((a) => ({ at: Number(a.at), ok: a.ok === 1, reasons: a.reasons ? a.reasons.split(',') : [], ms: a.ms })),
      };
    });
    staffOnly.get('/api/admin/age-reviews', async () => ({ challenge: s.age?.challenge ?? 0, reviews: await d.repo.ageReviews() }));
    staffOnly.post('/api/admin/users/:id/age', { schema: { params: userParams, body: ageDecisionBody } }, async (req, reply) => {
      if (!(await d.repo.decideAge(req.params.id, req.body.decision)))
        return reply.code(404).send({ error: { code: 'not_found', message: 'No age review for this person.' } });
      await d.moderation.audit(req.staff!, req.body.decision === 'confirm' ? 'confirm_age' : 'refuse_age', req.params.id, {});
      return reply.code(204).send();
    });
    staffOnly.post('/api/admin/users/:id/verification/revoke', { schema: { params: userParams, body: revokeBody } }, async (req, reply) => {
      const until = await d.repo.verifiedUntil(req.params.id);
      if (until === null || until <= d.clock.now())
        return reply.code(404).send({ error: { code: 'not_found', message: 'This person is not verified.' } });
      await d.repo.setVerifiedUntil(req.params.id, null);
      await d.moderation.audit(req.staff!, 'revoke_verification', req.params.id, { reason: req.body.reason });
      d.onChange(req.params.id, null);
      return reply.code(204).send();
    });
  });
}
