import type { ClientEvents } from '@duet/client';
import { useEffect } from 'react';
import { useAppText } from '../i18n/index.js';
import type { AppText } from '../messages.js';

const SENT_MS = 10_000;

/** "Thanks — your report was sent", saying whether the snapshot went with it; fades after 10 s. */
export function ReportSent({ sent, onDone }: { sent: ClientEvents['reported']; onDone: () => void }) {
  const t = useAppText();
  useEffect(() => {
    const t = setTimeout(onDone, SENT_MS);
    return () => clearTimeout(t);
  }, [sent, onDone]);
  return (
    <div className="toast ok" role="status" data-testid="report-sent" data-evidence={sent.evidence}>
      {reportSentMessage(t, sent)}
    </div>
  );
}

export function reportSentMessage(t: AppText, sent: ClientEvents['reported']): string {
  if (sent.evidence === 'uploaded') return t('app.reportSent.uploaded');
  if (sent.evidence === 'failed') return t('app.reportSent.failed');
  return t('app.reportSent.plain');
}

/** A moderator's warning: prominent, at the top, until the person says they have read it. */
export function WarningBanner({ message, onDismiss }: { message: string; onDismiss: () => void }) {
  const t = useAppText();
  return (
    <div className="warning-banner" role="alert" data-testid="warning">
      <svg className="warning-icon" viewBox="0 0 24 24" aria-hidden="true">
        <path d="M12 3 2 20h20L12 3z" />
        <path d="M12 10v4.5M12 17.2v.1" />
      </svg>
      <div className="warning-body">
        <p className="warning-title">{t('app.warning.title')}</p>
        <p className="warning-text">{message}</p>
      </div>
      <button className="btn small" data-testid="warning-dismiss" onClick={onDismiss}>
        {t('app.warning.dismiss')}
      </button>
    </div>
  );
}
