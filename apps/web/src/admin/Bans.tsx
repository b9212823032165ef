import { useCallback, useEffect, useState } from 'react';
import { fullDateTime, until, UUID } from './format.js';
import { FormStatus, Loadable, SectionHead, ShortId, StaleNote, TableHead } from './parts.js';
import { useAction, useFormAction, useResource, useSession } from './session.js';
import type { Ban } from './types.js';

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
      <StaleNote res={bans} />
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
          <Loadable
            res={bans}
            loading="Loading bans…"
            failed="Could not load bans"
            empty={
              list.length === 0
                ? { text: 'Nobody is banned', detail: 'Bans from reports, from this form and from the strike policy are listed here.' }
                : null
            }
          >
            {() => (
              <table className="table stack bans" data-testid="bans">
                <TableHead columns={['Status', 'Who', 'Reason', 'Until', 'Since', { label: 'Actions', hidden: true }]} />
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
            )}
          </Loadable>
        </section>
      </div>
    </>
  );
}

function BanForm({
  prefill,
  onPrefillUsed,
  onBanned,
}: {
  prefill: { userId: string; reason: string } | null;
  onPrefillUsed: () => void;
  onBanned: () => void;
}) {
  const { api } = useSession();
  const form = useFormAction();
  const { setDone } = form;
  const [kind, setKind] = useState<'user' | 'device'>('user');
  const [target, setTarget] = useState('');
  const [reason, setReason] = useState('');
  const [days, setDays] = useState('');

  useEffect(() => {
    if (!prefill) return;
    setKind('user');
    setTarget(prefill.userId);
    setReason(prefill.reason);
    setDone(null);
    onPrefillUsed();
  }, [prefill, onPrefillUsed, setDone]);

  const t = target.trim();
  const r = reason.trim();
  const d = days.trim();
  const n = d ? Number(d) : undefined;
  const submit = form.onSubmit(
    'ban',
    () => {
      if (kind === 'user' && !UUID.test(t)) return 'A user id is a full UUID, like 3f2b…-…; copy it from a report or a live call.';
      if (kind === 'device' && (t.length === 0 || t.length > 64)) return 'Enter the device id (up to 64 characters).';
      if (r.length < 3) return 'Give a reason (at least 3 characters): the person sees it.';
      if (d && !/^\d+$/.test(d)) return 'Days is a whole number, or empty for a permanent ban.';
      if (n !== undefined && (n < 1 || n > 3650)) return 'Days is between 1 and 3650.';
      return null;
    },
    async () => {
      await api.ban({ ...(kind === 'user' ? { userId: t } : { deviceId: t }), reason: r, ...(n ? { days: n } : {}) });
      setTarget('');
      setReason('');
      setDays('');
      onBanned();
      return `Banned ${kind === 'user' ? 'user' : 'device'} ${t.slice(0, 8)} ${n ? `for ${n === 1 ? '1 day' : `${n} days`}` : 'permanently'}.`;
    },
  );

  return (
    <form className="card form" onSubmit={submit} noValidate aria-label="Ban someone" data-testid="ban-form">
      <header className="card-head">
        <h2>Ban someone</h2>
      </header>
      <fieldset className="field">
        <legend>Ban by</legend>
        <div className="ranges" role="radiogroup">
          {(['user', 'device'] as const).map((k) => (
            <button
              key={k}
              type="button"
              role="radio"
              aria-checked={kind === k}
              className={`seg ${kind === k ? 'on' : ''}`}
              data-testid={`ban-kind-${k}`}
              onClick={() => setKind(k)}
            >
              {k === 'user' ? 'Account (user id)' : 'Device id'}
            </button>
          ))}
        </div>
      </fieldset>
      <label className="field">
        <span>{kind === 'user' ? 'User id' : 'Device id'}</span>
        <input
          data-testid="ban-target"
          value={target}
          onChange={(e) => setTarget(e.target.value)}
          placeholder={kind === 'user' ? 'xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx' : 'the browser’s device id'}
          spellCheck={false}
          autoComplete="off"
        />
      </label>
      <label className="field">
        <span>Reason (shown to the person)</span>
        <input
          data-testid="ban-reason"
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          maxLength={500}
          placeholder="e.g. Nudity on camera"
        />
      </label>
      <label className="field">
        <span>Days (empty: permanent)</span>
        <input
          data-testid="ban-days-input"
          value={days}
          onChange={(e) => setDays(e.target.value)}
          inputMode="numeric"
          placeholder="Permanent"
        />
      </label>
      <FormStatus error={form.error} done={form.done} doneTestId="ban-result" />
      <button className="btn danger wide" data-testid="ban-submit" type="submit" disabled={form.busy}>
        {form.busy ? 'Banning…' : 'Ban'}
      </button>
      <p className="fine muted">
        An account ban also covers the device it was last used on. Someone online is disconnected at once and told why.
      </p>
    </form>
  );
}
