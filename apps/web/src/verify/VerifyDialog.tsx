import type {
  LivenessAction,
  VerificationChallengeInfo,
  VerificationFrame,
  VerificationResultInfo,
  VerificationStatus,
} from '@duet/client';
import type { Human } from '@vladmandic/human';
import { useCallback, useEffect, useRef, useState, type RefObject } from 'react';
import { useModal } from '../components/useModal.js';
import { useAppText, type AppMessageId } from '../i18n/index.js';
import type { AppText } from '../messages.js';
import { AgeRefusal, type AgeInfo } from './AgeRefusal.js';
import { atRest, isNeutral, PROMPTS, reasonText, restingLevels, shows, usable, usualPose, type FaceReading } from './actions.js';
import { grab, jpegOf, loadDetector, readFace } from './faceCheck.js';

/** What the dialog needs from the app: the SDK's verification calls and the camera. */
export interface VerifyApi {
  status: () => Promise<VerificationStatus>;
  challenge: () => Promise<VerificationChallengeInfo>;
  submit: (nonce: string, frames: VerificationFrame[]) => Promise<VerificationResultInfo>;
}

export interface VerifyDialogProps {
  api: VerifyApi;
  /** The app's camera stream (the same one calls use); null when the camera is off. */
  stream: MediaStream | null;
  onRetryCamera: () => void;
  /** Why the dialog opened by itself (the server refused Start), in the server's words. */
  notice: string | null;
  onClose: () => void;
  /** After a passed check, so the app can show the new status. */
  onVerified: () => void;
}

type Failure = 'camera' | 'deadline' | 'server';

type Phase =
  | { kind: 'intro' }
  | { kind: 'requesting' }
  | { kind: 'running'; actions: LivenessAction[]; step: number; holding: boolean }
  | { kind: 'checking' }
  | { kind: 'passed'; until: number | null }
  | { kind: 'failed'; reasons: string[]; message: string; age?: AgeInfo | undefined }
  | { kind: 'error'; failure: Failure; message: string };

/** What the camera shows right now, for the guidance line. */
type Sight = 'unknown' | 'none' | 'many' | 'turned' | 'ok';

/** Stop capturing this long before the challenge's time is up: the last frame must fall inside it. */
const DEADLINE_MARGIN_MS = 400;
/** Frames to keep per action (the first clear one and one more while it is held). */
const FRAMES_PER_ACTION = 2;
const MAX_FRAMES = 20;

interface Attempt {
  challenge: VerificationChallengeInfo;
  /** performance.now() when the challenge arrived: frame offsets count from here. */
  arrivedAt: number;
  /** -1 while waiting for the neutral frame, then the index of the current action. */
  step: number;
  frames: VerificationFrame[];
  /** The neutral frame's head pose: every turn and tilt is measured from it. */
  pose: { yaw: number; pitch: number } | null;
  captures: number;
  restTaken: boolean;
}

