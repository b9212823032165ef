import type { RefObject } from 'react';
import { Video } from '../components/Video.js';
import { useAppText } from '../i18n/index.js';
import { useScreening, type FileFlag } from './useScreening.js';
import './screening.css';

/**
 * The partner's video behind blur-first screening: `data-screen` on the <video> says `checking`,
 * `clear` or `blurred`; over a hidden picture, what happened and the viewer's two choices.
 */
export function ScreenedVideo({
  stream,
  callId,
  videoRef,
  onReport,
  fileFlag,
}: {
  stream: MediaStream | null;
  callId: string | null;
  videoRef: RefObject<HTMLVideoElement | null>;
  /** One tap: report the partner with the flagged frame as evidence. */
  onReport: (frame: string | null) => void;
  /** Files what screening flagged (useDuet's flagScreen). */
  fileFlag: FileFlag;
}) {
  const t = useAppText();
  const screen = useScreening(videoRef, stream, callId, fileFlag);
  const hidden = screen.state === 'checking' || screen.state === 'blurred';
  return (
    <>
      <Video
        stream={stream}
        muted={false}
        testId="remote-video"
        className="remote"
        label={t('app.video.remote')}
        videoRef={videoRef}
        screen={screen.state}
        unblurred={screen.unblurred}
      />
      {hidden && stream && (
        <div className={`screen-notice ${screen.state}`} data-testid="screen-notice" data-screen={screen.state} role="status">
          {screen.state === 'checking' && !screen.failed && (
            <p className="screen-title">
              <span className="screen-spinner" aria-hidden="true" />
              {t('app.screen.checking')}
            </p>
          )}
          {screen.state === 'checking' && screen.failed && (
            <>
              <p className="screen-title">{t('app.screen.hidden')}</p>
              <p className="screen-detail">{t('app.screen.failed')}</p>
            </>
          )}
          {screen.state === 'blurred' && (
            <>
              <p className="screen-title">{t('app.screen.hidden')}</p>
              <p className="screen-detail">{t('app.screen.flagged')}</p>
            </>
          )}
          {(screen.state === 'blurred' || screen.failed) && (
            <div className="screen-actions">
              <button type="button" className="btn warn" data-testid="screen-report" onClick={() => onReport(screen.flaggedFrame)}>
                {t('app.action.report')}
              </button>
              <button type="button" className="btn" data-testid="screen-unblur" onClick={screen.unblur}>
                {t('app.screen.unblur')}
              </button>
            </div>
          )}
        </div>
      )}
    </>
  );
}
