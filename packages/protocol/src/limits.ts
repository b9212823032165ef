/** Limits every client and server agree on; the server enforces them. */
export const LIMITS = {
  /** Largest signaling message the server reads, in bytes of UTF-8 JSON. */
  maxMessageBytes: 64 * 1024,
  /** Largest SDP body inside a signal. */
  maxSdpChars: 32 * 1024,
  maxCandidateChars: 1024,
  maxChatChars: 500,
  maxInterests: 5,
  maxInterestChars: 24,
} as const;
