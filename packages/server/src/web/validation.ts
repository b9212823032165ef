import type { FastifyInstance, FastifyTypeProvider } from 'fastify';
import { z } from 'zod';

/**
 * HTTP input is validated at the edge, like WebSocket frames: a route declares zod schemas
 * (`schema: { body, params, querystring }`) and Fastify refuses a request that does not match
 * before its handler runs, with a 400 whose message says what was wrong. Handlers receive the
 * parsed values (defaults applied, numbers coerced) and typed.
 */

/** Types `req.body`, `req.params` and `req.query` from a route's zod schemas. */
export interface ZodTypeProvider extends FastifyTypeProvider {
  readonly validator: this['schema'] extends z.ZodType ? z.output<this['schema']> : unknown;
  readonly serializer: this['schema'] extends z.ZodType ? z.input<this['schema']> : unknown;
}

/** A route's own words for what it expects; they lead the 400 message when its schema refuses. */
const hints = z.registry<{ hint: string }>();

/** Gives `schema` a hint for people who got the request wrong, e.g. `Email and password, please.` */
export function expects<T extends z.ZodType>(schema: T, hint: string): T {
  hints.add(schema, { hint });
  return schema;
}

/** Thrown at the edge; the app's error handler answers it as `400 invalid_request` with its message. */
export class RequestValidationError extends Error {
  readonly statusCode = 400;
  readonly code = 'FST_ERR_VALIDATION';
  constructor(
    message: string,
    readonly part: string,
    readonly issues: readonly z.core.$ZodIssue[],
  ) {
    super(message);
    this.name = 'RequestValidationError';
  }
}

const PART: Record<string, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'header' };
const MAX_DETAIL = 200;

/**
 * One line naming the first thing wrong: `body.email: Invalid email address`. A refinement of the
 * whole input speaks for itself (`to` must be after `from`); otherwise the schema's hint, if any,
 * comes first.
 */
export function describeInvalid(part: string, issues: readonly z.core.$ZodIssue[], hint?: string): string {
  const issue = issues[0];
  if (!issue) return hint ?? `Invalid ${PART[part] ?? part}.`;
  if (issue.code === 'custom' && issue.path.length === 0 && issue.message) return issue.message;
  const path = [PART[part] ?? part, ...issue.path.map(String)].join('.');
  const what =
    issue.code === 'unrecognized_keys'
      ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k.slice(0, 40))).join(', ')}`
      : issue.message;
  const detail = `${path}: ${what}`.slice(0, MAX_DETAIL);
  return hint ? `${hint} (${detail})` : `Invalid request: ${/[.!?]$/.test(detail) ? detail : `${detail}.`}`;
}

const isZod = (schema: unknown): schema is z.ZodType => schema instanceof z.ZodType;

/**
 * Makes zod the validator and serializer of `app`'s routes (and of every plugin registered inside
 * it), and returns the instance typed by their schemas. Safe to call more than once; call it before
 * the routes are declared. A route with a JSON schema fails at start, rather than going unchecked.
 */
export function useZodValidation(app: FastifyInstance) {
  if (!configured.has(app)) {
    configured.add(app);
    app.setValidatorCompiler(({ schema, httpPart, method, url }) => {
      if (!isZod(schema)) throw new Error(`${method} ${url}: the ${httpPart ?? 'input'} schema must be a zod schema`);
      const hint = hints.get(schema)?.hint;
      const part = httpPart ?? 'body';
      return (data: unknown) => {
        const result = schema.safeParse(data);
        if (result.success) return { value: result.data };
        return { error: new RequestValidationError(describeInvalid(part, result.error.issues, hint), part, result.error.issues) };
      };
    });
    // Only for routes that declare a response schema: the answer is checked, then written.
    app.setSerializerCompiler(({ schema, method, url }) => {
      if (!isZod(schema)) throw new Error(`${method} ${url}: the response schema must be a zod schema`);
      return (data: unknown) => JSON.stringify(schema.parse(data));
    });
  }
  return app.withTypeProvider<ZodTypeProvider>();
}

const configured = new WeakSet<FastifyInstance>();
