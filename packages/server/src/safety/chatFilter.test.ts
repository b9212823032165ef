import { describe, expect, it } from 'vitest';
import { filterChat } from './chatFilter.js';

describe('chat filter', () => {
  it.each([
    ['see https://example.com/x now', 'see [link removed] now'],
    ['go to www.example.org', 'go to [link removed]'],
    ['mail me at anna.b+x@mail.example.co.uk', 'mail me at [contact removed]'],
    ['join t.me/somechannel', 'join [link removed]'],
    ['call +44 20 7946 0958 later', 'call [contact removed] later'],
    ['my insta is @anna_b', 'my insta is [contact removed]'],
  ])('removes %j', (input, expected) => {
    expect(filterChat(input)).toEqual({ text: expected, filtered: true });
  });

  it.each(['hello there', 'I am 25', 'it costs 30.50', 'meet at 5pm', 'score was 3-2'])('keeps %j', (input) => {
    expect(filterChat(input)).toEqual({ text: input, filtered: false });
  });
});
