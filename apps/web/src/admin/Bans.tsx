import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { fullDateTime, until } from './format.js';
import { EmptyState, ErrorCard, SectionHead, ShortId, Spinner, StaleNote } from './parts.js';
import { useAction, useResource, useSession } from './session.js';
import type { Ban } from './types.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Status = 'active' | 'lifted' | 'expired';
const statusOf = (b: Ban): Status => (b.active ? 'active' : b.liftedAt !== null ? 'lifted' : 'expired');
const STATUS_LABELS: Record<Status, string> = { active: 'Active', lifted: 'Lifted', expired: 'Expired' };

/** Every ban, and a form to ban an account or a device by hand. */
export function Bans({ prefill, onPrefillUsed }: { prefill: { userId: string; reason: string } | null; onPrefillUsed: () => void }) {
  const { api } = useSession();
  const load = useCallback((signal: AbortSignal) => api.bans(signal), [api]);
  const bans = useResource(load);
  const lift = useAction();
  const list = bans.data?.bans ?? [];
  const active = list.filter((b) => b.active).length;

  return (
    <>
      <SectionHead title="Bans" sub={bans.status === 'ready' ? `${active} active · ${list.length} in all` : undefined} />
      <StaleNote error={bans.status === 'ready' ? bans.error : null} />
      <div className="two-col">
        <BanForm prefill={prefill} onPrefillUsed={onPrefillUsed} onBanned={() => bans.reload()} />
        <section className="card" aria-label="All bans">
          <header className="card-head">
            <h2>All bans</h2>
            <span className="card-hint">newest first</span>
          </header>
          {lift.error && (
            <p className="callout bad" role="alert">
              Couldn’t lift the ban: {lift.error}
            </p>
          )}
          {bans.status === 'loading' && <Spinner label="Loading bans…" />}
          {bans.status === 'error' && <ErrorCard title="Could not load bans" message={bans.error} onRetry={() => bans.reload(true)} />}
          {bans.status === 'ready' &&
            (list.length === 0 ? (
              <EmptyState text="Nobody is banned" detail="Bans from reports, from this form and from the strike policy are listed here." />
            ) : (
              <table className="table stack bans" data-testid="bans">
                <thead>
                  <tr>
                    <th scope="col">Status</th>
                    <th scope="col">Who</th>
                    <th scope="col">Reason</th>
                    <th scope="col">Until</th>
                    <th scope="col">Since</th>
                    <th scope="col">
                      <span className="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((b) => {
                    const st = statusOf(b);
                    return (
                      <tr key={b.id} data-testid="ban-row" data-ban-id={b.id} data-status={st} data-user-id={b.userId ?? undefined}>
                        <td data-label="Status">
                          <span className={`tag ${st === 'active' ? 'bad' : ''}`}>{STATUS_LABELS[st]}</span>
                        </td>
                        <td data-label="Who">
                          {b.userId && (
                            <span className="who-line">
                              user <ShortId id={b.userId} />
                            </span>
                          )}
                          {b.deviceId && (
                            <span className="who-line">
                              device <ShortId id={b.deviceId} />
                            </span>
                          )}
                        </td>
                        <td data-label="Reason" className="wrap">
                          {b.reason}
                        </td>
                        <td data-label="Until">{until(b.until)}</td>
                        <td data-label="Since">{fullDateTime(b.createdAt)}</td>
                        <td className="actions">
                          {b.active && (
                            <button
                              className="btn small"
                              data-testid="lift-ban"
                              disabled={lift.busy === b.id}
                              onClick={() => void lift.run(b.id, () => api.liftBan(b.id)).then((ok) => ok && bans.reload())}
                            >
                              {lift.busy === b.id ? 'Lifting…' : 'Lift'}
                            </button>
                          )}
                          {st === 'lifted' && b.liftedAt !== null && <small className="muted">lifted {fullDateTime(b.liftedAt)}</small>}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            ))}
        </section>
      </div>
    </>
  );
}

function BanForm({ prefill, onPrefillUsed, onBanned }: { prefill: { userId: string; reason: string } | null; onPrefillUsed: () => void; onBanned: () => void }) {
  const { api } = useSession();
  const action = useAction();
  const [kind, setKind] = useState<'user' | 'device'>('user');
  const [target, setTarget] = useState('');
  const [reason, setReason] = useState('');
  const [days, setDays] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  useEffect(() => {
    if (!prefill) return;
    setKind('user');
    setTarget(prefill.userId);
    setReason(prefill.reason);
    setDone(null);
    onPrefillUsed();
  }, [prefill, onPrefillUsed]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setDone(null);
    const t = target.trim();
    const r = reason.trim();
    const d = days.trim();
    if (kind === 'user' && !UUID.test(t)) return setProblem('A user id is a full UUID, like 3f2b…-…; copy it from a report or a live call.');
    if (kind === 'device' && (t.length === 0 || t.length > 64)) return setProblem('Enter the device id (up to 64 characters).');
    if (r.length < 3) return setProblem('Give a reason (at least 3 characters): the person sees it.');
    if (d && !/^\d+$/.test(d)) return setProblem('Days is a whole number, or empty for a permanent ban.');
    const n = d ? Number(d) : undefined;
    if (n !== undefined && (n < 1 || n > 3650)) return setProblem('Days is between 1 and 3650.');
    setProblem(null);
    const ok = await action.run('ban', () => api.ban({ ...(kind === 'user' ? { userId: t } : { deviceId: t }), reason: r, ...(n ? { days: n } : {}) }));
    if (ok) {
      setDone(`Banned ${kind === 'user' ? 'user' : 'device'} ${t.slice(0, 8)} ${n ? `for ${n === 1 ? '1 day' : `${n} days`}` : 'permanently'}.`);
      setTarget('');
      setReason('');
      setDays('');
      onBanned();
    }
  };

  const error = problem ?? action.error;
  return (
    <form className="card form" onSubmit={submit} noValidate aria-label="Ban someone" data-testid="ban-form">
      <header className="card-head">
        <h2>Ban someone</h2>
      </header>
      <fieldset className="field">
        <legend>Ban by</legend>
        <div className="ranges" role="radiogroup">
          {(['user', 'device'] as const).map((k) => (
            <button key={k} type="button" role="radio" aria-checked={kind === k} className={`seg ${kind === k ? 'on' : ''}`} data-testid={`ban-kind-${k}`} onClick={() => setKind(k)}>
              {k === 'user' ? 'Account (user id)' : 'Device id'}
            </button>
          ))}
        </div>
      </fieldset>
      <label className="field">
        <span>{kind === 'user' ? 'User id' : 'Device id'}</span>
        <input data-testid="ban-target" value={target} onChange={(e) => setTarget(e.target.value)} placeholder={kind === 'user' ? 'xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx' : 'the browser’s device id'} spellCheck={false} autoComplete="off" />
      </label>
      <label className="field">
        <span>Reason (shown to the person)</span>
        <input data-testid="ban-reason" value={reason} onChange={(e) => setReason(e.target.value)} maxLength={500} placeholder="e.g. Nudity on camera" />
      </label>
      <label className="field">
        <span>Days (empty: permanent)</span>
        <input data-testid="ban-days-input" value={days} onChange={(e) => setDays(e.target.value)} inputMode="numeric" placeholder="Permanent" />
      </label>
      {error && (
        <p className="callout bad" role="alert">
          {error}
        </p>
      )}
      {done && (
        <p className="callout ok" role="status" data-testid="ban-result">
          {done}
        </p>
      )}
      <button className="btn danger wide" data-testid="ban-submit" type="submit" disabled={action.busy !== null}>
        {action.busy ? 'Banning…' : 'Ban'}
      </button>
      <p className="fine muted">An account ban also covers the device it was last used on. Someone online is disconnected at once and told why.</p>
    </form>
  );
}
