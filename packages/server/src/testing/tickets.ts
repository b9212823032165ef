import type { Ticket } from '../matchmaking/rules.js';

/** A waiting person's ticket for tests and benches: chat in English, no region or interests, unless told. */
export const ticket = (userId: string, o: Partial<Ticket> = {}): Ticket => ({
  userId,
  mode: 'chat',
  language: 'en',
  region: undefined,
  interests: [],
  joinedAt: 0,
  blocked: new Set(),
  recent: [],
  ...o,
});
