import { useCallback, useEffect, useLayoutEffect, useRef, useState, type RefObject } from 'react';
import { DuetClientError, type DuetClient } from '@duet/client';
import { classifier } from './classifier.js';
import type { Backend, Resource } from './messages.js';

/** What `remote-video`'s `data-screen` says: blurred until cleared, clear, or blurred on a flag. */
export type ScreenState = 'checking' | 'clear' | 'blurred';

export interface ScreeningSettings {
  enabled: boolean;
  thresholds: Record<string, number>;
  defaultMode?: string;
}

/** Frames that must come back clean before the picture shows. */
const FIRST_CLEAN = 2;
const FIRST_GAP_MS = 150;
/** Between samples once clear: about 4 % of one core, within 1 to 3 s. */
const DUTY = 25;
const MIN_GAP_MS = 1_000;
const MAX_GAP_MS = 3_000;
/** Widest frame classified (and, when flagged, sent as evidence). */
const FRAME_WIDTH = 320;

/** Figures for the measurements (bench/screening.ts, tests/e2e/screening.test.ts); no frames, no scores of clean frames. */
interface ScreeningFigures {
  backend: Backend | null;
  loadMs: number | null;
  /** What the classifier fetched (transferSize 0: from the cache). */
  resources: Resource[];
  samples: { ms: number; gapMs: number }[];
  /** flagToBlurMs: from the worker's result to the first frame painted blurred; resultToBlurMs: from its arrival on this thread. */
  flags: { flagToBlurMs: number; resultToBlurMs: number; captureToBlurMs: number }[];
  /** Each flag filed: 'filed', or why the server refused it (the error's code). */
  uploads: string[];
  failed: string | null;
}
declare global {
  interface Window {
    __duetScreening?: ScreeningFigures;
  }
}
const figures = (): ScreeningFigures =>
  (window.__duetScreening ??= { backend: null, loadMs: null, resources: [], samples: [], flags: [], uploads: [], failed: null });

let settingsLoad: Promise<ScreeningSettings> | undefined;
function loadSettings(): Promise<ScreeningSettings> {
  settingsLoad ??= fetch('/api/screening')
    .then((r) => (r.ok ? (r.json() as Promise<ScreeningSettings>) : { enabled: false, thresholds: {} }))
    .catch(() => ({ enabled: true, thresholds: { default: 0.7 } }));
  return settingsLoad;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

function dataUrl(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result));
    r.onerror = () => reject(r.error ?? new Error('could not read the frame'));
    r.readAsDataURL(blob);
  });
}

/** Files a flag with the moderators: the flagged frame and its scores, nothing else. */
export type FileFlag = DuetClient['flagScreen'];

export interface Screening {
  /** null: screening is off (or settings not known yet and no call). */
  state: ScreenState | null;
  /** The viewer chose to see this call unblurred. */
  unblurred: boolean;
  /** The classifier could not start: the picture stays hidden until the viewer chooses. */
  failed: boolean;
  /** The flagged frame (JPEG data URL), for a one-tap report. */
  flaggedFrame: string | null;
  unblur: () => void;
}

/**
 * Blur-first screening of the partner's video: hidden (`checking`) until the classifier has cleared
 * the first frames, then a frame every 1–3 s (adapted to how fast this device classifies); a flag
 * hides the picture at once (`blurred`) and files the frame with its scores. "Unblur for this call"
 * shows it anyway; the next call starts hidden again.
 */
