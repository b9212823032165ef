import { captureFrame } from '@duet/client';
import { lazy, Suspense, useCallback, useEffect, useRef, useState } from 'react';
import { useAttention } from './attention.js';
import { BannedScreen } from './components/BannedScreen.js';
import { CallMeter, CreditLowNotice, NoCredit, Wallet } from './components/Billing.js';
import { Chat } from './components/Chat.js';
import { ConnectionInfo } from './components/ConnectionInfo.js';
import { EmptyRoomActions } from './components/EmptyRoom.js';
import { History } from './components/History.js';
import { InterestsInput } from './components/InterestsInput.js';
import { PrivacyToggle } from './components/PrivacyToggle.js';
import { ReportMenu } from './components/ReportMenu.js';
import { ReportSent, WarningBanner } from './components/SafetyNotices.js';
import { RulesGate } from './components/RulesGate.js';
import { StageOverlay } from './components/StageOverlay.js';
import { TopInterests } from './components/TopInterests.js';
import { Video } from './components/Video.js';
import { LanguageSwitch, useAppText } from './i18n/index.js';
import { addTags, parseInterests } from './interests.js';
import { endMessage, stateLabel } from './messages.js';
import { chargeFor } from './money.js';
import { ScreenedVideo } from './screening/ScreenedVideo.js';
import { DeviceControls } from './pwa/DeviceControls.js';
import { useWakeLock } from './pwa/devices.js';
import { useDuet } from './useDuet.js';
import { PartnerVerifiedBadge, VerifiedOnlyToggle, VerifyButton } from './verify/VerifiedControls.js';

// The liveness check brings the face detector (a few MB with its models): loaded only when opened.
const VerifyDialog = lazy(() => import('./verify/VerifyDialog.js'));

const ACTIVE = new Set(['waiting', 'connecting', 'connected', 'reconnecting']);

