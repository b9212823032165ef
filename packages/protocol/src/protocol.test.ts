import { describe, expect, it } from 'vitest';
import { END_REASONS, ERROR_CODES, ERRORS, LIMITS, parseClientMessage } from './index.js';

const parse = (value: unknown) => {
  const raw = typeof value === 'string' ? value : JSON.stringify(value);
  return parseClientMessage(raw, Buffer.byteLength(raw));
};

describe('protocol catalogue', () => {
  it('has unique, snake_case error codes with a message each', () => {
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
    for (const code of ERROR_CODES) {
      expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/);
      expect(ERRORS[code].length).toBeGreaterThan(5);
    }
  });

  it('keeps the end reason taxonomy of PRODUCT.md, in order', () => {
    expect(END_REASONS).toEqual([
      'next',
      'leave',
      'blocked',
      'reported',
      'ice_failed',
      'connection_lost',
      'heartbeat_timeout',
      'moderator',
      'banned',
      'insufficient_credits',
      'server_shutdown',
    ]);
  });
});

describe('parseClientMessage', () => {
  it('accepts a valid join and normalises interests', () => {
    const r = parse({ type: 'join', interests: [' Chess ', 'music'] });
    expect(r).toEqual({ ok: true, message: { type: 'join', interests: ['chess', 'music'] } });
  });

  it.each([
    ['not json', '{nope', 'bad_json'],
    ['a JSON string', '"join"', 'unknown_type'],
    ['null', 'null', 'unknown_type'],
    ['an unknown type', { type: 'launch_missiles' }, 'unknown_type'],
    ['a prototype key as type', { type: '__proto__' }, 'unknown_type'],
    ['extra fields', { type: 'next', admin: true }, 'invalid_message'],
    ['too many interests', { type: 'join', interests: ['a', 'b', 'c', 'd', 'e', 'f'] }, 'invalid_message'],
    ['an interest with spaces', { type: 'join', interests: ['two words'] }, 'invalid_message'],
    ['empty chat', { type: 'chat', callId: 'c1', text: '   ' }, 'invalid_message'],
    ['over-long chat', { type: 'chat', callId: 'c1', text: 'x'.repeat(LIMITS.maxChatChars + 1) }, 'invalid_message'],
    [
      'an SDP over the cap',
      { type: 'signal', callId: 'c', description: { type: 'offer', sdp: 'x'.repeat(LIMITS.maxSdpChars + 1) } },
      'invalid_message',
    ],
    ['an unknown report reason', { type: 'report', callId: 'c', reason: 'meh' }, 'invalid_message'],
  ])('rejects %s', (_name, value, code) => {
    const r = parse(value);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.code).toBe(code);
  });

  it('lets next and leave name the call they mean (or none), and requeue must name one', () => {
    expect(parse({ type: 'next', callId: 'c1' })).toEqual({ ok: true, message: { type: 'next', callId: 'c1' } });
    expect(parse({ type: 'leave' })).toEqual({ ok: true, message: { type: 'leave' } });
    expect(parse({ type: 'requeue', callId: 'c1' })).toEqual({ ok: true, message: { type: 'requeue', callId: 'c1' } });
    for (const bad of [{ type: 'requeue' }, { type: 'next', callId: '' }, { type: 'leave', callId: 7 }]) {
      expect(parse(bad)).toMatchObject({ ok: false, code: 'invalid_message' });
    }
    expect(ERRORS.stale_call).toMatch(/nothing was changed/);
  });

  it('rejects a frame over the byte cap before parsing it', () => {
    const r = parseClientMessage('{}', LIMITS.maxMessageBytes + 1);
    expect(r).toMatchObject({ ok: false, code: 'too_large' });
  });

  it('names the failing field without echoing the value', () => {
    const r = parse({ type: 'chat', callId: 'c1', text: 42 });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.message).toContain('(text)');
      expect(r.message).not.toContain('42');
    }
  });
});
