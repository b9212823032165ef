import type { ReportReason } from '@duet/protocol';
import type { AppMessageId } from './i18n/index.js';
import type { AppText } from './messages.js';

/** What each report reason reads as, for the moderators (the console, in English). */
export const REPORT_REASON_LABELS: Record<ReportReason, string> = {
  nudity: 'Nudity or sexual content',
  harassment: 'Harassment or hate',
  underage: 'Looks under 18',
  spam: 'Spam or advertising',
  violence: 'Violence or threats',
  other: 'Something else',
};

const REPORT_REASON_IDS: Record<ReportReason, AppMessageId> = {
  nudity: 'app.reason.nudity',
  harassment: 'app.reason.harassment',
  underage: 'app.reason.underage',
  spam: 'app.reason.spam',
  violence: 'app.reason.violence',
  other: 'app.reason.other',
};

/** What each report reason reads as for the person reporting, in their language. */
export function reportReasonLabel(t: AppText, reason: ReportReason): string {
  return t(REPORT_REASON_IDS[reason]);
}
