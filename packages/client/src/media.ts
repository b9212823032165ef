import type { MediaProblem } from './types.js';

/**
 * Audio-first capture: echo cancellation (both people may be on speakerphone), noise suppression
 * and automatic gain on; video modest enough to leave bandwidth for the voice.
 */
export const AUDIO_CONSTRAINTS: MediaTrackConstraints = {
  echoCancellation: true,
  noiseSuppression: true,
  autoGainControl: true,
};

export const VIDEO_CONSTRAINTS: MediaTrackConstraints = {
  facingMode: 'user',
  width: { ideal: 640 },
  height: { ideal: 480 },
  frameRate: { ideal: 24, max: 30 },
};

export class MediaAccessError extends Error {
  override name = 'MediaAccessError';
  constructor(
    readonly problem: MediaProblem,
    message: string,
  ) {
    super(message);
  }
}

const MESSAGES: Record<MediaProblem, string> = {
  denied: 'Camera and microphone access was blocked. Allow it in your browser’s site settings, then try again.',
  missing: 'No camera or microphone was found. Connect one, then try again.',
  in_use: 'Your camera or microphone is in use by another app. Close it, then try again.',
  insecure: 'Camera access needs a secure (https) connection. Open Duet over https.',
  unsupported: 'This browser cannot use a camera here. Try a current Chrome, Firefox or Safari.',
  unknown: 'The camera or microphone could not be started.',
};

/** Opens camera and microphone, turning browser errors into a problem a person can act on. */
export async function openCamera(): Promise<MediaStream> {
  if (typeof window !== 'undefined' && !window.isSecureContext) throw problem('insecure');
  if (!navigator.mediaDevices?.getUserMedia) throw problem('unsupported');
  try {
    return await navigator.mediaDevices.getUserMedia({ audio: AUDIO_CONSTRAINTS, video: VIDEO_CONSTRAINTS });
  } catch (err) {
    const name = err instanceof DOMException ? err.name : '';
    if (name === 'NotAllowedError' || name === 'SecurityError') throw problem('denied');
    if (name === 'NotFoundError' || name === 'OverconstrainedError') throw problem('missing');
    if (name === 'NotReadableError' || name === 'AbortError') throw problem('in_use');
    throw problem('unknown');
  }
}

function problem(kind: MediaProblem): MediaAccessError {
  return new MediaAccessError(kind, MESSAGES[kind]);
}

/**
 * A JPEG data URL of what a <video> shows right now (at most `maxWidth` wide), e.g. the partner's
 * picture as evidence for a report; null when it has no picture yet.
 */
export function captureFrame(video: HTMLVideoElement, maxWidth = 640, quality = 0.8): string | null {
  if (!video.videoWidth || !video.videoHeight) return null;
  const scale = Math.min(1, maxWidth / video.videoWidth);
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(video.videoWidth * scale);
  canvas.height = Math.round(video.videoHeight * scale);
  const ctx = canvas.getContext('2d');
  if (!ctx) return null;
  ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
  return canvas.toDataURL('image/jpeg', quality);
}
