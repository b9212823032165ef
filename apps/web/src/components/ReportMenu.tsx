import { REPORT_REASONS, type ReportReason } from '@duet/client';

const LABELS: Record<ReportReason, string> = {
  nudity: 'Nudity or sexual content',
  harassment: 'Harassment or hate',
  underage: 'Looks under 18',
  spam: 'Spam or advertising',
  violence: 'Violence or threats',
  other: 'Something else',
};

export function ReportMenu({ onPick, onCancel }: { onPick: (reason: ReportReason) => void; onCancel: () => void }) {
  return (
    <div className="report-menu" role="menu" aria-label="Report reason">
      <p>What’s wrong? The call ends and you won’t meet them again.</p>
      {REPORT_REASONS.map((r) => (
        <button key={r} role="menuitem" className="btn ghost" data-testid={`report-reason-${r}`} onClick={() => onPick(r)}>
          {LABELS[r]}
        </button>
      ))}
      <button className="btn ghost subtle" onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}
