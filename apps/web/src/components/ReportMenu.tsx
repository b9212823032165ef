import { REPORT_REASONS, type ReportReason } from '@duet/client';
import { useId, useRef, useState } from 'react';
import { useAppText } from '../i18n/index.js';
import { reportReasonLabel } from '../reportReasons.js';
import { useDialogFocus } from './useDialogFocus.js';

const MAX_COMMENT = 500;

/** The reasons to report someone, one tap each, and an optional word for the moderators. */
export function ReportMenu({ onPick, onCancel }: { onPick: (reason: ReportReason, comment: string) => void; onCancel: () => void }) {
  const t = useAppText();
  const [comment, setComment] = useState('');
  // The first reason gets the focus (not the comment, which would open a phone's keyboard).
  const first = useRef<HTMLButtonElement>(null);
  const ref = useDialogFocus<HTMLDivElement>(onCancel, first);
  const id = useId();
  return (
    <div
      ref={ref}
      className="report-menu"
      role="dialog"
      aria-modal="true"
      aria-label={t('app.report.title')}
      aria-describedby={`${id}-lead`}
      data-testid="report-menu"
      tabIndex={-1}
    >
      <p id={`${id}-lead`}>{t('app.report.lead')}</p>
      <label className="report-comment">
        <span className="sr-only">{t('app.report.commentLabel')}</span>
        <input
          data-testid="report-comment"
          value={comment}
          maxLength={MAX_COMMENT}
          onChange={(e) => setComment(e.target.value)}
          placeholder={t('app.report.commentPlaceholder')}
        />
      </label>
      <div className="report-reasons" role="group" aria-label={t('app.report.reason')}>
        {REPORT_REASONS.map((r, i) => (
          <button
            key={r}
            ref={i === 0 ? first : undefined}
            type="button"
            className="btn ghost"
            data-testid={`report-reason-${r}`}
            onClick={() => onPick(r, comment.trim())}
          >
            {reportReasonLabel(t, r)}
          </button>
        ))}
      </div>
      <button type="button" className="btn ghost subtle" data-testid="report-cancel" onClick={onCancel}>
        {t('app.action.cancel')}
      </button>
    </div>
  );
}
