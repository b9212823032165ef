export { END_REASONS, REQUEUE_PARTNER_REASONS, type EndReason } from './endReasons.js';
export { ERRORS, ERROR_CODES, type ErrorCode } from './errors.js';
export { CLOSE, isFinalClose, retryAfterOf, retryAfterReason, type CloseCode } from './closeCodes.js';
export { LIMITS } from './limits.js';
export {
  PROTOCOL_VERSION,
  REPORT_REASONS,
  PEER_STATES,
  CLIENT_MESSAGE_TYPES,
  clientMessageSchema,
  serverMessageSchema,
  iceServerSchema,
  interestSchema,
  type ClientMessage,
  type ClientMessageType,
  type ClientMessageOf,
  type ServerMessage,
  type ServerMessageOf,
  type IceServer,
  type ReportReason,
} from './messages.js';
export { parseClientMessage, type ParseResult } from './parse.js';
export {
  CANDIDATE_TYPES,
  TRANSPORTS,
  CALL_OUTCOMES,
  DELAY_BUDGET_MS,
  BROKEN_AUDIO_CONCEALMENT,
  DURATION_BINS_S,
  FUNNEL_STEPS,
  mediaPathSchema,
  qualitySampleSchema,
  insightsQuerySchema,
  type MediaPath,
  type QualitySample,
  type InsightsQuery,
  type InsightsResponse,
  type CallOutcome,
  type CallSummary,
  type CallDetail,
  type FunnelStep,
} from './telemetry.js';
export {
  LIVENESS_ACTIONS,
  VERIFICATION_REASONS,
  type LivenessAction,
  type VerificationReason,
  type VerificationStatus,
  type VerificationChallengeInfo,
  type VerificationFrame,
  type VerificationResultInfo,
} from './verification.js';
export { RIGHT_EYE, LEFT_EYE, MOUTH_PAIRS, MOUTH_CORNERS, eyeAspectRatio, eyeOpenness, mouthOpenness, type MeshPoint } from './faceMesh.js';
