import { useEffect, useState, type ReactNode } from 'react';
import { useAppText } from '../i18n/index.js';
import { clock, endMessage, estimateMessage, stateMessage, widenedMessage } from '../messages.js';
import { CallQuality } from '../quality/CallQuality.js';
import type { DuetView } from '../useDuet.js';
import { reportSentMessage } from './SafetyNotices.js';

/**
 * What the stage says when there is no partner to look at: loading, camera problems, the empty
 * room, the wait (counts, the honest estimate, widening), and how the last call ended.
 * `extra` is what a person can do about it (invite, notify, popular interests). During a connected
 * call: the quality indicator and the video-paused placeholder.
 */
export function StageOverlay({
  view,
  onRetryCamera,
  extra,
  reportSent,
}: {
  view: DuetView;
  onRetryCamera: () => void;
  extra?: ReactNode;
  reportSent?: DuetView['reportSent'];
}) {
  const t = useAppText();
  // In a call the stage is the partner's picture: only how the call is doing goes over it.
  if (view.state === 'connected' && view.remoteStream) return <CallQuality quality={view.quality} />;
  const alone = view.online <= 1;
  let title: ReactNode;
  let lines: ReactNode[] = [];
  let action: ReactNode = null;
  let busy = false;

  if (view.phase === 'loading') {
    title = t('app.stage.loading');
    busy = true;
  } else if (view.phase === 'unreachable') {
    title = t('app.stage.unreachable');
    lines = [t('app.stage.unreachableDetail')];
    action = (
      <button type="button" className="btn" onClick={() => location.reload()}>
        {t('app.action.tryAgain')}
      </button>
    );
  } else if (view.phase !== 'ready') {
    title = view.mediaError ? t('app.stage.cameraUnavailable') : t('app.stage.allowCamera');
    lines = [view.mediaError ? t(`app.media.${view.mediaError}`) : t('app.stage.allowCameraDetail')];
    if (view.mediaError)
      action = (
        <button type="button" className="btn" onClick={onRetryCamera}>
          {t('app.action.tryAgain')}
        </button>
      );
  } else {
    // The report this person just filed, confirmed by the server: say so where they are looking.
    const ended: ReactNode = reportSent ? (
      <span data-testid="report-sent" data-evidence={reportSent.evidence}>
        {t('app.stage.reportSent', { sent: reportSentMessage(t, reportSent) })}
      </span>
    ) : (
      endMessage(t, view.lastEnd)
    );
    switch (view.state) {
      case 'waiting': {
        busy = true;
        title = ended ?? (alone ? t('app.stage.alone') : t('app.stateMessage.waiting'));
        if (alone) lines.push(ended ? stateMessage(t, 'waiting', view.online) : t('app.stage.stayHere'));
        else lines.push(t('app.stage.counts', { online: view.online, waiting: view.waiting }));
        if (view.queue && (!alone || view.queue.estimatedWaitMs !== null)) lines.push(estimateMessage(t, view.queue.estimatedWaitMs));
        if (view.widened)
          lines.push(
            <span className="widened" data-testid="widened">
              {widenedMessage(t, view.widened)}
            </span>,
          );
        if (view.waitingSince !== null) lines.push(<WaitClock since={view.waitingSince} />);
        break;
      }
      case 'connecting':
        title = t('app.stateMessage.connecting');
        lines = [t('app.stage.settingUp')];
        busy = true;
        break;
      case 'reconnecting':
        title = t('app.stage.unstable');
        lines = [t('app.stage.reconnecting')];
        busy = true;
        break;
      case 'connected':
        title = t('app.stage.waitingVideo');
        busy = true;
        break;
      case 'failed':
      case 'ended':
        title = ended ?? stateMessage(t, view.state, view.online);
        lines = [t('app.stage.again')];
        break;
      default:
        title = alone ? t('app.stage.onlyOne') : t('app.stage.ready');
        lines = [alone ? t('app.stage.onlyOneDetail') : t('app.stage.readyDetail', { count: view.online })];
    }
  }
  return (
    <div className="overlay" data-testid="stage-message">
      {busy && <div className="spinner" aria-hidden="true" />}
      <p className="overlay-title">{title}</p>
      {lines.map((line, i) => (
        <p className="overlay-detail" key={i}>
          {line}
        </p>
      ))}
      {action}
      {extra}
    </div>
  );
}

/** Seconds waited so far, so an honest "nobody yet" still shows that something is running. */
function WaitClock({ since }: { since: number }) {
  const t = useAppText();
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  return <span className="wait-clock">{t('app.stage.waitClock', { clock: clock(now - since) })}</span>;
}
