import { ERRORS, type ErrorCode } from './errors.js';
import { LIMITS } from './limits.js';
import { CLIENT_MESSAGE_TYPES, clientMessageSchema, type ClientMessage } from './messages.js';

export type ParseResult = { ok: true; message: ClientMessage } | { ok: false; code: ErrorCode; message: string; ref?: string };

const knownTypes = new Set<string>(CLIENT_MESSAGE_TYPES);

/**
 * Validates one raw client frame: size, JSON, known type, then schema. Never throws.
 * The error text names the first failing field but never echoes the client's data back.
 */
export function parseClientMessage(raw: string, byteLength: number): ParseResult {
  if (byteLength > LIMITS.maxMessageBytes) return fail('too_large');
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return fail('bad_json');
  }
  const type = typeof data === 'object' && data !== null ? (data as { type?: unknown }).type : undefined;
  if (typeof type !== 'string' || !knownTypes.has(type)) return fail('unknown_type');
  const parsed = clientMessageSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` (${issue.path.join('.')})` : '';
    return { ok: false, code: 'invalid_message', message: `${ERRORS.invalid_message}${where}`, ref: type };
  }
  return { ok: true, message: parsed.data };
}

function fail(code: ErrorCode): ParseResult {
  return { ok: false, code, message: ERRORS[code] };
}
