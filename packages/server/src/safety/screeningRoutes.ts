import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { TokenIssuer } from '../identity/tokens.js';
import { expects, useZodValidation } from '../web/validation.js';
import { personGate } from './routes.js';
import { SCREEN_CLASSES, type Screening } from './screening.js';

const JPEG_PREFIX = 'data:image/jpeg;base64,';
/** The flagged frame: one JPEG, as the viewer's browser drew it (320 px wide), 300 KB at most. */
export const MAX_FLAG_FRAME_CHARS = 400_000;

const probability = z.number().min(0).max(1);
const flagBody = expects(
  z
    .strictObject({
      frame: z
        .string()
        .max(MAX_FLAG_FRAME_CHARS)
        .regex(/^data:image\/jpeg;base64,[A-Za-z0-9+/=]+$/),
      scores: z.strictObject(
        Object.fromEntries(SCREEN_CLASSES.map((c) => [c, probability])) as Record<(typeof SCREEN_CLASSES)[number], typeof probability>,
      ),
      ms: z.number().min(0).max(60_000).optional(),
    })
    .refine(
      (b) =>
        Buffer.from(b.frame.slice(JPEG_PREFIX.length, JPEG_PREFIX.length + 8), 'base64')
          .subarray(0, 3)
          .equals(Buffer.from([0xff, 0xd8, 0xff])),
      'That is not a JPEG image.',
    ),
  'Flag with {"frame": "data:image/jpeg;base64,...", "scores": {Drawing, Hentai, Neutral, Porn, Sexy}}.',
);
const callParams = expects(z.strictObject({ id: z.string().uuid() }), 'Not a call id.');

export interface ScreeningRouteDeps {
  screening: Screening;
  /** The mode people get when they choose none (MATCH_MODES' first): its threshold is the browser's. */
  defaultMode: string;
  tokens: TokenIssuer;
  log: Logger;
  /** A flag was filed: the console's live view and the per-person signal. */
  onFlag?: (callId: string, flaggedId: string, viewers: number) => void;
}

/**
 * Blur-first screening's HTTP side: the settings the browser's classifier follows, and the flags it
 * files. A flag carries only the flagged frame and the scores (docs/safety.md).
 */
export function screeningRoutes(app: FastifyInstance, d: ScreeningRouteDeps): void {
  const api = useZodValidation(app);
  const s = d.screening.settings;

  app.get('/api/screening', async () => ({
    enabled: s.enabled,
    thresholds: s.thresholds,
    defaultMode: d.defaultMode,
    // The model and its weights are part of the web app's build, served from this origin.
    model: 'nsfwjs/MobileNetV2',
  }));

  const { signedIn, people } = personGate(d.tokens);

  api.post(
    '/api/calls/:id/screen-flag',
    {
      bodyLimit: 512 * 1024,
      config: { rateLimit: { max: 30, timeWindow: '1 minute' } },
      preValidation: signedIn,
      schema: { params: callParams, body: flagBody },
    },
    async (req, reply) => {
      if (!s.enabled) return reply.code(404).send({ error: { code: 'not_found', message: 'Screening is off on this server.' } });
      const viewerId = people.get(req)!;
      const outcome = await d.screening.flag({
        viewerId,
        callId: req.params.id,
        jpegBase64: req.body.frame.slice(JPEG_PREFIX.length),
        scores: req.body.scores,
        ms: req.body.ms,
      });
      switch (outcome.kind) {
        case 'not_your_call':
          return reply.code(403).send({ error: { code: 'not_in_call', message: 'You can flag only the call you are in.' } });
        case 'below_threshold':
          return reply.code(422).send({ error: { code: 'invalid_request', message: 'These scores are below every threshold.' } });
        case 'rate_limited':
          return reply
            .code(429)
            .header('retry-after', String(Math.ceil(outcome.retryAfterMs / 1000)))
            .send({ error: { code: 'rate_limited', message: 'Too many flags from you this hour.' } });
        case 'duplicate':
          return reply.code(200).send({ reportId: outcome.reportId, duplicate: true });
        case 'filed':
          // Ids and counts only: never the frame or the scores in a log line.
          d.log.info({ callId: req.params.id, viewerId, flaggedId: outcome.flaggedId, viewers: outcome.viewers }, 'screening flag filed');
          d.onFlag?.(req.params.id, outcome.flaggedId, outcome.viewers);
          return reply.code(201).send({ reportId: outcome.reportId, viewers: outcome.viewers, held: outcome.held });
      }
    },
  );
}
