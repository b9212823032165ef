import { useCallback, useState } from 'react';
import { useConsoleText, type ConsoleMessageId } from '../i18n/index.js';
import { ago, fullDateTime, until } from './format.js';
import { EmptyState, Loadable, SectionHead, ShortId, StaleNote } from './parts.js';
import { useAction, useResource, useSession } from './session.js';
import type { Appeal } from './types.js';

const POLL_MS = 15_000;
const STATUS_LABELS: Record<Appeal['status'], ConsoleMessageId> = {
  open: 'console.appeals.status.open',
  upheld: 'console.appeals.status.upheld',
  lifted: 'console.appeals.status.lifted',
};

/** Appeals from banned people: open ones first; keep the ban or lift it. */
export function Appeals({ onChanged }: { onChanged: () => void }) {
  const { api } = useSession();
  const t = useConsoleText();
  const load = useCallback((signal: AbortSignal) => api.appeals(signal), [api]);
  const appeals = useResource(load, POLL_MS);
  const action = useAction();
  const list = [...(appeals.data?.appeals ?? [])].sort(
    (a, b) => Number(b.status === 'open') - Number(a.status === 'open') || b.createdAt - a.createdAt,
  );
  const open = list.filter((a) => a.status === 'open').length;

  const [said, setSaid] = useState<string | null>(null);
  const decide = async (a: Appeal, decision: 'uphold' | 'lift') => {
    setSaid(null);
    const ok = await action.run(`${a.id}:${decision}`, () => api.decideAppeal(a.id, decision));
    if (ok) {
      setSaid(t(decision === 'lift' ? 'console.appeals.doneLift' : 'console.appeals.doneKeep', { id: a.userId.slice(0, 8) }));
      appeals.reload();
      onChanged();
    }
  };

  return (
    <>
      <SectionHead
        title={t('console.nav.appeals')}
        sub={appeals.status === 'ready' ? t('console.appeals.sub', { open, n: list.length }) : undefined}
      />
      <StaleNote res={appeals} />
      <div role="status" className="sr-only">
        {said}
      </div>
      {action.error && (
        <p className="callout bad" role="alert">
          {action.error}
        </p>
      )}
      <Loadable res={appeals} loading={t('console.appeals.loading')} failed={t('console.appeals.failed')}>
        {() =>
          list.length === 0 ? (
            <section className="card">
              <EmptyState text={t('console.appeals.empty')} detail={t('console.appeals.emptyDetail')} />
            </section>
          ) : (
            <ul className="appeal-list">
              {list.map((a) => (
                <li key={a.id} className={`card appeal ${a.status}`} data-testid="appeal-row" data-appeal-id={a.id} data-status={a.status}>
                  <header className="appeal-head">
                    <span>
                      {t('console.common.user')} <ShortId id={a.userId} />
                    </span>
                    <span className="muted" title={fullDateTime(t, a.createdAt)}>
                      {t('console.appeals.appealed', { ago: ago(t, a.createdAt) })}
                    </span>
                    <span className={`tag ${a.status === 'open' ? 'open' : a.status === 'lifted' ? 'direct' : ''}`}>
                      {t(STATUS_LABELS[a.status])}
                    </span>
                  </header>
                  <blockquote className="comment" data-testid="appeal-message">
                    {a.message}
                  </blockquote>
                  <dl className="facts compact">
                    <div className="fact">
                      <dt>{t('console.appeals.bannedFor')}</dt>
                      <dd>{a.banReason}</dd>
                    </div>
                    <div className="fact">
                      <dt>{t('console.bans.until')}</dt>
                      <dd>{until(t, a.banUntil)}</dd>
                    </div>
                  </dl>
                  {a.status === 'open' && (
                    <div className="resolve" role="group" aria-label={t('console.appeals.decide', { id: a.userId.slice(0, 8) })}>
                      <button
                        className="btn"
                        data-testid="appeal-uphold"
                        disabled={action.busy !== null}
                        onClick={() => void decide(a, 'uphold')}
                      >
                        {action.busy === `${a.id}:uphold` ? t('console.common.saving') : t('console.appeals.keep')}
                      </button>
                      <button
                        className="btn primary"
                        data-testid="appeal-lift"
                        disabled={action.busy !== null}
                        onClick={() => void decide(a, 'lift')}
                      >
                        {action.busy === `${a.id}:lift` ? t('console.bans.lifting') : t('console.appeals.lift')}
                      </button>
                    </div>
                  )}
                </li>
              ))}
            </ul>
          )
        }
      </Loadable>
    </>
  );
}
