import { z } from 'zod';
import { END_REASONS } from './endReasons.js';
import { ERROR_CODES } from './errors.js';
import { LIMITS } from './limits.js';
import { qualitySampleSchema } from './telemetry.js';

/** Bumped on any breaking change to the messages below; sent in `hello` and `welcome`. */
export const PROTOCOL_VERSION = 1;

const callId = z.string().min(1).max(64);

export const interestSchema = z
  .string()
  .trim()
  .toLowerCase()
  .min(1)
  .max(LIMITS.maxInterestChars)
  .regex(/^[\p{L}\p{N}_-]+$/u, 'letters, digits, _ and - only');

const sessionDescription = z.strictObject({
  type: z.enum(['offer', 'answer', 'pranswer', 'rollback']),
  sdp: z.string().max(LIMITS.maxSdpChars).optional(),
});

const iceCandidate = z.strictObject({
  candidate: z.string().max(LIMITS.maxCandidateChars),
  sdpMid: z.string().max(64).nullable().optional(),
  sdpMLineIndex: z.number().int().min(0).max(64).nullable().optional(),
  usernameFragment: z.string().max(256).nullable().optional(),
});

export const REPORT_REASONS = ['nudity', 'harassment', 'underage', 'spam', 'violence', 'other'] as const;
export type ReportReason = (typeof REPORT_REASONS)[number];

/** Peer connection states a client reports for its current call. */
export const PEER_STATES = ['connected', 'disconnected', 'failed'] as const;

// ---- client -> server -------------------------------------------------------------------

export const clientMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('hello'), v: z.number().int(), token: z.string().min(1).max(2048) }),
  z.strictObject({
    type: z.literal('join'),
    interests: z.array(interestSchema).max(LIMITS.maxInterests).optional(),
    /** Language the person wants to talk in (BCP 47 primary subtag, e.g. "en"); default "en". */
    language: z
      .string()
      .regex(/^[a-z]{2,3}$/, 'a language code such as "en"')
      .optional(),
    /** Optional region preference (operator-defined, e.g. "eu"); dropped after a wait. */
    region: z
      .string()
      .regex(/^[a-z0-9-]{1,16}$/)
      .optional(),
    /** Operator-defined mode, e.g. "chat", "language-exchange", "advice"; must be one the server offers. */
    mode: z
      .string()
      .regex(/^[a-z0-9-]{1,32}$/)
      .optional(),
    /** IP privacy: media only through the relay, so the partner never learns this person's address. */
    privacy: z.boolean().optional(),
    /** Meet only people who passed the liveness check (docs/verification.md). */
    verifiedOnly: z.boolean().optional(),
  }),
  /**
   * Skip: ends the call it names and looks for someone new. Without a callId ("I am not in a call as
   * far as I know") it never ends a call: from idle it joins, while waiting it stays waiting.
   */
  z.strictObject({ type: z.literal('next'), callId: callId.optional() }),
  /** Stop: ends the call it names (and only that one); with or without a callId, stops looking. */
  z.strictObject({ type: z.literal('leave'), callId: callId.optional() }),
  /**
   * The answer to a `call_ended` that said `then: 'waiting'` and was not by you: the client saw the
   * end and wants to meet someone new. Until it arrives the person is held out of the queue.
   */
  z.strictObject({ type: z.literal('requeue'), callId }),
  z.strictObject({
    type: z.literal('signal'),
    callId,
    description: sessionDescription.optional(),
    candidate: iceCandidate.nullable().optional(),
  }),
  z.strictObject({ type: z.literal('peer_state'), callId, state: z.enum(PEER_STATES) }),
  z.strictObject({
    type: z.literal('chat'),
    callId,
    text: z.string().trim().min(1).max(LIMITS.maxChatChars),
  }),
  z.strictObject({ type: z.literal('block'), callId }),
  z.strictObject({
    type: z.literal('report'),
    callId,
    reason: z.enum(REPORT_REASONS),
    comment: z.string().max(500).optional(),
  }),
  z.strictObject({ type: z.literal('ping') }),
  /** Every few seconds during a call: how many bytes this browser has received (evidence of media). */
  z.strictObject({
    type: z.literal('heartbeat'),
    callId,
    seq: z.number().int().min(0).max(1e9),
    bytesReceived: z.number().int().min(0).max(1e15),
  }),
  /** Fresh ICE servers (TURN credentials) before an ICE restart. */
  z.strictObject({ type: z.literal('ice_refresh'), callId }),
  /** A call-quality summary: every 10 s during a call and once more (`final`) when it ends. */
  z.strictObject({ type: z.literal('stats'), callId, final: z.boolean().optional(), sample: qualitySampleSchema }),
  /** Funnel steps only the browser can see. */
  z.strictObject({ type: z.literal('funnel'), step: z.enum(['camera_allowed']) }),
]);

