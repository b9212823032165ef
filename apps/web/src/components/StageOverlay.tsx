import { useEffect, useState, type ReactNode } from 'react';
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
  // In a call the stage is the partner's picture: only how the call is doing goes over it.
  if (view.state === 'connected' && view.remoteStream) return <CallQuality quality={view.quality} />;
  const alone = view.online <= 1;
  let title: ReactNode;
  let lines: ReactNode[] = [];
  let action: ReactNode = null;
  let busy = false;

  if (view.phase === 'loading') {
    title = 'Connecting to Duet…';
    busy = true;
  } else if (view.phase === 'unreachable') {
    title = 'Can’t reach Duet right now.';
    lines = ['Check your internet connection.'];
    action = (
      <button className="btn" onClick={() => location.reload()}>
        Try again
      </button>
    );
  } else if (view.phase !== 'ready') {
    title = view.mediaError ? 'Camera or microphone unavailable' : 'Allow camera and microphone';
    lines = [view.mediaError ?? 'Your browser will ask for permission. Your partner sees and hears you only during a call.'];
    if (view.mediaError)
      action = (
        <button className="btn" onClick={onRetryCamera}>
          Try again
        </button>
      );
  } else {
    // The report this person just filed, confirmed by the server: say so where they are looking.
    const ended: ReactNode = reportSent ? (
      <span data-testid="report-sent" data-evidence={reportSent.evidence}>
        {reportSentMessage(reportSent)} You won’t meet them again.
      </span>
    ) : (
      endMessage(view.lastEnd)
    );
    switch (view.state) {
      case 'waiting': {
        busy = true;
        title = ended ?? (alone ? 'Nobody else is online right now' : 'Looking for someone to talk to…');
        if (alone) lines.push(ended ? stateMessage('waiting', view.online) : 'Stay here — we’ll connect you the moment someone arrives.');
        else lines.push(`${view.online} online · ${view.waiting} waiting`);
        if (view.queue && (!alone || view.queue.estimatedWaitMs !== null)) lines.push(estimateMessage(view.queue.estimatedWaitMs));
        if (view.widened)
          lines.push(
            <span className="widened" data-testid="widened">
              {widenedMessage(view.widened)}
            </span>,
          );
        if (view.waitingSince !== null) lines.push(<WaitClock since={view.waitingSince} />);
        break;
      }
      case 'connecting':
        title = 'Connecting…';
        lines = ['Setting up a private video link.'];
        busy = true;
        break;
      case 'reconnecting':
        title = 'Connection unstable';
        lines = ['Reconnecting…'];
        busy = true;
        break;
      case 'connected':
        title = 'Waiting for video…';
        busy = true;
        break;
      case 'failed':
      case 'ended':
        title = ended ?? stateMessage(view.state, view.online);
        lines = ['Tap Start to meet someone new.'];
        break;
      default:
        title = alone ? 'You’re the only one here right now' : 'Ready when you are';
        lines = [
          alone
            ? 'Tap Start and we’ll match you as soon as someone arrives.'
            : `${view.online} people online. Tap Start to meet one of them.`,
        ];
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
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  return <span className="wait-clock">Waiting {clock(now - since)}</span>;
}
