/**
 * Every error code the server can send, in one place. Codes are a stable contract: clients
 * switch on them, so a code is never reused for another meaning (a unit test checks uniqueness).
 */
export const ERRORS = {
  bad_json: 'The message is not valid JSON.',
  invalid_message: 'The message does not match the protocol schema.',
  unknown_type: 'Unknown message type.',
  too_large: 'The message is larger than the server accepts.',
  unsupported_version: 'This protocol version is not supported by the server.',
  not_authenticated: 'Send hello with a valid session token first.',
  invalid_token: 'The session token is invalid or expired.',
  already_authenticated: 'This connection has already said hello.',
  rules_not_accepted: 'Accept the rules before starting.',
  out_of_turn: 'That message is not valid in the current state.',
  not_in_call: 'That call is not your current call.',
  stale_call: 'That was meant for a call that is no longer your current one, so nothing was changed.',
  rate_limited: 'Too many messages; slow down.',
  insufficient_credits: 'Not enough credit to start a call. Top up to continue.',
  relay_unavailable: 'IP privacy needs a relay server, and this server has none.',
  verification_required: 'This server connects only verified people. Take the short liveness check first.',
  verification_unavailable: 'Verification is off on this server.',
  session_replaced: 'This account connected from another tab or device.',
  invalid_request: 'The request is invalid.',
  not_found: 'Nothing here.',
  unauthorized: 'Sign in first.',
  forbidden: 'You are not allowed to do that.',
  banned: 'This account is banned from Duet.',
  admin_disabled: 'The console is off on this server.',
  internal: 'Something went wrong on the server.',
  server_busy: 'Duet is very busy right now. Trying again in a moment…',
} as const satisfies Record<string, string>;

export type ErrorCode = keyof typeof ERRORS;

export const ERROR_CODES = Object.keys(ERRORS) as ErrorCode[];
