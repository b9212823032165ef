import type { ReportReason } from '@duet/protocol';

/** What each report reason reads as, for the person reporting and for the moderators. */
export const REPORT_REASON_LABELS: Record<ReportReason, string> = {
  nudity: 'Nudity or sexual content',
  harassment: 'Harassment or hate',
  underage: 'Looks under 18',
  spam: 'Spam or advertising',
  violence: 'Violence or threats',
  other: 'Something else',
};
