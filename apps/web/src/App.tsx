import { LIMITS } from '@duet/protocol';
import { useState, type ReactNode } from 'react';
import { Chat } from './components/Chat.js';
import { ConnectionInfo } from './components/ConnectionInfo.js';
import { ReportMenu } from './components/ReportMenu.js';
import { RulesGate } from './components/RulesGate.js';
import { Video } from './components/Video.js';
import { endMessage, stateLabel, stateMessage } from './messages.js';
import { useDuet, type DuetView } from './useDuet.js';

const ACTIVE = new Set(['waiting', 'connecting', 'connected', 'reconnecting']);

export function App() {
  const duet = useDuet();
  const { view } = duet;
  const [interestText, setInterestText] = useState('');
  const [reporting, setReporting] = useState(false);
  const [accepting, setAccepting] = useState(false);

  const active = ACTIVE.has(view.state);
  const inCall = view.callId !== null;
  const canStart = view.phase === 'ready' && view.connection === 'open' && !active;
  const interests = parseInterests(interestText);

  return (
    <div className="app">
      <header className="top">
        <div className="brand" aria-label="Duet">
          <span className="dot a" />
          <span className="dot b" />
          Duet
        </div>
        <div className="online" data-testid="online-count" title="People on Duet right now">
          <span className={`live ${view.connection === 'open' ? 'on' : ''}`} />
          {view.online} online
        </div>
      </header>

      <main className="layout">
        <section className={`stage state-${view.state}`}>
          <Video stream={view.remoteStream} muted={false} testId="remote-video" className="remote" label="Your partner" />
          <Overlay view={view} onRetryCamera={duet.retryCamera} />
          <Video stream={view.localStream} muted testId="local-video" className="local" label="Your camera" />
          <div
            className="status"
            data-testid="call-status"
            data-state={view.state}
            data-call-id={view.callId ?? undefined}
            data-end-reason={view.lastEnd?.reason}
            data-ended-by={view.lastEnd?.by}
            role="status"
          >
            {view.phase === 'ready' && <span className={`pill ${view.state}`}>{stateLabel(view.state)}</span>}
          </div>
          {inCall && view.callId && <ConnectionInfo callId={view.callId} getInfo={duet.getConnectionInfo} />}
          {reporting && inCall && (
            <ReportMenu
              onCancel={() => setReporting(false)}
              onPick={(reason) => {
                duet.report(reason);
                setReporting(false);
              }}
            />
          )}
        </section>

        <aside className="side">
          <Chat messages={view.chat} enabled={view.state === 'connected' || view.state === 'reconnecting'} onSend={duet.sendChat} />
        </aside>
      </main>

      <footer className="controls">
        {!active && (
          <>
            <label className="interests">
              <span>Interests</span>
              <input
                data-testid="interests"
                value={interestText}
                onChange={(e) => setInterestText(e.target.value)}
                placeholder="e.g. chess, travel (optional)"
                aria-describedby="interests-hint"
              />
              <small id="interests-hint">Up to {LIMITS.maxInterests}, separated by commas.</small>
            </label>
            <button className="btn primary big" data-testid="start" disabled={!canStart} onClick={() => duet.start(interests)}>
              Start
            </button>
          </>
        )}
        {active && (
          <>
            <button className="btn primary big" data-testid="next" onClick={duet.next} title="Skip to someone new">
              Next
            </button>
            <button className="btn big" data-testid="stop" onClick={duet.stop}>
              Stop
            </button>
          </>
        )}
        {inCall && (
          <div className="safety">
            <button className="btn warn" data-testid="report" onClick={() => setReporting((r) => !r)} aria-expanded={reporting}>
              Report
            </button>
            <button className="btn warn" data-testid="block" onClick={duet.block} title="End the call and never meet this person again">
              Block
            </button>
          </div>
        )}
      </footer>

      {view.notice && (
        <div className="toast" role="alert">
          {view.notice}
        </div>
      )}
      {view.phase === 'rules' && (
        <RulesGate
          busy={accepting}
          onAccept={() => {
            setAccepting(true);
            void duet.acceptRules().finally(() => setAccepting(false));
          }}
        />
      )}
    </div>
  );
}

function Overlay({ view, onRetryCamera }: { view: DuetView; onRetryCamera: () => void }) {
  if (view.state === 'connected' && view.remoteStream) return null;
  let title: string;
  let detail: string | null = null;
  let action: ReactNode = null;
  let busy = false;

  if (view.phase === 'loading') {
    title = 'Connecting to Duet…';
    busy = true;
  } else if (view.phase === 'unreachable') {
    title = 'Can’t reach Duet right now.';
    detail = 'Check your internet connection.';
    action = (
      <button className="btn" onClick={() => location.reload()}>
        Try again
      </button>
    );
  } else if (view.phase !== 'ready') {
    title = view.mediaError ? 'Camera or microphone unavailable' : 'Allow camera and microphone';
    detail = view.mediaError ?? 'Your browser will ask for permission. Your partner sees and hears you only during a call.';
    if (view.mediaError)
      action = (
        <button className="btn" onClick={onRetryCamera}>
          Try again
        </button>
      );
  } else {
    const ended = endMessage(view.lastEnd);
    switch (view.state) {
      case 'waiting':
        title = ended ?? 'Looking for someone to talk to…';
        detail = ended ? 'Finding someone new…' : stateMessage('waiting', view.online);
        if (!ended && view.online > 1) detail = `${view.online} online · ${view.waiting} waiting`;
        busy = true;
        break;
      case 'connecting':
        title = 'Connecting…';
        detail = 'Setting up a private video link.';
        busy = true;
        break;
      case 'reconnecting':
        title = 'Connection unstable';
        detail = 'Reconnecting…';
        busy = true;
        break;
      case 'connected':
        title = 'Waiting for video…';
        busy = true;
        break;
      case 'failed':
      case 'ended':
        title = ended ?? stateMessage(view.state, view.online);
        detail = 'Tap Start to meet someone new.';
        break;
      default:
        title = 'Ready when you are';
        detail = view.online <= 1 ? 'You’re the only one here right now — tap Start and we’ll match you as soon as someone arrives.' : `${view.online} people online. Tap Start to meet one of them.`;
    }
  }
  return (
    <div className="overlay">
      {busy && <div className="spinner" aria-hidden="true" />}
      <p className="overlay-title">{title}</p>
      {detail && <p className="overlay-detail">{detail}</p>}
      {action}
    </div>
  );
}

function parseInterests(text: string): string[] {
  const tags = text
    .split(/[,\s#]+/)
    .map((t) => t.trim().toLowerCase().slice(0, LIMITS.maxInterestChars))
    .filter((t) => /^[\p{L}\p{N}_-]+$/u.test(t));
  return [...new Set(tags)].slice(0, LIMITS.maxInterests);
}
