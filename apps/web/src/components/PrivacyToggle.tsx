import { useAppText } from '../i18n/index.js';

/** IP privacy: the call goes through the relay only, so the partner never learns this person's address. */
export function PrivacyToggle({ checked, error, onChange }: { checked: boolean; error: string | null; onChange: (on: boolean) => void }) {
  const t = useAppText();
  return (
    <div className="privacy">
      <label title={t('app.privacy.title')}>
        <input
          type="checkbox"
          data-testid="privacy"
          checked={checked}
          onChange={(e) => onChange(e.target.checked)}
          aria-describedby={error ? 'privacy-error' : undefined}
        />
        <span>{t('app.privacy.label')}</span>
      </label>
      {error && (
        <p className="privacy-error" id="privacy-error" data-testid="privacy-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
