import { END_REASONS, serverMessageSchema } from '@duet/protocol';
import { z } from 'zod';

/**
 * What one node tells another about a call with a side on each, or a person connected there. Every
 * message is validated on arrival like a browser's: a node running other code (a rolling upgrade, a
 * bug) cannot put a call into a state its own node would refuse.
 */
const side = <T extends z.ZodType>(t: T) => z.object({ a: t, b: t });
const id = z.string().min(1).max(200);

/** A live call as the node keeping it describes it to the console of any node. */
export const liveCallSchema = z.object({
  id,
  state: z.enum(['matched', 'connecting', 'connected', 'reconnecting', 'ended']),
  matchedAt: z.number(),
  connectedAt: z.number().nullable(),
  relayOnly: z.boolean(),
  a: id,
  b: id,
  /** The node that keeps the call (it matched them), and the node each person is connected to. */
  node: id,
  nodes: side(id),
});
export type LiveCall = z.infer<typeof liveCallSchema>;

/** What one node may ask another, for the console; each question has one kind of answer. */
export const clusterQuestionSchema = z.discriminatedUnion('q', [
  z.object({ q: z.literal('live_calls') }),
  z.object({ q: z.literal('end_call'), callId: id }),
]);
export const clusterAnswerSchema = z.discriminatedUnion('q', [
  z.object({ q: z.literal('live_calls'), calls: z.array(liveCallSchema).max(100_000) }),
  z.object({ q: z.literal('end_call'), ended: z.boolean() }),
]);
export type ClusterQuestion = z.infer<typeof clusterQuestionSchema>;
export type ClusterAnswer = z.infer<typeof clusterAnswerSchema>;
export type AnswerTo<Q extends ClusterQuestion> = Extract<ClusterAnswer, { q: Q['q'] }>;

export const clusterEventSchema = z.discriminatedUnion('t', [
  z.object({
    t: z.literal('matched'),
    callId: id,
    /** The person on the receiving node. */
    to: id,
    a: id,
    b: id,
    nodes: side(id),
    matchedAt: z.number(),
    waitMs: side(z.number()),
    relayOnly: z.boolean(),
    verified: side(z.boolean()).optional(),
  }),
  z.object({ t: z.literal('deliver'), to: id, message: serverMessageSchema }),
  z.object({ t: z.literal('peer'), callId: id, from: id, state: z.enum(['connected', 'down']) }),
  z.object({ t: z.literal('ended'), callId: id, reason: z.enum(END_REASONS), endedBy: id.nullable() }),
  /** A heartbeat from the mirror side, for the meter on the call's primary node. */
  z.object({ t: z.literal('heartbeat'), callId: id, from: id, seq: z.number().int(), bytesReceived: z.number() }),
  /** A person was banned on another node: wherever they are connected, they go. */
  z.object({ t: z.literal('banned'), userId: id, ban: z.object({ reason: z.string(), until: z.number().nullable(), appeal: z.string() }) }),
  /** A person was held for review (or released) on another node: wherever they wait, their place says so. */
  z.object({ t: z.literal('held'), userId: id, held: z.boolean() }),
  /**
   * A person connected to `node` at `at`: a connection of theirs here that is older gives way, as a
   * tab replaced on one node does (the newest wins; `at` then the node id order them).
   */
  z.object({ t: z.literal('replaced'), userId: id, node: id, at: z.number() }),
  /** A question from the node named in the envelope; its answer goes back there with the same `req`. */
  z.object({ t: z.literal('ask'), req: id, question: clusterQuestionSchema }),
  z.object({ t: z.literal('answer'), req: id, answer: clusterAnswerSchema }),
]);

export type ClusterEvent = z.infer<typeof clusterEventSchema>;
export type ClusterEventOf<T extends ClusterEvent['t']> = Extract<ClusterEvent, { t: T }>;

export const clusterEnvelopeSchema = z.object({ from: id, e: clusterEventSchema });
export type ClusterEnvelope = z.infer<typeof clusterEnvelopeSchema>;

/** How a node reaches the others; on a single node, nowhere. */
export interface ClusterPort {
  readonly nodeId: string;
  send(nodeId: string, event: ClusterEvent): void;
}

export const SINGLE_NODE: ClusterPort = { nodeId: 'local', send: () => undefined };
