import { REPORT_REASONS, type ReportReason } from '@duet/client';
import { useState } from 'react';
import { REPORT_REASON_LABELS } from '../reportReasons.js';

const MAX_COMMENT = 500;

/** The reasons to report someone, one tap each, and an optional word for the moderators. */
export function ReportMenu({ onPick, onCancel }: { onPick: (reason: ReportReason, comment: string) => void; onCancel: () => void }) {
  const [comment, setComment] = useState('');
  return (
    <div className="report-menu" role="dialog" aria-label="Report this person">
      <p>What’s wrong? The call ends, you won’t meet them again, and a snapshot of their video goes to our moderators with the chat.</p>
      <label className="report-comment">
        <span className="sr-only">Anything to add? (optional)</span>
        <input
          data-testid="report-comment"
          value={comment}
          maxLength={MAX_COMMENT}
          onChange={(e) => setComment(e.target.value)}
          placeholder="Add a detail (optional)"
        />
      </label>
      <div className="report-reasons" role="group" aria-label="Reason">
        {REPORT_REASONS.map((r) => (
          <button key={r} className="btn ghost" data-testid={`report-reason-${r}`} onClick={() => onPick(r, comment.trim())}>
            {REPORT_REASON_LABELS[r]}
          </button>
        ))}
      </div>
      <button className="btn ghost subtle" onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}
