import { useEffect, useRef, useState } from 'react';
import type { NotifyPermission } from '../attention.js';
import { useAppText } from '../i18n/index.js';

/** What a person alone can do about it: bring someone in, or be told when someone comes. */
export function EmptyRoomActions({ notify }: { notify: { wanted: boolean; permission: NotifyPermission; request: () => Promise<void> } }) {
  return (
    <div className="empty-room">
      <div className="empty-room-actions">
        <InviteLink />
        <NotifyMe {...notify} />
      </div>
    </div>
  );
}

const COPIED_MS = 4000;

/**
 * Copies the app's address. Without the Clipboard API (an insecure page, an old browser) the link
 * shows in a read-only field, selected, for the person to copy themselves.
 */
function InviteLink() {
  const t = useAppText();
  const link = location.origin;
  const [result, setResult] = useState<'none' | 'copied' | 'manual'>('none');
  const fieldRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (result === 'manual') fieldRef.current?.select();
    if (result !== 'copied') return;
    const t = setTimeout(() => setResult('none'), COPIED_MS);
    return () => clearTimeout(t);
  }, [result]);

  const copy = () => {
    if (!navigator.clipboard?.writeText) return setResult('manual');
    navigator.clipboard.writeText(link).then(
      () => setResult('copied'),
      () => setResult('manual'),
    );
  };

  return (
    <div className="invite">
      <button type="button" className="btn solid" data-testid="invite" onClick={copy}>
        <LinkIcon />
        {result === 'copied' ? t('app.invite.copied') : t('app.invite.copy')}
      </button>
      <span className="sr-only" role="status">
        {result === 'copied' ? t('app.invite.copied') : ''}
      </span>
      {result === 'manual' && (
        <label className="invite-manual">
          <span>{t('app.invite.manual')}</span>
          <input ref={fieldRef} readOnly value={link} data-testid="invite-link" onFocus={(e) => e.target.select()} />
        </label>
      )}
    </div>
  );
}

function NotifyMe({ wanted, permission, request }: { wanted: boolean; permission: NotifyPermission; request: () => Promise<void> }) {
  const t = useAppText();
  const on = wanted && permission === 'granted';
  let note: string | null = null;
  if (wanted && permission === 'granted') note = t('app.notify.granted');
  else if (wanted && permission === 'default') note = t('app.notify.default');
  else if (wanted && permission === 'unsupported') note = t('app.notify.unsupported');
  else if (wanted) note = t('app.notify.denied');
  return (
    <div className="notify">
      <button type="button" className="btn solid" data-testid="notify" aria-pressed={wanted} onClick={() => void request()} disabled={on}>
        <BellIcon />
        {on ? t('app.notify.on') : t('app.notify.ask')}
      </button>
      {note && (
        <p className="notify-note" role="status">
          {note}
        </p>
      )}
    </div>
  );
}

function LinkIcon() {
  return (
    <svg className="icon" viewBox="0 0 16 16" aria-hidden="true">
      <path d="M6.5 9.5l3-3M7 4.5l1.2-1.2a2.6 2.6 0 013.7 3.7L10.7 8.2M9 11.5l-1.2 1.2a2.6 2.6 0 01-3.7-3.7L5.3 7.8" />
    </svg>
  );
}

function BellIcon() {
  return (
    <svg className="icon" viewBox="0 0 16 16" aria-hidden="true">
      <path d="M4 11V7a4 4 0 018 0v4l1 1.5H3L4 11zM6.5 14h3" />
    </svg>
  );
}