export default function VerifyDialog({ api, stream, onRetryCamera, notice, onClose, onVerified }: VerifyDialogProps) {
  const t = useAppText();
  const text = useRef(t);
  useEffect(() => {
    text.current = t;
  }, [t]);
  const video = useRef<HTMLVideoElement>(null);
  const primary = useRef<HTMLButtonElement>(null);
  const closeButton = useRef<HTMLButtonElement>(null);
  const [phase, setPhaseState] = useState<Phase>({ kind: 'intro' });
  const phaseRef = useRef<Phase>(phase);
  const setPhase = useCallback((p: Phase) => {
    phaseRef.current = p;
    setPhaseState(p);
  }, []);
  const [human, setHuman] = useState<Human | null>(null);
  const [modelError, setModelError] = useState<string | null>(null);
  const [sight, setSight] = useState<Sight>('unknown');
  const [status, setStatus] = useState<VerificationStatus | null>(null);
  const [timeLeft, setTimeLeft] = useState<number | null>(null);
  const attempt = useRef<Attempt | null>(null);
  const recent = useRef<FaceReading[]>([]);

  // Escape, the close button and the backdrop close it (the backdrop not while a check runs).
  const modal = useModal(onClose, () => phaseRef.current.kind !== 'running' && phaseRef.current.kind !== 'checking');
  const close = modal.close;

  useEffect(() => {
    const v = video.current;
    if (!v) return;
    if (v.srcObject !== stream) v.srcObject = stream;
    if (stream) v.play().catch(() => undefined);
  }, [stream]);

  const refreshStatus = useCallback(() => {
    api.status().then(setStatus, () => undefined);
  }, [api]);
  useEffect(refreshStatus, [refreshStatus]);

  const loadModels = useCallback(() => {
    setModelError(null);
    loadDetector().then(setHuman, (err: unknown) => {
      console.error('face models', err);
      setModelError(text.current('app.verify.modelError'));
    });
  }, []);
  useEffect(loadModels, [loadModels]);

  // The primary action of each screen gets the focus (Cancel while the check runs), so a keyboard
  // user is never left on a button that has just disappeared.
  useEffect(() => {
    (primary.current ?? closeButton.current)?.focus();
  }, [phase.kind, human, modelError]);

  const submit = useCallback(
    async (a: Attempt) => {
      setPhase({ kind: 'checking' });
      setTimeLeft(null);
      try {
        const result = await api.submit(a.challenge.nonce, a.frames);
        if (result.ok) {
          setPhase({ kind: 'passed', until: result.verifiedUntil });
          onVerified();
        } else {
          setPhase({ kind: 'failed', reasons: result.reasons, message: result.message, age: (result as { age?: AgeInfo }).age });
        }
      } catch (err) {
        setPhase({
          kind: 'error',
          failure: 'server',
          message: err instanceof Error ? err.message : text.current('app.verify.sendFailed'),
        });
      }
      refreshStatus();
    },
    [api, onVerified, refreshStatus, setPhase],
  );

  /** One frame of the attempt: read the face, keep the frame if it shows what is asked, move on. */
  const step = useCallback(
    (a: Attempt, r: FaceReading | null, canvas: HTMLCanvasElement, grabbedAt: number) => {
      const resting = restingLevels(recent.current);
      const offsetMs = Math.max(Math.round(grabbedAt - a.arrivedAt), (a.frames.at(-1)?.offsetMs ?? -1) + 1);
      const keep = () => {
        if (a.frames.length < MAX_FRAMES) a.frames.push({ offsetMs, image: jpegOf(canvas) });
      };
      const actions = a.challenge.actions;
      if (a.step === -1) {
        if (!r || !isNeutral(r, resting, usualPose(recent.current))) return;
        keep();
        a.pose = { yaw: r.yaw, pitch: r.pitch };
        a.step = 0;
      } else {
        const action = actions[a.step]!;
        const ref = { ...a.pose!, ...resting };
        if (r && shows(r, ref, action)) {
          keep();
          a.captures++;
          if (a.captures < FRAMES_PER_ACTION) {
            setPhase({ kind: 'running', actions, step: a.step, holding: true });
            return;
          }
        } else if (a.captures === 0) {
          // A frame at rest before the action: the server measures eyes and mouth at rest over all frames.
          if (r && !a.restTaken && a.frames.length < MAX_FRAMES - 6 && atRest(r, ref) && offsetMs - a.frames.at(-1)!.offsetMs > 300) {
            keep();
            a.restTaken = true;
          }
          return;
        }
        // The action was seen (and held, or over): the next one.
        a.step++;
        a.captures = 0;
        a.restTaken = false;
      }
      if (a.step >= actions.length) void submit(a);
      else setPhase({ kind: 'running', actions, step: a.step, holding: false });
    },
    [setPhase, submit],
  );

  // The detector loop: while the dialog is open and the models are in, read the camera frame by frame.
  useEffect(() => {
    if (!human) return;
    let stopped = false;
    const canvas = document.createElement('canvas');
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    void (async () => {
      while (!stopped) {
        const p = phaseRef.current;
        const v = video.current;
        if ((p.kind !== 'intro' && p.kind !== 'running') || !v || !stream) {
          await pause(200);
          continue;
        }
        const a = p.kind === 'running' ? attempt.current : null;
        if (a && performance.now() - a.arrivedAt > a.challenge.ttlMs - DEADLINE_MARGIN_MS) {
          attempt.current = null;
          setTimeLeft(null);
          setPhase({
            kind: 'error',
            failure: 'deadline',
            message: text.current('app.verify.deadline'),
          });
          continue;
        }
        const grabbedAt = performance.now();
        if (!grab(v, canvas)) {
          await pause(100);
          continue;
        }
        let r: FaceReading | null;
        try {
          r = await readFace(human, canvas);
        } catch (err) {
          console.error('face detector', err);
          await pause(500);
          continue;
        }
        if (stopped) break;
        if (r && usable(r)) recent.current = [...recent.current.slice(-39), r];
        setSight(!r ? 'none' : r.faces > 1 ? 'many' : Math.abs(r.yaw) > 0.3 || Math.abs(r.pitch) > 0.3 ? 'turned' : 'ok');
        if (a && attempt.current === a && phaseRef.current.kind === 'running') step(a, r, canvas, grabbedAt);
        // Let the page paint between two frames (the detector runs on this thread); before the
        // check starts, a few readings a second are enough to say whether the face is in view.
        await pause(a ? 15 : 250);
      }
    })();
    return () => {
      stopped = true;
    };
  }, [human, stream, step, setPhase]);

  // The countdown, from the browser's own clock (the server allows for the trip).
  useEffect(() => {
    if (phase.kind !== 'running') return;
    const tick = () => {
      const a = attempt.current;
      if (a) setTimeLeft(Math.max(0, a.challenge.ttlMs - (performance.now() - a.arrivedAt)));
    };
    tick();
    const timer = setInterval(tick, 250);
    return () => clearInterval(timer);
  }, [phase.kind]);

  const begin = async () => {
    if (!stream) {
      setPhase({ kind: 'error', failure: 'camera', message: t('app.verify.cameraOffLive') });
      return;
    }
    setPhase({ kind: 'requesting' });
    try {
      const challenge = await api.challenge();
      attempt.current = { challenge, arrivedAt: performance.now(), step: -1, frames: [], pose: null, captures: 0, restTaken: false };
      setPhase({ kind: 'running', actions: challenge.actions, step: -1, holding: false });
    } catch (err) {
      setPhase({
        kind: 'error',
        failure: 'server',
        message: err instanceof Error ? err.message : t('app.verify.startFailed'),
      });
      refreshStatus();
    }
  };
  const again = () => {
    attempt.current = null;
    setPhase({ kind: 'intro' });
  };

  const cameraOff = !stream;
  const loading = !human && !modelError;
  const outOfAttempts = status !== null && status.attemptsLeft === 0;
  const waitText =
    outOfAttempts && status.retryAfterMs
      ? t('app.verify.retryIn', { minutes: Math.ceil(status.retryAfterMs / 60_000) })
      : outOfAttempts
        ? t('app.verify.noAttempts')
        : null;
  const busy = phase.kind === 'running' || phase.kind === 'checking' || phase.kind === 'requesting';

  return (
    <dialog
      ref={modal.ref}
      className="verify"
      data-testid="verify-dialog"
      data-phase={phase.kind}
      aria-labelledby="verify-title"
      aria-describedby="verify-lead"
      aria-modal="true"
      onClick={modal.onClick}
    >
      <div className="verify-inner">
        <header className="verify-head">
          <h2 id="verify-title">{phase.kind === 'passed' ? t('app.verify.passedTitle') : t('app.verified.get')}</h2>
          <button ref={closeButton} type="button" className="btn small" data-testid="verify-close" onClick={close}>
            {busy ? t('app.action.cancel') : t('app.action.close')}
          </button>
        </header>
        {notice && phase.kind === 'intro' && (
          <p className="verify-notice" role="alert">
            {notice}
          </p>
        )}
        <p id="verify-lead" className="verify-lead">
          {t('app.verify.lead')}
        </p>

        <div className={`verify-preview ${phase.kind === 'running' && phase.holding ? 'holding' : ''}`}>
          <video ref={video} className="verify-video" autoPlay playsInline muted aria-label={t('app.video.local')} />
          <div className="verify-oval" aria-hidden="true" />
          {cameraOff && <p className="verify-over">{t('app.verify.cameraOffShort')}</p>}
          {!cameraOff && loading && (
            <div className="verify-over" data-testid="verify-loading">
              <div className="spinner" aria-hidden="true" />
              <span>{t('app.verify.loadingModels')}</span>
            </div>
          )}
          {phase.kind === 'running' && timeLeft !== null && (
            <div className="verify-timer" aria-hidden="true">
              <span className="verify-seconds">{t('app.verify.secondsLeft', { n: Math.ceil(timeLeft / 1000) })}</span>
              <span className="verify-track">
                <i style={{ width: `${(100 * timeLeft) / (attempt.current?.challenge.ttlMs ?? 20_000)}%` }} />
              </span>
            </div>
          )}
        </div>

        <div className="verify-body">
          {phase.kind === 'intro' &&
            (modelError ? (
              <Problem
                title={t('app.verify.modelTitle')}
                text={modelError}
                action={t('app.action.tryAgain')}
                onAction={loadModels}
                primary={primary}
              />
            ) : cameraOff ? (
              <Problem
                title={t('app.verify.cameraOff')}
                text={t('app.verify.cameraOffText')}
                action={t('app.verify.cameraOn')}
                onAction={onRetryCamera}
                primary={primary}
              />
            ) : (
              <>
                <p className="verify-sight" data-testid="verify-sight" data-sight={sight} aria-live="polite">
                  {loading ? t('app.verify.gettingReady') : sightText(t, sight)}
                </p>
                {status?.verified && status.verifiedUntil && (
                  <p className="verify-fine" data-testid="verify-current">
                    {t('app.verify.current', { date: dateText(t, status.verifiedUntil) })}
                  </p>
                )}
                {waitText && <p className="verify-fine">{waitText}</p>}
                <button
                  ref={primary}
                  type="button"
                  className="btn primary wide"
                  data-testid="verify-start"
                  disabled={loading || outOfAttempts}
                  onClick={() => void begin()}
                >
                  {loading ? t('app.history.loading') : t('app.verify.start')}
                </button>
              </>
            ))}

          {phase.kind === 'requesting' && <p className="verify-prompt-title">{t('app.verify.starting')}</p>}

          {phase.kind === 'running' && (
            <>
              <Steps t={t} actions={phase.actions} step={phase.step} />
              <div
                className="verify-prompt"
                data-testid="verify-prompt"
                data-step={phase.step}
                data-action={phase.actions[phase.step] ?? 'neutral'}
                data-actions={phase.actions.join(' ')}
                aria-live="assertive"
              >
                <p className="verify-prompt-title">
                  {phase.step < 0 ? t('app.verify.lookStraight') : t(PROMPTS[phase.actions[phase.step]!].title)}
                </p>
                <p className="verify-prompt-hint">
                  {phase.step < 0
                    ? t('app.verify.keepStill')
                    : phase.holding
                      ? t('app.verify.hold')
                      : sight === 'none'
                        ? t('app.verify.noFaceLight')
                        : sight === 'many'
                          ? t('app.verify.sight.many')
                          : t(PROMPTS[phase.actions[phase.step]!].hint)}
                </p>
              </div>
              <span className="sr-only">
                {t('app.verify.summary', {
                  count: phase.actions.length,
                  seconds: Math.round((attempt.current?.challenge.ttlMs ?? 20_000) / 1000),
                })}
              </span>
            </>
          )}

          {phase.kind === 'checking' && (
            <div className="verify-result" data-testid="verify-result" data-result="checking" role="status">
              <div className="spinner" aria-hidden="true" />
              <p className="verify-prompt-title">{t('app.noCredit.checking')}</p>
              <p className="verify-fine">{t('app.verify.checking')}</p>
            </div>
          )}

          {phase.kind === 'passed' && (
            <div className="verify-result ok" data-testid="verify-result" data-result="passed" role="status">
              <p className="verify-prompt-title">
                <span className="verify-tick" aria-hidden="true">
                  ✓
                </span>
                <span>{phase.until ? t('app.verify.passedUntil', { date: dateText(t, phase.until) }) : t('app.verify.passed')}</span>
              </p>
              <p className="verify-fine">{t('app.verify.badgeNote')}</p>
              <button ref={primary} type="button" className="btn primary wide" data-testid="verify-done" onClick={close}>
                {t('app.verify.done')}
              </button>
            </div>
          )}

          {phase.kind === 'failed' && (
            <div
              className="verify-result bad"
              data-testid="verify-result"
              data-result="failed"
              data-reasons={phase.reasons.join(' ')}
              role="alert"
            >
              {phase.reasons.includes('age_unconfirmed') ? (
                <AgeRefusal message={phase.message} age={phase.age} />
              ) : (
                <>
                  <p className="verify-prompt-title">{t('app.verify.failed')}</p>
                  <ul className="verify-reasons">
                    {(phase.reasons.length > 0 ? phase.reasons.map((r) => reasonText(t, r)) : [phase.message]).map((line) => (
                      <li key={line}>{line}</li>
                    ))}
                  </ul>
                  <Retry t={t} status={status} waitText={waitText} onRetry={again} primary={primary} />
                </>
              )}
            </div>
          )}

          {phase.kind === 'error' && (
            <div className="verify-result bad" data-testid="verify-result" data-result="error" data-failure={phase.failure} role="alert">
              <p className="verify-prompt-title">{t(ERROR_TITLES[phase.failure])}</p>
              <p className="verify-fine">{phase.message}</p>
              {phase.failure === 'camera' ? (
                <button ref={primary} type="button" className="btn primary wide" onClick={onRetryCamera}>
                  {t('app.verify.cameraOn')}
                </button>
              ) : (
                <Retry t={t} status={status} waitText={waitText} onRetry={again} primary={primary} />
              )}
            </div>
          )}
        </div>
      </div>
    </dialog>
  );
}

