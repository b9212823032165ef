import type { CallQuality as Quality, QualityLevel } from '@duet/client';
import { useAppText, type AppMessageId } from '../i18n/index.js';
import type { AppText } from '../messages.js';
import './quality.css';

const LABEL: Record<QualityLevel, AppMessageId> = { good: 'app.quality.good', fair: 'app.quality.fair', poor: 'app.quality.poor' };

/** Why the level is what it is, in a person's words (the indicator's tooltip). */
function detail(t: AppText, q: Quality | null): string {
  if (!q) return t('app.quality.measuring');
  if (q.partnerVideoHeld) return t('app.quality.partnerAway');
  if (!q.sendingVideo || !q.partnerSendingVideo) return t('app.quality.paused');
  if (q.received !== 'good' && q.partnerReceived !== null && q.partnerReceived !== 'good') return t('app.quality.bothStruggling');
  if (q.received !== 'good') return t('app.quality.receiveStruggling');
  if (q.partnerReceived !== null && q.partnerReceived !== 'good') return t('app.quality.partnerStruggling');
  return t('app.quality.fine');
}

/**
 * During a connected call: the quality indicator (worst of what each person receives, as both
 * measure it) and, while video is paused to keep the voice clear, the placeholder that says so —
 * over the partner's picture when they paused, as a notice when this side did.
 */
export function CallQuality({ quality }: { quality: Quality | null }) {
  const t = useAppText();
  // Until the first second is measured a fresh connection counts as good.
  const level: QualityLevel = quality?.level ?? 'good';
  const partnerPaused = quality !== null && !quality.partnerSendingVideo;
  const selfPaused = quality !== null && !quality.sendingVideo;
  return (
    <>
      <div className={`quality quality-${level}`} data-testid="quality" data-level={level} title={detail(t, quality)} role="status">
        <Bars level={level} />
        <span className="quality-label sr-only-narrow">{t(LABEL[level])}</span>
      </div>
      {partnerPaused ? (
        <div className="video-paused" data-testid="video-paused" data-who={selfPaused ? 'both' : 'partner'} role="status">
          <PausedIcon />
          {quality.partnerVideoHeld ? (
            // Their page is hidden (a phone call, another app): their camera is off, not their network weak.
            <>
              <p className="video-paused-title">{t('app.quality.awayTitle')}</p>
              <p className="video-paused-detail">{t('app.quality.partnerAway')}</p>
            </>
          ) : (
            <>
              <p className="video-paused-title">{t('app.quality.pausedTitle')}</p>
              <p className="video-paused-detail">{selfPaused ? t('app.quality.pausedBoth') : t('app.quality.pausedPartner')}</p>
            </>
          )}
        </div>
      ) : selfPaused ? (
        <div className="video-paused video-paused-self" data-testid="video-paused" data-who="you" role="status">
          <PausedIcon />
          <div>
            <p className="video-paused-title">{t('app.quality.pausedTitle')}</p>
            <p className="video-paused-detail">{t('app.quality.pausedSelf')}</p>
          </div>
        </div>
      ) : null}
    </>
  );
}

function Bars({ level }: { level: QualityLevel }) {
  const lit = level === 'good' ? 3 : level === 'fair' ? 2 : 1;
  return (
    <svg className="quality-bars" viewBox="0 0 16 16" aria-hidden="true">
      {[0, 1, 2].map((i) => (
        <rect key={i} x={1 + i * 5.5} y={10 - i * 4} width="3" height={5 + i * 4} rx="1" className={i < lit ? 'on' : 'off'} />
      ))}
    </svg>
  );
}

function PausedIcon() {
  return (
    <svg className="video-paused-icon" viewBox="0 0 24 24" aria-hidden="true">
      <path d="M3 7a2 2 0 0 1 2-2h9a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2z" fill="none" stroke="currentColor" strokeWidth="1.8" />
      <path d="M16 10l5-3v10l-5-3" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinejoin="round" />
      <path d="M2 3l20 18" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
    </svg>
  );
}
