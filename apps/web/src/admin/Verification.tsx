import { useCallback, useState } from 'react';
import { dateTime, fullDateTime } from './format.js';
import { EmptyState, Loadable, SectionHead, ShortId } from './parts.js';
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
  const age = (status.data as { age?: { estimate: number | null; status: string | null } | null }).age;
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
      {age && (
        <span className="muted" data-testid="user-age">
          Age estimate {age.estimate ?? '—'} · {age.status ?? 'not judged'}
        </span>
      )}
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

interface AgeReview {
  userId: string;
  estimate: number | null;
  checkedAt: number;
  note: string | null;
}

/**
 * People the age check refused who asked a moderator to look again (AGE_REVIEW): the estimate and
 * their note, never a picture. Confirming lets their next check pass whatever the estimate says;
 * what justifies it (an ID check elsewhere, a conversation) is the operator's policy (docs/safety.md).
 */
export function AgeReviews() {
  const { me } = useSession();
  const send = useCallback(
    async (path: string, init: RequestInit = {}) => {
      const headers = new Headers(init.headers);
      headers.set('accept', 'application/json');
      if (init.method === 'POST' && me.csrf) headers.set('x-csrf-token', me.csrf);
      const res = await fetch(path, { ...init, headers, credentials: 'same-origin' });
      if (!res.ok)
        throw new Error(
          ((await res.json().catch(() => null)) as { error?: { message?: string } } | null)?.error?.message ?? `HTTP ${res.status}`,
        );
      return res;
    },
    [me.csrf],
  );
  const load = useCallback(
    async (signal: AbortSignal) =>
      (await (await send('/api/admin/age-reviews', { signal })).json()) as { challenge: number; reviews: AgeReview[] },
    [send],
  );
  const list = useResource(load, 10_000);
  const action = useAction();
  const decide = async (userId: string, decision: 'confirm' | 'refuse') => {
    const ok = await action.run(userId, () =>
      send(`/api/admin/users/${encodeURIComponent(userId)}/age`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ decision }),
      }),
    );
    if (ok) list.reload();
  };
  const challenge = list.data?.challenge ?? 0;
  const reviews = list.data?.reviews ?? [];
  return (
    <>
      <SectionHead
        title="Age reviews"
        sub={challenge > 0 ? `Challenge age ${challenge} · ${reviews.length} waiting` : 'Age assurance is off (AGE_CHALLENGE)'}
      />
      {action.error && (
        <p className="callout bad" role="alert">
          {action.error}
        </p>
      )}
      <Loadable res={list} loading="Loading age reviews…" failed="Could not load age reviews">
        {() => (
          <section className="card" aria-label="Age reviews">
            {reviews.length === 0 ? (
              <EmptyState text="No one is waiting" detail="People the age check refused appear here when they ask for a review." />
            ) : (
              <ul className="age-reviews" style={{ listStyle: 'none', padding: 0, margin: 0, display: 'grid', gap: 16 }}>
                {reviews.map((r) => (
                  <li
                    key={r.userId}
                    data-testid="age-review-row"
                    data-user-id={r.userId}
                    data-estimate={r.estimate ?? ''}
                    style={{ display: 'grid', gap: 8 }}
                  >
                    <span className="fact-row">
                      <ShortId id={r.userId} label="User" />
                      <span className="tag bad" title="The liveness check's age estimate: a guess, off by years either way">
                        estimated {r.estimate ?? '—'} (below {challenge})
                      </span>
                      <span className="muted">{dateTime(r.checkedAt)}</span>
                    </span>
                    {r.note ? <blockquote className="comment">{r.note}</blockquote> : <span className="muted">No note.</span>}
                    <span className="fact-row">
                      <button
                        className="btn small"
                        data-testid="age-confirm"
                        disabled={action.busy !== null}
                        onClick={() => void decide(r.userId, 'confirm')}
                      >
                        Confirm adult
                      </button>
                      <button
                        className="btn small danger"
                        data-testid="age-refuse"
                        disabled={action.busy !== null}
                        onClick={() => void decide(r.userId, 'refuse')}
                      >
                        Keep refused
                      </button>
                    </span>
                  </li>
                ))}
              </ul>
            )}
          </section>
        )}
      </Loadable>
    </>
  );
}
