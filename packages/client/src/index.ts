export { DuetClient, type DuetClientOptions } from './client.js';
export { browserLanguage, type StartOptions } from './join.js';
export { QUALITY_INTERVAL_MS, HEARTBEAT_INTERVAL_MS } from './engine.js';
export { DuetClientError, type DuetErrorCode } from './errors.js';
export type { BillingInfo, BillingCall, BillingCredit, ScreenFlag } from './api.js';
export type { CallQuality } from './quality.js';
export type { QualityLevel } from './qualityPolicy.js';
export { sampleQuality, type ConnectionInfo, type StatsSnapshot } from './stats.js';
export { LocalDevices, type AudioOutput, type CameraChange, type DeviceEvents, type Facing, type LocalDevicesOptions } from './devices.js';
export { ScreenWakeLock, type WakeLockEvents } from './wakeLock.js';
export { MediaAccessError, openCamera, captureFrame, AUDIO_CONSTRAINTS, VIDEO_CONSTRAINTS } from './media.js';
export type {
  BanNotice,
  Presence,
  CallState,
  CallEnd,
  StateChange,
  ChatMessage,
  ConnectionStatus,
  ClientEvents,
  DuetErrorEvent,
  MediaProblem,
} from './types.js';
export {
  REPORT_REASONS,
  LIVENESS_ACTIONS,
  type ReportReason,
  type EndReason,
  type LivenessAction,
  type VerificationStatus,
  type VerificationChallengeInfo,
  type VerificationFrame,
  type VerificationResultInfo,
} from '@duet/protocol';
