import { CLOSE } from '@duet/protocol';
import { describe, expect, it } from 'vitest';
import { DuetClientError } from './errors.js';

describe('DuetClientError', () => {
  it("keeps the server's catalogue code and wording from an HTTP error body", () => {
    const e = DuetClientError.fromResponse(403, { error: { code: 'banned', message: 'This account is banned from Duet.' } });
    expect(e).toMatchObject({ code: 'banned', message: 'This account is banned from Duet.' });
  });

  it('falls back to the status when the body says nothing the catalogue knows', () => {
    expect(DuetClientError.fromResponse(401, null)).toMatchObject({ code: 'unauthorized', message: 'The server answered 401.' });
    expect(DuetClientError.fromResponse(502, { error: { code: 'teapot' } }).code).toBe('internal');
    expect(DuetClientError.fromResponse(400, 'nonsense').code).toBe('invalid_request');
  });

  it('names a close code in catalogue terms, and anything unexplained as a network failure', () => {
    expect(DuetClientError.socketClosed(CLOSE.replaced).code).toBe('session_replaced');
    expect(DuetClientError.socketClosed(CLOSE.banned).code).toBe('banned');
    expect(DuetClientError.socketClosed(CLOSE.busy).code).toBe('server_busy');
    expect(DuetClientError.socketClosed(1006)).toMatchObject({ code: 'network', message: 'Could not reach the Duet server (code 1006).' });
  });

  it('becomes a plain event payload that survives a spread', () => {
    const event = DuetClientError.fromServer({
      code: 'rules_not_accepted',
      message: 'Accept the rules before starting.',
      ref: 'join',
    }).toEvent();
    expect({ ...event }).toEqual({ code: 'rules_not_accepted', message: 'Accept the rules before starting.', ref: 'join' });
  });
});
