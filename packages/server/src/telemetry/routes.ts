import { insightsQuerySchema } from '@duet/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { MAX_BUCKETS, type Insights, toCsv } from './insights.js';
import type { DuetMetrics } from './metrics.js';
import type { StaffAccounts } from '../safety/staff.js';
import type { Clock } from '../util/clock.js';
import { expects, useZodValidation, type ZodTypeProvider } from '../web/validation.js';

const BUCKET_MS = { hour: 3_600_000, day: 86_400_000 } as const;
const insightsQuery = expects(
  insightsQuerySchema.superRefine((q, ctx) => {
    if (q.to <= q.from) ctx.addIssue({ code: 'custom', message: '`to` must be after `from`.' });
    else if ((q.to - q.from) / BUCKET_MS[q.bucket] > MAX_BUCKETS)
      ctx.addIssue({ code: 'custom', message: `At most ${MAX_BUCKETS} ${q.bucket}s per query; use a wider bucket or a shorter range.` });
  }),
  'Query must be ?from=<ms>&to=<ms>&bucket=hour|day.',
);
const exportQuery = expects(
  z
    .strictObject({
      from: z.coerce.number().int().min(0),
      to: z.coerce.number().int().min(0),
      format: z.enum(['csv', 'json']).default('json'),
    })
    .refine((q) => q.to > q.from, '`to` must be after `from`.'),
  'Query must be ?from=<ms>&to=<ms>&format=csv|json.',
);
const callParams = expects(z.strictObject({ id: z.string().uuid() }), 'Not a call id.');

/** `/metrics` for Prometheus, and the insights API for signed-in staff (or the operator's token). */
export function telemetryRoutes(
  app: FastifyInstance,
  deps: { metrics: DuetMetrics; insights: Insights; staff: StaffAccounts; clock: Clock; metricsToken: string | undefined },
): void {
  app.get('/metrics', async (req, reply) => {
    // Usage figures are business data: with METRICS_TOKEN set, scrapers must present it; without
    // it, only a scraper on this machine is answered.
    if (deps.metricsToken && req.headers.authorization !== `Bearer ${deps.metricsToken}`) {
      return reply.code(401).send({ error: { code: 'unauthorized', message: 'Metrics need the scrape token.' } });
    }
    if (!deps.metricsToken && !fromThisMachine(req)) {
      return reply.code(403).send({
        error: { code: 'forbidden', message: 'Metrics are served to this machine only; set METRICS_TOKEN to scrape from elsewhere.' },
      });
    }
    reply.type(deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });

  useZodValidation(app).register(async (scope) => {
    const admin = scope.withTypeProvider<ZodTypeProvider>();
    // Moderators and admins (a console session), or the operator's API token.
    admin.addHook(
      'onRequest',
      deps.staff.guard('moderator', () => deps.clock.now()),
    );

    admin.get('/api/admin/insights', { schema: { querystring: insightsQuery } }, async (req) => deps.insights.overview(req.query));

    admin.get('/api/admin/calls/export', { schema: { querystring: exportQuery } }, async (req, reply) => {
      const { from, to, format } = req.query;
      const calls = await deps.insights.export(from, to);
      const name = `duet-calls-${new Date(from).toISOString().slice(0, 10)}-${new Date(to).toISOString().slice(0, 10)}`;
      if (format === 'csv') {
        return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}.csv"`).send(toCsv(calls));
      }
      return reply.header('content-disposition', `attachment; filename="${name}.json"`).send({ calls });
    });

    admin.get('/api/admin/calls/:id', { schema: { params: callParams } }, async (req, reply) => {
      const call = await deps.insights.call(req.params.id);
      if (!call) return reply.code(404).send({ error: { code: 'not_found', message: 'No such call (it may be past retention).' } });
      return call;
    });
  });
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/**
 * The TCP peer is loopback and no proxy header names another client. `req.ip` is not used: with
 * TRUST_PROXY it comes from X-Forwarded-For, which anyone can write; and a request relayed by a
 * proxy on this machine carries the header, so it is refused whatever the header says.
 */
function fromThisMachine(req: FastifyRequest): boolean {
  const h = req.headers;
  return (
    LOOPBACK.test(req.socket.remoteAddress ?? '') &&
    h['x-forwarded-for'] === undefined &&
    h.forwarded === undefined &&
    h['x-real-ip'] === undefined
  );
}
