import type { ClientEvents } from '@duet/client';
import { useEffect } from 'react';

const SENT_MS = 10_000;

/** "Thanks — your report was sent", saying whether the snapshot went with it; fades after 10 s. */
export function ReportSent({ sent, onDone }: { sent: ClientEvents['reported']; onDone: () => void }) {
  useEffect(() => {
    const t = setTimeout(onDone, SENT_MS);
    return () => clearTimeout(t);
  }, [sent, onDone]);
  return (
    <div className="toast ok" role="status" data-testid="report-sent" data-evidence={sent.evidence}>
      {reportSentMessage(sent)}
    </div>
  );
}

export function reportSentMessage(sent: ClientEvents['reported']): string {
  if (sent.evidence === 'uploaded') return 'Thanks — your report and a snapshot were sent to our moderators.';
  if (sent.evidence === 'failed') return 'Thanks — your report was sent to our moderators (the snapshot couldn’t be uploaded).';
  return 'Thanks — your report was sent to our moderators.';
}

/** A moderator's warning: prominent, at the top, until the person says they have read it. */
export function WarningBanner({ message, onDismiss }: { message: string; onDismiss: () => void }) {
  return (
    <div className="warning-banner" role="alert" data-testid="warning">
      <svg className="warning-icon" viewBox="0 0 24 24" aria-hidden="true">
        <path d="M12 3 2 20h20L12 3z" />
        <path d="M12 10v4.5M12 17.2v.1" />
      </svg>
      <div className="warning-body">
        <p className="warning-title">A moderator has warned you</p>
        <p className="warning-text">{message}</p>
      </div>
      <button className="btn small" data-testid="warning-dismiss" onClick={onDismiss}>
        I understand
      </button>
    </div>
  );
}
