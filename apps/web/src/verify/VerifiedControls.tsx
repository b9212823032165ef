import type { VerificationStatus } from '@duet/client';
import { useAppText } from '../i18n/index.js';

/**
 * The small, always-loaded parts of verification: the entry point next to Start, the "only
 * verified people" choice and the badge on a verified partner's video. The check itself
 * (VerifyDialog, with the face detector) loads only when opened.
 */

/** "Get verified", or "Verified ✓" once done; hidden when the server does not offer verification. */
export function VerifyButton({ status, onOpen }: { status: VerificationStatus | null; onOpen: () => void }) {
  const t = useAppText();
  if (!status?.enabled) return null;
  const until = status.verifiedUntil ? t.intl.formatDate(status.verifiedUntil, { day: 'numeric', month: 'long', year: 'numeric' }) : null;
  return status.verified ? (
    <button
      type="button"
      className="verify-open done"
      data-testid="verify-open"
      data-verified="true"
      onClick={onOpen}
      title={until ? t('app.verified.until', { date: until }) : t('app.verified.badge')}
    >
      <ShieldIcon />
      {t('app.verified.done')}
    </button>
  ) : (
    <button
      type="button"
      className="verify-open"
      data-testid="verify-open"
      data-verified="false"
      onClick={onOpen}
      title={t('app.verified.getTitle')}
    >
      <ShieldIcon />
      {t('app.verified.get')}
    </button>
  );
}

/** Anyone may ask to meet only people who passed the liveness check. */
export function VerifiedOnlyToggle({ checked, onChange }: { checked: boolean; onChange: (on: boolean) => void }) {
  const t = useAppText();
  return (
    <div className="privacy">
      <label title={t('app.verified.onlyTitle')}>
        <input type="checkbox" data-testid="verified-only" checked={checked} onChange={(e) => onChange(e.target.checked)} />
        <span>{t('app.verified.only')}</span>
      </label>
    </div>
  );
}

/** On the partner's video when the server says they passed the liveness check. */
export function PartnerVerifiedBadge() {
  const t = useAppText();
  return (
    <div className="partner-verified" data-testid="partner-verified" title={t('app.verified.partnerTitle')}>
      <ShieldIcon />
      {t('app.verified.badge')}
    </div>
  );
}

function ShieldIcon() {
  return (
    <svg className="icon" viewBox="0 0 16 16" aria-hidden="true">
      <path d="M8 1.6 13 3.4v4.1c0 3.1-2.1 5.6-5 6.9-2.9-1.3-5-3.8-5-6.9V3.4Z" />
      <path d="m5.6 8 1.7 1.7 3.2-3.3" />
    </svg>
  );
}