export function App() {
  const t = useAppText();
  const duet = useDuet();
  const { view } = duet;
  const notify = useAttention(view);
  const [tags, setTags] = useState<string[]>([]);
  const [draft, setDraft] = useState('');
  /** The interests of the current wait, so the popular list does not count this person as someone else. */
  const [joinedWith, setJoinedWith] = useState<string[]>([]);
  const [reporting, setReporting] = useState(false);
  const [accepting, setAccepting] = useState(false);
  const [historyOpen, setHistoryOpen] = useState(false);
  const [checkingCredit, setCheckingCredit] = useState(false);
  const closeHistory = useCallback(() => setHistoryOpen(false), []);
  const [verifyOpen, setVerifyOpen] = useState(false);
  const { dismissVerificationRequired, refreshVerification } = duet;
  const closeVerify = useCallback(() => {
    setVerifyOpen(false);
    dismissVerificationRequired();
  }, [dismissVerificationRequired]);
  const onVerified = useCallback(() => void refreshVerification(), [refreshVerification]);
  // The server refused Start until this person is verified: the check opens, saying why.
  useEffect(() => {
    if (view.verificationRequired) setVerifyOpen(true);
  }, [view.verificationRequired]);
  // The tab's title in the page's language (index.html carries the English one until this runs).
  useEffect(() => {
    document.title = t('app.documentTitle');
  }, [t]);
  const remoteVideo = useRef<HTMLVideoElement>(null);
  const reportButton = useRef<HTMLButtonElement>(null);
  /** The partner's picture when Report was pressed: the moment the person saw what they report. */
  const snapshot = useRef<string | null>(null);

  const active = ACTIVE.has(view.state);
  // The SDK keeps the screen on during a call; this keeps it on while waiting for one.
  useWakeLock(view.state === 'waiting');
  const lastEnded = view.state === 'ended' || view.state === 'waiting' || view.state === 'failed' ? endMessage(t, view.lastEnd) : null;
  const inCall = view.callId !== null;
  const ready = view.phase === 'ready';
  const canStart = ready && view.connection === 'open' && !active;
  const interests = addTags(tags, parseInterests(draft));
  // Before and between calls the camera preview fills the stage; in a call it is the corner picture.
  const solo = !inCall && view.localStream !== null;
  const alone = view.online <= 1;
  // Money shows only when calls are priced (and the server has said so); a free service shows none.
  const billing = view.billing;
  const priced = billing !== null && billing.price.perMinuteMicros > 0;
  const outOfCredit: 'join' | 'ran-out' | null =
    !ready || active || inCall
      ? null
      : view.noCredit
        ? 'join'
        : view.lastEnd?.reason === 'insufficient_credits' && view.lastEnd.by === 'you' && (view.state === 'ended' || view.state === 'idle')
          ? 'ran-out'
          : null;
  const checkCredit = () => {
    setCheckingCredit(true);
    void duet
      .refreshBilling()
      .then((b) => {
        // Enough for at least the smallest billed unit: back to the Start screen.
        if (b && b.balanceMicros >= chargeFor(b.price.rounding === 'minute' ? 60_000 : 1_000, b.price)) duet.dismissNoCredit();
      })
      .finally(() => setCheckingCredit(false));
  };
  const meterShown =
    inCall && view.meter !== null && view.meter.callId === view.callId && (view.state === 'connected' || view.state === 'reconnecting');

  const start = (chosen: string[]) => {
    setTags(chosen);
    setDraft('');
    setJoinedWith(chosen);
    duet.start({ interests: chosen });
  };
  // While waiting, a popular interest joins the wait at once (the server keeps the person's place).
  const addWhileWaiting = (tag: string) => start(addTags(joinedWith, [tag]));

  const stageExtra = ready && !inCall && (view.state === 'idle' || view.state === 'waiting') && (
    <>
      {alone && <EmptyRoomActions notify={notify} />}
      {view.state === 'waiting' && (
        <TopInterests
          items={view.topInterests}
          own={joinedWith}
          chosen={joinedWith}
          label={t('app.topInterests.waiting')}
          onPick={addWhileWaiting}
        />
      )}
    </>
  );

  // A confirmed report shows on the stage while the person waits; anywhere else, as a toast.
  const reportOnStage =
    view.reportSent !== null &&
    view.lastEnd?.reason === 'reported' &&
    view.lastEnd.by === 'you' &&
    view.lastEnd.callId === view.reportSent.callId &&
    (view.state === 'waiting' || view.state === 'ended');

  if (view.ban) return <BannedScreen ban={view.ban} onAppeal={duet.appeal} />;

  const openReport = () => {
    if (!reporting) snapshot.current = snapshotOf(remoteVideo.current);
    setReporting(!reporting);
  };

  return (
    <div className="app">
      <header className="top">
        {/* The page's one top-level heading: the service's name (axe page-has-heading-one). */}
        <h1 className="brand">
          <span className="dot a" aria-hidden="true" />
          <span className="dot b" aria-hidden="true" />
          Duet
        </h1>
        <div className="top-right">
          {view.phase !== 'rules' && <LanguageSwitch label={t('app.language')} compact />}
          {priced && (
            <button
              type="button"
              className="history-toggle"
              data-testid="history-toggle"
              aria-expanded={historyOpen}
              onClick={() => setHistoryOpen(true)}
              title={t('app.history.toggleTitle')}
            >
              <ClockIcon />
              {t('app.history.toggle')}
            </button>
          )}
          <div className="online" data-testid="online-count" title={t('app.online.title')}>
            <span className={`live ${view.connection === 'open' ? 'on' : ''}`} aria-hidden="true" />
            {t('app.online.count', { count: view.online })}
          </div>
        </div>
      </header>

      <main className={`layout ${solo ? 'solo' : ''}`}>
        <section className={`stage state-${view.state} ${solo ? 'solo' : ''}`}>
          <ScreenedVideo
            stream={view.remoteStream}
            callId={view.callId}
            videoRef={remoteVideo}
            fileFlag={duet.flagScreen}
            onReport={(frame) => duet.report('nudity', { frame: frame ?? snapshotOf(remoteVideo.current) })}
          />
          {outOfCredit ? (
            <NoCredit billing={priced ? billing : null} reason={outOfCredit} onCheck={checkCredit} checking={checkingCredit} />
          ) : (
            <StageOverlay
              view={view}
              onRetryCamera={duet.retryCamera}
              extra={stageExtra}
              reportSent={reportOnStage ? view.reportSent : null}
            />
          )}
          <Video stream={view.localStream} muted testId="local-video" className="local" label={t('app.video.local')} />
          {inCall && view.partnerVerified?.verified && view.partnerVerified.callId === view.callId && <PartnerVerifiedBadge />}
          <div
            className="status"
            data-testid="call-status"
            data-state={view.state}
            data-call-id={view.callId ?? undefined}
            data-end-reason={view.lastEnd?.reason}
            data-ended-by={view.lastEnd?.by}
            role="status"
            aria-live="polite"
          >
            {view.phase === 'ready' && <span className={`pill ${view.state}`}>{stateLabel(t, view.state)}</span>}
            {/* Said to screen readers with the state: how the last call ended (the stage shows it too). */}
            {view.phase === 'ready' && lastEnded && <span className="sr-only">{` ${lastEnded}`}</span>}
          </div>
          {meterShown && view.meter && <CallMeter meter={view.meter} price={billing?.price ?? null} live={view.state === 'connected'} />}
          {meterShown && view.creditLow && view.creditLow.callId === view.callId && (
            <CreditLowNotice low={view.creditLow} live={view.state === 'connected'} />
          )}
          {inCall && view.callId && <ConnectionInfo callId={view.callId} getInfo={duet.getConnectionInfo} />}
          {reporting && inCall && (
            <ReportMenu
              onCancel={() => {
                setReporting(false);
                reportButton.current?.focus();
              }}
              onPick={(reason, comment) => {
                // Evidence: the picture from when Report was pressed, or from now if there was none then.
                const frame = snapshot.current ?? snapshotOf(remoteVideo.current);
                snapshot.current = null;
                duet.report(reason, { frame, comment });
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
            <div className="setup">
              <InterestsInput
                tags={tags}
                draft={draft}
                onChange={(next) => {
                  setTags(next.tags);
                  setDraft(next.draft);
                }}
              />
              <div className="setup-row">
                <TopInterests
                  items={view.topInterests}
                  chosen={interests}
                  label={t('app.topInterests.popular')}
                  onPick={(tag) => {
                    setTags(addTags(interests, [tag]));
                    setDraft('');
                  }}
                />
                <div className="toggles">
                  {view.verification?.enabled && <VerifiedOnlyToggle checked={view.verifiedOnly} onChange={duet.setVerifiedOnly} />}
                  <PrivacyToggle checked={view.privacy} error={view.privacyError} onChange={duet.setPrivacy} />
                </div>
              </div>
            </div>
            <div className="start-group">
              {priced && <Wallet billing={billing} />}
              <VerifyButton status={view.verification} onOpen={() => setVerifyOpen(true)} />
              <button className="btn primary big" data-testid="start" disabled={!canStart} onClick={() => start(interests)}>
                {t('app.action.start')}
              </button>
            </div>
          </>
        )}
        {active && (
          <>
            <button className="btn primary big" data-testid="next" onClick={duet.next} title={t('app.action.nextTitle')}>
              {t('app.action.next')}
            </button>
            <button className="btn big" data-testid="stop" onClick={duet.stop}>
              {t('app.action.stop')}
            </button>
          </>
        )}
        {inCall && (
          <div className="safety">
            <button
              ref={reportButton}
              className="btn warn"
              data-testid="report"
              onClick={openReport}
              aria-expanded={reporting}
              aria-haspopup="dialog"
            >
              {t('app.action.report')}
            </button>
            <button className="btn warn" data-testid="block" onClick={duet.block} title={t('app.action.blockTitle')}>
              {t('app.action.block')}
            </button>
          </div>
        )}
        {ready && <DeviceControls devices={duet.devices} remoteVideo={remoteVideo} className="device-controls" />}
      </footer>

      <div className="toasts">
        {view.reportSent && !reportOnStage && <ReportSent sent={view.reportSent} onDone={duet.dismissReportSent} />}
        {view.notice && (
          <div className="toast" role="alert">
            {view.notice}
          </div>
        )}
      </div>
      {verifyOpen && (
        <Suspense fallback={null}>
          <VerifyDialog
            api={duet.verificationApi}
            stream={view.localStream}
            onRetryCamera={duet.retryCamera}
            notice={view.verificationRequired}
            onClose={closeVerify}
            onVerified={onVerified}
          />
        </Suspense>
      )}
      {historyOpen && <History billing={billing} accountId={duet.userId()} onClose={closeHistory} onRefresh={duet.refreshBilling} />}
      {view.warning && <WarningBanner message={view.warning} onDismiss={duet.dismissWarning} />}
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

function ClockIcon() {
  return (
    <svg className="icon" viewBox="0 0 16 16" aria-hidden="true">
      <circle cx="8" cy="8" r="6.2" />
      <path d="M8 4.8V8l2.2 1.6" />
    </svg>
  );
}

/** A JPEG of what the partner's video shows right now; null without a picture (or if the browser refuses). */
function snapshotOf(video: HTMLVideoElement | null): string | null {
  if (!video) return null;
  try {
    return captureFrame(video);
  } catch {
    return null;
  }
}