export type ClientMessage = z.infer<typeof clientMessageSchema>;
export type ClientMessageType = ClientMessage['type'];
export const CLIENT_MESSAGE_TYPES = clientMessageSchema.options.map((o) => o.shape.type.value);

// ---- server -> client -------------------------------------------------------------------

export const iceServerSchema = z.strictObject({
  urls: z.union([z.string(), z.array(z.string())]),
  username: z.string().optional(),
  credential: z.string().optional(),
});
export type IceServer = z.infer<typeof iceServerSchema>;

export const serverMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('welcome'),
    v: z.number().int(),
    userId: z.string(),
    online: z.number().int(),
    /** Set when this connection resumed a call the previous one left (within the grace window). */
    callId: callId.optional(),
  }),
  z.strictObject({
    type: z.literal('presence'),
    online: z.number().int(),
    waiting: z.number().int(),
    /** The most common interests among people waiting right now. */
    topInterests: z.array(z.strictObject({ tag: z.string(), count: z.number().int() })).optional(),
  }),
  z.strictObject({
    type: z.literal('queued'),
    waiting: z.number().int(),
    /** An honest estimate from recent matches; null when there is nothing to base one on. */
    estimatedWaitMs: z.number().int().nullable().optional(),
  }),
  /** Matching was widened for this person: interests became a preference, or region was dropped. */
  z.strictObject({ type: z.literal('widened'), stage: z.enum(['interests', 'region']), interests: z.array(z.string()).optional() }),
  z.strictObject({ type: z.literal('idle') }),
  z.strictObject({
    type: z.literal('matched'),
    callId,
    /** The offerer makes the first offer and is the impolite peer in perfect negotiation. */
    role: z.enum(['offerer', 'answerer']),
    iceServers: z.array(iceServerSchema),
    /** 'relay' when either person (or the operator) asked for IP privacy. */
    iceTransportPolicy: z.enum(['all', 'relay']).optional(),
    connectTimeoutMs: z.number().int(),
    /** The partner passed the liveness check (shown as a badge during the call). */
    partnerVerified: z.boolean().optional(),
  }),
  z.strictObject({
    type: z.literal('signal'),
    callId,
    description: sessionDescription.optional(),
    candidate: iceCandidate.nullable().optional(),
  }),
  z.strictObject({ type: z.literal('call_connected'), callId }),
  /** Media or signaling dropped for one side; the call survives if it recovers within the grace window. */
  z.strictObject({ type: z.literal('call_reconnecting'), callId, graceMs: z.number().int() }),
  z.strictObject({ type: z.literal('ice_servers'), callId, iceServers: z.array(iceServerSchema) }),
  z.strictObject({
    type: z.literal('call_ended'),
    callId,
    reason: z.enum(END_REASONS),
    /** Who ended it: this person, their partner, or the server (timeouts, shutdown). */
    by: z.enum(['you', 'partner', 'server']),
    /**
     * What happens to this person now: back in the queue, or idle. `waiting` after a call someone
     * else ended means "once you answer `requeue`": nobody is matched again before their client has
     * seen the end (and they may have pressed Stop meanwhile).
     */
    then: z.enum(['waiting', 'idle']),
  }),
  z.strictObject({
    type: z.literal('chat'),
    callId,
    from: z.enum(['you', 'partner']),
    text: z.string(),
    at: z.number(),
  }),
  z.strictObject({
    type: z.literal('error'),
    code: z.enum(ERROR_CODES as [string, ...string[]]),
    message: z.string(),
    /** The type of the message that caused it, when known. */
    ref: z.string().optional(),
  }),
  z.strictObject({ type: z.literal('pong') }),
  /** The report was stored; the reporter's browser may now upload the frame it captured. */
  z.strictObject({ type: z.literal('report_filed'), reportId: z.string(), callId }),
  /** This person is banned: why, until when (null: permanently), and where to appeal. The socket closes. */
  z.strictObject({ type: z.literal('banned'), reason: z.string(), until: z.number().nullable(), appeal: z.string() }),
  /** The meter: billable time of this call so far, what it has cost this person, and their balance. */
  z.strictObject({
    type: z.literal('billing'),
    callId,
    billedMs: z.number().int(),
    chargedMicros: z.number().int(),
    balanceMicros: z.number().int(),
    /** This person's free time for this call (daily free minutes), used before anything is charged. */
    freeMs: z.number().int().min(0).optional(),
  }),
  /** Credit is running out: the call ends when it reaches zero. */
  z.strictObject({ type: z.literal('credit_low'), callId, secondsLeft: z.number().int() }),
  /** A moderator's warning, shown to the person. */
  z.strictObject({ type: z.literal('warning'), message: z.string() }),
]);

export type ServerMessage = z.infer<typeof serverMessageSchema>;
export type ServerMessageOf<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;
export type ClientMessageOf<T extends ClientMessage['type']> = Extract<ClientMessage, { type: T }>;
