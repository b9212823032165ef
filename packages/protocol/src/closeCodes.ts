/**
 * WebSocket close codes of the signaling connection. The server closes with them and the SDK
 * decides on them (retry or give up), so both read them from here. 1000-1011 are the standard
 * codes Duet uses; 4000-4999 are Duet's own.
 */
export const CLOSE = {
  /** The client said goodbye. */
  normal: 1000,
  /** The server is shutting down; another node (or this one, restarted) will take the reconnect. */
  goingAway: 1001,
  /** Policy: too many sockets from one address, or hello failed on the server's side. */
  policy: 1008,
  /** A frame above the hard size cap. */
  tooLarge: 1009,
  unsupportedVersion: 4000,
  invalidToken: 4001,
  /** The same account connected from another tab or device; the newest connection wins. */
  replaced: 4002,
  helloTimeout: 4003,
  banned: 4004,
  /** The node is saturated: try again after the delay the reason gives (`retryAfterReason`). */
  busy: 4005,
} as const;

export type CloseCode = (typeof CLOSE)[keyof typeof CLOSE];

/**
 * Closes that reconnecting cannot fix: the same hello would be refused again, or would take the
 * session back from the tab that replaced this one.
 */
const FINAL: ReadonlySet<number> = new Set([CLOSE.unsupportedVersion, CLOSE.invalidToken, CLOSE.replaced, CLOSE.banned]);

export function isFinalClose(code: number): boolean {
  return FINAL.has(code);
}

/** The close reason that goes with CLOSE.busy: when to try again, in milliseconds. */
export function retryAfterReason(ms: number): string {
  return `server_busy; retry-after-ms=${Math.max(0, Math.round(ms))}`;
}

/** The delay a CLOSE.busy reason asks for, or undefined when it names none. */
export function retryAfterOf(reason: string): number | undefined {
  const hit = /retry-after-ms=(\d{1,7})/.exec(reason);
  return hit ? Number(hit[1]) : undefined;
}
