import { useCallback, useState } from 'react';
import { dateTime, fullDateTime } from './format.js';
import { useAction, useResource, useSession } from './session.js';

/**
 * A person's liveness verification, for moderators: verified until when, the latest attempts, and
 * a revoke (with a reason, audited) when a report shows the check was fooled.
 */
export function VerificationFact({ userId }: { userId: string }) {
  const { api } = useSession();
  const load = useCallback((signal: AbortSignal) => api.userVerification(userId, signal), [api, userId]);
  const status = useResource(load);
  const action = useAction();
  const [reason, setReason] = useState('');
  const [asking, setAsking] = useState(false);

  if (status.status === 'loading' || !status.data) return <span className="muted">{status.error ?? 'Loading…'}</span>;
  const { verifiedUntil, attempts } = status.data;
  const failed = attempts.filter((a) => !a.ok).length;
  const last = attempts[0];
  const revoke = async () => {
    if (reason.trim().length < 3) return action.setError('Say why (a few words).');
    if (await action.run('revoke', () => api.revokeVerification(userId, reason.trim()))) {
      setAsking(false);
      setReason('');
      status.reload();
    }
  };
  return (
    <span className="fact-stack" data-testid="user-verification">
      <span className="fact-row">
        {verifiedUntil ? (
          <span className="tag good">Verified until {fullDateTime(verifiedUntil)}</span>
        ) : (
          <span className="tag">Not verified</span>
        )}
        {verifiedUntil && !asking && (
          <button className="link small-link" onClick={() => setAsking(true)} data-testid="verification-revoke">
            Revoke…
          </button>
        )}
      </span>
      {last && (
        <span className="muted">
          Last attempt {dateTime(last.at)}: {last.ok ? 'passed' : `failed (${last.reasons.join(', ') || 'unknown'})`}
          {failed > 0 ? ` · ${failed} failed of the last ${attempts.length}` : ''}
        </span>
      )}
      {asking && (
        <span className="fact-row">
          <input
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            placeholder="Why (e.g. a recording, per this report)"
            aria-label="Reason for revoking"
            maxLength={500}
          />
          <button className="btn small danger" disabled={action.busy !== null} onClick={() => void revoke()}>
            Revoke
          </button>
          <button className="btn small" onClick={() => setAsking(false)}>
            Cancel
          </button>
        </span>
      )}
      {action.error && <span className="fact-warn">{action.error}</span>}
    </span>
  );
}
