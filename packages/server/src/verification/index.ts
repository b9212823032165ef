export {
  LIVENESS_ACTIONS,
  MemoryNonceStore,
  issueChallenge,
  DEFAULT_CHALLENGE_OPTIONS,
  type LivenessAction,
  type Challenge,
  type ChallengeOptions,
  type NonceStore,
  type TakeResult,
  type RandomSource,
} from './challenge.js';
export {
  createDetector,
  detectorAssetPaths,
  type Detector,
  type DetectorOptions,
  type FaceMeasure,
  type FrameAnalysis,
} from './detector.js';
export { ImageDecodeError, type RgbaImage } from './image.js';
export {
  parseSubmission,
  verificationSubmissionSchema,
  verificationChallengeSchema,
  VERIFICATION_LIMITS,
  type VerificationSubmission,
  type VerificationChallenge,
  type DecodedSubmission,
} from './schema.js';
export { LivenessVerifier, isVerified, type VerifierOptions, type VerificationOutcome } from './service.js';
export {
  decide,
  DEFAULT_THRESHOLDS,
  VERIFICATION_REASONS,
  type Thresholds,
  type VerificationReason,
  type VerificationResult,
  type AnalyzedFrame,
} from './verify.js';
