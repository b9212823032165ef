import { useCallback } from 'react';
import { ago, fullDateTime, until } from './format.js';
import { EmptyState, Loadable, SectionHead, ShortId, StaleNote } from './parts.js';
import { useAction, useResource, useSession } from './session.js';
import type { Appeal } from './types.js';

const POLL_MS = 15_000;
const STATUS_LABELS: Record<Appeal['status'], string> = { open: 'Waiting for a decision', upheld: 'Ban kept', lifted: 'Ban lifted' };

/** Appeals from banned people: open ones first; keep the ban or lift it. */
export function Appeals({ onChanged }: { onChanged: () => void }) {
  const { api } = useSession();
  const load = useCallback((signal: AbortSignal) => api.appeals(signal), [api]);
  const appeals = useResource(load, POLL_MS);
  const action = useAction();
  const list = [...(appeals.data?.appeals ?? [])].sort(
    (a, b) => Number(b.status === 'open') - Number(a.status === 'open') || b.createdAt - a.createdAt,
  );
  const open = list.filter((a) => a.status === 'open').length;

  const decide = async (a: Appeal, decision: 'uphold' | 'lift') => {
    const ok = await action.run(`${a.id}:${decision}`, () => api.decideAppeal(a.id, decision));
    if (ok) {
      appeals.reload();
      onChanged();
    }
  };

  return (
    <>
      <SectionHead title="Appeals" sub={appeals.status === 'ready' ? `${open} waiting · ${list.length} in all` : undefined} />
      <StaleNote res={appeals} />
      {action.error && (
        <p className="callout bad" role="alert">
          {action.error}
        </p>
      )}
      <Loadable res={appeals} loading="Loading appeals…" failed="Could not load appeals">
        {() =>
          list.length === 0 ? (
            <section className="card">
              <EmptyState text="No appeals" detail="When a banned person appeals from the Duet page, it lands here." />
            </section>
          ) : (
            <ul className="appeal-list">
              {list.map((a) => (
                <li key={a.id} className={`card appeal ${a.status}`} data-testid="appeal-row" data-appeal-id={a.id} data-status={a.status}>
                  <header className="appeal-head">
                    <span>
                      User <ShortId id={a.userId} />
                    </span>
                    <span className="muted" title={fullDateTime(a.createdAt)}>
                      appealed {ago(a.createdAt)}
                    </span>
                    <span className={`tag ${a.status === 'open' ? 'open' : a.status === 'lifted' ? 'direct' : ''}`}>
                      {STATUS_LABELS[a.status]}
                    </span>
                  </header>
                  <blockquote className="comment" data-testid="appeal-message">
                    {a.message}
                  </blockquote>
                  <dl className="facts compact">
                    <div className="fact">
                      <dt>Banned for</dt>
                      <dd>{a.banReason}</dd>
                    </div>
                    <div className="fact">
                      <dt>Until</dt>
                      <dd>{until(a.banUntil)}</dd>
                    </div>
                  </dl>
                  {a.status === 'open' && (
                    <div className="resolve">
                      <button
                        className="btn"
                        data-testid="appeal-uphold"
                        disabled={action.busy !== null}
                        onClick={() => void decide(a, 'uphold')}
                      >
                        {action.busy === `${a.id}:uphold` ? 'Saving…' : 'Keep the ban'}
                      </button>
                      <button
                        className="btn primary"
                        data-testid="appeal-lift"
                        disabled={action.busy !== null}
                        onClick={() => void decide(a, 'lift')}
                      >
                        {action.busy === `${a.id}:lift` ? 'Lifting…' : 'Lift the ban'}
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
