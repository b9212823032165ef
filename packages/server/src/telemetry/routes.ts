import { insightsQuerySchema } from '@duet/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { MAX_BUCKETS, type Insights, toCsv } from './insights.js';
import type { DuetMetrics } from './metrics.js';
import type { StaffAccounts } from '../safety/staff.js';
import type { Clock } from '../util/clock.js';

const BUCKET_MS = { hour: 3_600_000, day: 86_400_000 } as const;
const exportQuery = z.strictObject({ from: z.coerce.number().int().min(0), to: z.coerce.number().int().min(0), format: z.enum(['csv', 'json']).default('json') });

/** `/metrics` for Prometheus, and the insights API for signed-in staff (or the operator's token). */
export function telemetryRoutes(app: FastifyInstance, deps: { metrics: DuetMetrics; insights: Insights; staff: StaffAccounts; clock: Clock; metricsToken: string | undefined }): void {
  app.get('/metrics', async (req, reply) => {
    // Usage figures are business data: with METRICS_TOKEN set, scrapers must present it; without
    // it, only a scraper on this machine is answered.
    if (deps.metricsToken && req.headers.authorization !== `Bearer ${deps.metricsToken}`) {
      return reply.code(401).send({ error: { code: 'unauthorized', message: 'Metrics need the scrape token.' } });
    }
    if (!deps.metricsToken && !fromThisMachine(req)) {
      return reply.code(403).send({ error: { code: 'forbidden', message: 'Metrics are served to this machine only; set METRICS_TOKEN to scrape from elsewhere.' } });
    }
    reply.type(deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });

  app.register(async (admin) => {
    // Moderators and admins (a console session), or the operator's API token.
    admin.addHook('onRequest', deps.staff.guard('moderator', () => deps.clock.now()));

    admin.get('/api/admin/insights', async (req, reply) => {
      const q = insightsQuerySchema.safeParse(req.query);
      if (!q.success) return badRequest(reply, 'Query must be ?from=<ms>&to=<ms>&bucket=hour|day.');
      const { from, to, bucket } = q.data;
      if (to <= from) return badRequest(reply, '`to` must be after `from`.');
      if ((to - from) / BUCKET_MS[bucket] > MAX_BUCKETS) return badRequest(reply, `At most ${MAX_BUCKETS} ${bucket}s per query; use a wider bucket or a shorter range.`);
      return deps.insights.overview(q.data);
    });

    admin.get('/api/admin/calls/export', async (req, reply) => {
      const q = exportQuery.safeParse(req.query);
      if (!q.success || q.data.to <= q.data.from) return badRequest(reply, 'Query must be ?from=<ms>&to=<ms>&format=csv|json.');
      const calls = await deps.insights.export(q.data.from, q.data.to);
      const name = `duet-calls-${new Date(q.data.from).toISOString().slice(0, 10)}-${new Date(q.data.to).toISOString().slice(0, 10)}`;
      if (q.data.format === 'csv') {
        return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}.csv"`).send(toCsv(calls));
      }
      return reply.header('content-disposition', `attachment; filename="${name}.json"`).send({ calls });
    });

    admin.get<{ Params: { id: string } }>('/api/admin/calls/:id', async (req, reply) => {
      const id = z.string().uuid().safeParse(req.params.id);
      if (!id.success) return badRequest(reply, 'Not a call id.');
      const call = await deps.insights.call(id.data);
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
  return LOOPBACK.test(req.socket.remoteAddress ?? '') && h['x-forwarded-for'] === undefined && h.forwarded === undefined && h['x-real-ip'] === undefined;
}

function badRequest(reply: FastifyReply, message: string) {
  return reply.code(400).send({ error: { code: 'invalid_request', message } });
}