export function useScreening(
  video: RefObject<HTMLVideoElement | null>,
  stream: MediaStream | null,
  callId: string | null,
  fileFlag: FileFlag,
): Screening {
  const [settings, setSettings] = useState<ScreeningSettings | null>(null);
  const [state, setState] = useState<ScreenState>('checking');
  const [unblurred, setUnblurred] = useState(false);
  const [failed, setFailed] = useState(false);
  const [flaggedFrame, setFlaggedFrame] = useState<string | null>(null);
  const flaggedAt = useRef<{ receivedAt: number; doneAt: number; capturedAt: number } | null>(null);

  useEffect(() => {
    void loadSettings().then((s) => {
      setSettings(s);
      if (!s.enabled) return;
      // The model loads as soon as the page does, so the first call is not kept waiting for it.
      const started = performance.now();
      classifier().ready.then(
        (backend) =>
          Object.assign(figures(), { backend, loadMs: Math.round(performance.now() - started), resources: classifier().resources }),
        (err: unknown) => {
          figures().failed = err instanceof Error ? err.message : String(err);
          setFailed(true);
        },
      );
    });
  }, []);

  // Each call (each new stream) starts hidden.
  useEffect(() => {
    setState('checking');
    setUnblurred(false);
    setFlaggedFrame(null);
  }, [callId, stream]);

  const enabled = settings?.enabled === true;
  const threshold = settings ? (settings.thresholds[settings.defaultMode ?? ''] ?? settings.thresholds.default ?? 0.7) : 0.7;

  useEffect(() => {
    if (!enabled || !stream || !callId) return;
    const stop = new AbortController();
    const { signal } = stop;
    void (async () => {
      let clean = 0;
      let flagged = false;
      try {
        await classifier().ready;
      } catch {
        return;
      }
      while (!signal.aborted) {
        const el = video.current;
        if (!el || el.readyState < 2 || el.videoWidth === 0) {
          await sleep(100, signal);
          continue;
        }
        const width = Math.min(FRAME_WIDTH, el.videoWidth);
        const height = Math.max(1, Math.round((el.videoHeight / el.videoWidth) * width));
        const capturedAt = performance.now();
        let result;
        try {
          const bitmap = await createImageBitmap(el, { resizeWidth: width, resizeHeight: height, resizeQuality: 'low' });
          result = await classifier().classify(bitmap, threshold);
        } catch {
          await sleep(500, signal);
          continue;
        }
        if (signal.aborted) return;
        const gap = clean < FIRST_CLEAN ? FIRST_GAP_MS : Math.min(MAX_GAP_MS, Math.max(MIN_GAP_MS, result.ms * DUTY));
        figures().samples.push({ ms: Math.round(result.ms * 10) / 10, gapMs: Math.round(gap) });
        if (result.flagged) {
          flaggedAt.current = { receivedAt: performance.now(), doneAt: result.doneAt - performance.timeOrigin, capturedAt };
          // Hidden at the next paint, not after React's next render: the attribute carries the blur (screening.css).
          if (!el.dataset.unblurred) el.dataset.screen = 'blurred';
          setState('blurred');
          if (!flagged && result.jpeg) {
            // One flag per call from this viewer: the first flagged frame is the evidence.
            flagged = true;
            const frame = await dataUrl(result.jpeg);
            setFlaggedFrame(frame);
            figures().uploads.push(
              await fileFlag(callId, { frame, scores: result.scores, ms: Math.round(result.ms) }).then(
                () => 'filed',
                (err: unknown) => (err instanceof DuetClientError ? err.code : 'failed'),
              ),
            );
          }
        } else {
          clean += 1;
          if (clean >= FIRST_CLEAN) setState((s) => (s === 'checking' ? 'clear' : s));
        }
        await sleep(gap, signal);
      }
    })();
    return () => stop.abort();
  }, [enabled, stream, callId, threshold, video, fileFlag]);

  // Flag to blur: from the worker's result to the first frame painted with the blur on.
  useLayoutEffect(() => {
    if (state !== 'blurred' || !flaggedAt.current) return;
    const at = flaggedAt.current;
    flaggedAt.current = null;
    requestAnimationFrame(() =>
      requestAnimationFrame(() => {
        const painted = performance.now();
        figures().flags.push({
          flagToBlurMs: Math.round((painted - at.doneAt) * 10) / 10,
          resultToBlurMs: Math.round((painted - at.receivedAt) * 10) / 10,
          captureToBlurMs: Math.round((painted - at.capturedAt) * 10) / 10,
        });
      }),
    );
  }, [state]);

  const unblur = useCallback(() => setUnblurred(true), []);
  if (!enabled || (!stream && !callId)) return { state: null, unblurred, failed, flaggedFrame, unblur };
  return { state: unblurred ? 'clear' : state, unblurred, failed, flaggedFrame, unblur };
}