const ERROR_TITLES: Record<Failure, AppMessageId> = {
  camera: 'app.verify.cameraOff',
  deadline: 'app.verify.timeUp',
  server: 'app.verify.serverFailed',
};

function sightText(t: AppText, sight: Sight): string {
  return t(`app.verify.sight.${sight}`);
}

/** Done, current and coming steps, as dots with words for screen readers. */
function Steps({ t, actions, step }: { t: AppText; actions: LivenessAction[]; step: number }) {
  const current = Math.max(0, step);
  return (
    <div className="verify-steps">
      <span className="verify-step-count">{t('app.verify.step', { n: current + 1, total: actions.length })}</span>
      <ol className="verify-dots" aria-hidden="true">
        {actions.map((a, i) => (
          <li key={a} className={i < step ? 'done' : i === step ? 'now' : ''} title={t(PROMPTS[a].title)} />
        ))}
      </ol>
    </div>
  );
}

function Retry({
  t,
  status,
  waitText,
  onRetry,
  primary,
}: {
  t: AppText;
  status: VerificationStatus | null;
  waitText: string | null;
  onRetry: () => void;
  primary: RefObject<HTMLButtonElement | null>;
}) {
  const left = status?.attemptsLeft;
  return (
    <>
      {waitText ? (
        <p className="verify-fine">{waitText}</p>
      ) : (
        left !== undefined &&
        left !== null && (
          <p className="verify-fine" data-testid="verify-attempts">
            {t('app.verify.attemptsLeft', { count: left })}
          </p>
        )
      )}
      <button
        ref={primary}
        type="button"
        className="btn primary wide"
        data-testid="verify-retry"
        disabled={waitText !== null}
        onClick={onRetry}
      >
        {t('app.action.tryAgain')}
      </button>
    </>
  );
}

function Problem({
  title,
  text,
  action,
  onAction,
  primary,
}: {
  title: string;
  text: string;
  action: string;
  onAction: () => void;
  primary: RefObject<HTMLButtonElement | null>;
}) {
  return (
    <div className="verify-result bad" role="alert">
      <p className="verify-prompt-title">{title}</p>
      <p className="verify-fine">{text}</p>
      <button ref={primary} type="button" className="btn primary wide" onClick={onAction}>
        {action}
      </button>
    </div>
  );
}

function dateText(t: AppText, at: number): string {
  return t.intl.formatDate(at, { day: 'numeric', month: 'long', year: 'numeric' });
}
