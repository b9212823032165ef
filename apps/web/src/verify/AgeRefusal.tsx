import { useState } from 'react';
import { useAppText } from '../i18n/index.js';
import './age.css';

/** What the server says about age assurance beside a check's result (packages/server/src/verification/routes.ts). */
export interface AgeInfo {
  challenge: number;
  status: 'passed' | 'refused' | 'review' | 'confirmed' | null;
  checkUrl: string | null;
  review: boolean;
}

/**
 * The age check refused this person the adult pool: the server's message, and the operator's ways
 * forward (their own ID check, or a moderator's review). Nothing about the face was kept.
 */
export function AgeRefusal({ message, age }: { message: string; age: AgeInfo | undefined }) {
  const t = useAppText();
  const [note, setNote] = useState('');
  const [sent, setSent] = useState<'idle' | 'sending' | 'sent' | 'failed'>(age?.status === 'review' ? 'sent' : 'idle');
  const ask = async () => {
    setSent('sending');
    // The SDK keeps the session token here (packages/client/src/client.ts).
    const token = localStorage.getItem('duet.token');
    const res = await fetch('/api/me/verification/age-review', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ note: note.trim() }),
    }).catch(() => null);
    setSent(res?.ok ? 'sent' : 'failed');
  };
  return (
    <div className="verify-age" data-testid="age-refusal">
      <p className="verify-prompt-title">{t('app.age.title')}</p>
      <p>{message}</p>
      <p className="verify-fine">{t('app.age.fine')}</p>
      {age?.checkUrl && (
        <a className="btn primary wide" data-testid="age-check-link" href={age.checkUrl} target="_blank" rel="noopener noreferrer">
          {t('app.age.idCheck')}
        </a>
      )}
      {age?.review &&
        (sent === 'sent' ? (
          <p className="verify-fine" data-testid="age-review-sent" role="status">
            {t('app.age.reviewSent')}
          </p>
        ) : (
          <div className="verify-age-review">
            <label className="verify-fine" htmlFor="age-review-note">
              {t('app.age.reviewLabel')}
            </label>
            <textarea
              id="age-review-note"
              data-testid="age-review-note"
              maxLength={500}
              rows={2}
              value={note}
              onChange={(e) => setNote(e.target.value)}
            />
            <button type="button" className="btn wide" data-testid="age-review" disabled={sent === 'sending'} onClick={() => void ask()}>
              {sent === 'sending' ? t('app.banned.sending') : t('app.age.review')}
            </button>
            {sent === 'failed' && (
              <p className="verify-fine" role="alert">
                {t('app.age.reviewFailed')}
              </p>
            )}
          </div>
        ))}
    </div>
  );
}
