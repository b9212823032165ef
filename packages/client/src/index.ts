export { DuetClient, QUALITY_INTERVAL_MS, HEARTBEAT_INTERVAL_MS, browserLanguage, type DuetClientOptions, type StartOptions, type BillingInfo, type BillingCall, type BillingCredit } from './client.js';
export { sampleQuality, type ConnectionInfo, type StatsSnapshot } from './stats.js';
export { MediaAccessError, openCamera, captureFrame, AUDIO_CONSTRAINTS, VIDEO_CONSTRAINTS } from './media.js';
export type { BanNotice, Presence, CallState, CallEnd, StateChange, ChatMessage, ConnectionStatus, ClientEvents, DuetErrorEvent, MediaProblem } from './types.js';
export { REPORT_REASONS, LIVENESS_ACTIONS, type ReportReason, type EndReason, type LivenessAction, type VerificationStatus, type VerificationChallengeInfo, type VerificationFrame, type VerificationResultInfo } from '@duet/protocol';
