import { useState } from 'react';
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
      <p className="verify-prompt-title">We couldn’t confirm your age</p>
      <p>{message}</p>
      <p className="verify-fine">
        The check guesses age from your face, and it can be wrong by years. Only that guess was kept — never a picture.
      </p>
      {age?.checkUrl && (
        <a className="btn primary wide" data-testid="age-check-link" href={age.checkUrl} target="_blank" rel="noopener noreferrer">
          Confirm your age with an ID check
        </a>
      )}
      {age?.review &&
        (sent === 'sent' ? (
          <p className="verify-fine" data-testid="age-review-sent" role="status">
            A moderator will review this. Come back later and take the check again.
          </p>
        ) : (
          <div className="verify-age-review">
            <label className="verify-fine" htmlFor="age-review-note">
              Or ask a moderator to review (optional note)
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
              {sent === 'sending' ? 'Sending…' : 'Ask for a review'}
            </button>
            {sent === 'failed' && <p className="verify-fine">That didn’t reach us. Try again in a moment.</p>}
          </div>
        ))}
    </div>
  );
}
