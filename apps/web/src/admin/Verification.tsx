import { useCallback, useEffect, useRef, useState } from 'react';
import { useConsoleText } from '../i18n/index.js';
import { dateTime, fullDateTime } from './format.js';
import { EmptyState, Loadable, SectionHead, ShortId } from './parts.js';
import { useAction, useResource, useSession } from './session.js';

/**
 * A person's liveness verification, for moderators: verified until when, the latest attempts, and
 * a revoke (with a reason, audited) when a report shows the check was fooled.
 */
export function VerificationFact({ userId }: { userId: string }) {
  const { api } = useSession();
  const t = useConsoleText();
  const load = useCallback((signal: AbortSignal) => api.userVerification(userId, signal), [api, userId]);
  const status = useResource(load);
  const action = useAction();
  const [reason, setReason] = useState('');
  const [asking, setAsking] = useState(false);
  const [said, setSaid] = useState<string | null>(null);
  const reasonInput = useRef<HTMLInputElement>(null);
  const revokeButton = useRef<HTMLButtonElement>(null);
  const wasAsking = useRef(false);

  // Asking moves focus to the reason; cancelling (or Escape) gives it back to Revoke….
  useEffect(() => {
    if (asking) reasonInput.current?.focus();
    else if (wasAsking.current) revokeButton.current?.focus();
    wasAsking.current = asking;
  }, [asking]);

  if (status.status === 'loading' || !status.data) return <span className="muted">{status.error ?? t('console.common.loading')}</span>;
  const { verifiedUntil, attempts } = status.data;
  const age = (status.data as { age?: { estimate: number | null; status: string | null } | null }).age;
  const failed = attempts.filter((a) => !a.ok).length;
  const last = attempts[0];
  const revoke = async () => {
    if (reason.trim().length < 3) return action.setError(t('console.verify.sayWhy'));
    if (await action.run('revoke', () => api.revokeVerification(userId, reason.trim()))) {
      setAsking(false);
      setReason('');
      setSaid(t('console.verify.revoked'));
      status.reload();
    }
  };
  return (
    <span className="fact-stack" data-testid="user-verification">
      <span className="fact-row">
        {verifiedUntil ? (
          <span className="tag good">{t('console.verify.until', { at: fullDateTime(t, verifiedUntil) })}</span>
        ) : (
          <span className="tag">{t('console.verify.not')}</span>
        )}
        {verifiedUntil && !asking && (
          <button
            className="link small-link"
            onClick={() => setAsking(true)}
            data-testid="verification-revoke"
            ref={revokeButton}
            aria-expanded={false}
          >
            {t('console.verify.revokeEllipsis')}
          </button>
        )}
      </span>
      {age && (
        <span className="muted" data-testid="user-age">
          {t('console.verify.age', { estimate: age.estimate ?? '—', status: age.status ?? t('console.verify.notJudged') })}
        </span>
      )}
      {last && (
        <span className="muted">
          {last.ok
            ? t('console.verify.lastPassed', { at: dateTime(t, last.at) })
            : t('console.verify.lastFailed', { at: dateTime(t, last.at), reasons: last.reasons.join(', ') || t('console.verify.unknown') })}
          {failed > 0 ? ` · ${t('console.verify.failedOf', { failed, n: attempts.length })}` : ''}
        </span>
      )}
      {asking && (
        <span
          className="fact-row"
          role="group"
          aria-label={t('console.verify.revokeGroup')}
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              e.stopPropagation();
              setAsking(false);
            }
          }}
        >
          <input
            ref={reasonInput}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            onKeyDown={(e) => e.key === 'Enter' && void revoke()}
            placeholder={t('console.verify.reasonPlaceholder')}
            aria-label={t('console.verify.reasonLabel')}
            maxLength={500}
          />
          <button className="btn small danger" disabled={action.busy !== null} onClick={() => void revoke()}>
            {t('console.verify.revoke')}
          </button>
          <button className="btn small" onClick={() => setAsking(false)}>
            {t('console.common.cancel')}
          </button>
        </span>
      )}
      {action.error && (
        <span className="fact-warn" role="alert">
          {action.error}
        </span>
      )}
      <span role="status" className="sr-only">
        {said}
      </span>
    </span>
  );
}

/**
 * People the age check refused who asked a moderator to look again (AGE_REVIEW): the estimate and
 * their note, never a picture. Confirming lets their next check pass whatever the estimate says;
 * what justifies it (an ID check elsewhere, a conversation) is the operator's policy (docs/safety.md).
 */
export function AgeReviews() {
  const { api } = useSession();
  const t = useConsoleText();
  // Through the console's API client, so the operator's token works here as a staff session does.
  const load = useCallback((signal: AbortSignal) => api.ageReviews(signal), [api]);
  const list = useResource(load, 10_000);
  const action = useAction();
  const [said, setSaid] = useState<string | null>(null);
  const decide = async (userId: string, decision: 'confirm' | 'refuse') => {
    setSaid(null);
    const ok = await action.run(userId, () => api.decideAge(userId, decision));
    if (ok) {
      setSaid(t(decision === 'confirm' ? 'console.age.doneConfirm' : 'console.age.doneRefuse', { id: userId.slice(0, 8) }));
      list.reload();
    }
  };
  const challenge = list.data?.challenge ?? 0;
  const reviews = list.data?.reviews ?? [];
  return (
    <>
      <SectionHead
        title={t('console.nav.age')}
        sub={challenge > 0 ? t('console.age.sub', { challenge, n: reviews.length }) : t('console.age.off')}
      />
      <div role="status" className="sr-only">
        {said}
      </div>
      {action.error && (
        <p className="callout bad" role="alert">
          {action.error}
        </p>
      )}
      <Loadable res={list} loading={t('console.age.loading')} failed={t('console.age.failed')}>
        {() => (
          <section className="card" aria-label={t('console.nav.age')}>
            {reviews.length === 0 ? (
              <EmptyState text={t('console.age.empty')} detail={t('console.age.emptyDetail')} />
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
                      <ShortId id={r.userId} label={t('console.common.user')} />
                      <span className="tag bad" title={t('console.age.estimateHint')}>
                        {t('console.age.estimate', { estimate: r.estimate ?? '—', challenge })}
                      </span>
                      <span className="muted">{dateTime(t, r.checkedAt)}</span>
                    </span>
                    {r.note ? (
                      <blockquote className="comment">{r.note}</blockquote>
                    ) : (
                      <span className="muted">{t('console.age.noNote')}</span>
                    )}
                    <span className="fact-row" role="group" aria-label={t('console.age.decide', { id: r.userId.slice(0, 8) })}>
                      <button
                        className="btn small"
                        data-testid="age-confirm"
                        disabled={action.busy !== null}
                        onClick={() => void decide(r.userId, 'confirm')}
                      >
                        {t('console.age.confirm')}
                      </button>
                      <button
                        className="btn small danger"
                        data-testid="age-refuse"
                        disabled={action.busy !== null}
                        onClick={() => void decide(r.userId, 'refuse')}
                      >
                        {t('console.age.refuse')}
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
