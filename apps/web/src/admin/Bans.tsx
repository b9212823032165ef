import { useCallback, useEffect, useState } from 'react';
import { useConsoleText, type ConsoleMessageId } from '../i18n/index.js';
import { fullDateTime, until, UUID } from './format.js';
import { Choice, FormStatus, Loadable, SectionHead, ShortId, StaleNote, TableHead } from './parts.js';
import { useAction, useFormAction, useResource, useSession } from './session.js';
import type { Ban } from './types.js';

type Status = 'active' | 'lifted' | 'expired';
const statusOf = (b: Ban): Status => (b.active ? 'active' : b.liftedAt !== null ? 'lifted' : 'expired');
const STATUS_LABELS: Record<Status, ConsoleMessageId> = {
  active: 'console.bans.status.active',
  lifted: 'console.bans.status.lifted',
  expired: 'console.bans.status.expired',
};

/** Every ban, and a form to ban an account or a device by hand. */
export function Bans({ prefill, onPrefillUsed }: { prefill: { userId: string; reason: string } | null; onPrefillUsed: () => void }) {
  const { api } = useSession();
  const t = useConsoleText();
  const load = useCallback((signal: AbortSignal) => api.bans(signal), [api]);
  const bans = useResource(load);
  const lift = useAction();
  const list = bans.data?.bans ?? [];
  const active = list.filter((b) => b.active).length;

  return (
    <>
      <SectionHead
        title={t('console.nav.bans')}
        sub={bans.status === 'ready' ? t('console.bans.sub', { active, n: list.length }) : undefined}
      />
      <StaleNote res={bans} />
      <div className="two-col">
        <BanForm prefill={prefill} onPrefillUsed={onPrefillUsed} onBanned={() => bans.reload()} />
        <section className="card" aria-labelledby="bans-all">
          <header className="card-head">
            <h2 id="bans-all">{t('console.bans.all')}</h2>
            <span className="card-hint">{t('console.bans.newestFirst')}</span>
          </header>
          {lift.error && (
            <p className="callout bad" role="alert">
              {t('console.bans.liftFailed', { error: lift.error })}
            </p>
          )}
          <Loadable
            res={bans}
            loading={t('console.bans.loading')}
            failed={t('console.bans.failed')}
            empty={list.length === 0 ? { text: t('console.bans.empty'), detail: t('console.bans.emptyDetail') } : null}
          >
            {() => (
              <table className="table stack bans" data-testid="bans">
                <TableHead
                  columns={[
                    t('console.bans.status'),
                    t('console.bans.who'),
                    t('console.bans.reason'),
                    t('console.bans.until'),
                    t('console.bans.since'),
                    { label: t('console.common.actions'), hidden: true },
                  ]}
                />
                <tbody>
                  {list.map((b) => {
                    const st = statusOf(b);
                    return (
                      <tr key={b.id} data-testid="ban-row" data-ban-id={b.id} data-status={st} data-user-id={b.userId ?? undefined}>
                        <td data-label={t('console.bans.status')}>
                          <span className={`tag ${st === 'active' ? 'bad' : ''}`}>{t(STATUS_LABELS[st])}</span>
                        </td>
                        <td data-label={t('console.bans.who')}>
                          {b.userId && (
                            <span className="who-line">
                              {t('console.bans.userLine')} <ShortId id={b.userId} />
                            </span>
                          )}
                          {b.deviceId && (
                            <span className="who-line">
                              {t('console.bans.deviceLine')} <ShortId id={b.deviceId} />
                            </span>
                          )}
                        </td>
                        <td data-label={t('console.bans.reason')} className="wrap">
                          {b.reason}
                        </td>
                        <td data-label={t('console.bans.until')}>{until(t, b.until)}</td>
                        <td data-label={t('console.bans.since')}>{fullDateTime(t, b.createdAt)}</td>
                        <td className="actions">
                          {b.active && (
                            <button
                              className="btn small"
                              data-testid="lift-ban"
                              disabled={lift.busy === b.id}
                              aria-label={t('console.bans.liftLabel', { id: (b.userId ?? b.deviceId ?? b.id).slice(0, 8) })}
                              onClick={() => void lift.run(b.id, () => api.liftBan(b.id)).then((ok) => ok && bans.reload())}
                            >
                              {lift.busy === b.id ? t('console.bans.lifting') : t('console.bans.lift')}
                            </button>
                          )}
                          {st === 'lifted' && b.liftedAt !== null && (
                            <small className="muted">{t('console.bans.liftedAt', { at: fullDateTime(t, b.liftedAt) })}</small>
                          )}
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
  const t = useConsoleText();
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

  const id = target.trim();
  const r = reason.trim();
  const d = days.trim();
  const n = d ? Number(d) : undefined;
  const submit = form.onSubmit(
    'ban',
    () => {
      if (kind === 'user' && !UUID.test(id)) return t('console.banForm.badUser');
      if (kind === 'device' && (id.length === 0 || id.length > 64)) return t('console.banForm.badDevice');
      if (r.length < 3) return t('console.banForm.badReason');
      if (d && !/^\d+$/.test(d)) return t('console.banForm.badDays');
      if (n !== undefined && (n < 1 || n > 3650)) return t('console.banForm.daysRange');
      return null;
    },
    async () => {
      await api.ban({ ...(kind === 'user' ? { userId: id } : { deviceId: id }), reason: r, ...(n ? { days: n } : {}) });
      setTarget('');
      setReason('');
      setDays('');
      onBanned();
      const who = { kind, id: id.slice(0, 8) };
      return n ? t('console.banForm.doneDays', { ...who, n }) : t('console.banForm.doneForever', who);
    },
  );

  return (
    <form className="card form" onSubmit={submit} noValidate aria-labelledby="ban-form-title" data-testid="ban-form">
      <header className="card-head">
        <h2 id="ban-form-title">{t('console.banForm.title')}</h2>
      </header>
      <fieldset className="field">
        <legend>{t('console.banForm.by')}</legend>
        <Choice
          label={t('console.banForm.by')}
          value={kind}
          options={[
            { value: 'user', label: t('console.banForm.byUser'), testId: 'ban-kind-user' },
            { value: 'device', label: t('console.banForm.byDevice'), testId: 'ban-kind-device' },
          ]}
          onChange={setKind}
        />
      </fieldset>
      <label className="field">
        <span>{kind === 'user' ? t('console.banForm.userId') : t('console.banForm.deviceId')}</span>
        <input
          data-testid="ban-target"
          value={target}
          onChange={(e) => setTarget(e.target.value)}
          placeholder={kind === 'user' ? 'xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx' : t('console.banForm.devicePlaceholder')}
          spellCheck={false}
          autoComplete="off"
        />
      </label>
      <label className="field">
        <span>{t('console.banForm.reason')}</span>
        <input
          data-testid="ban-reason"
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          maxLength={500}
          placeholder={t('console.banForm.reasonPlaceholder')}
        />
      </label>
      <label className="field">
        <span>{t('console.banForm.days')}</span>
        <input
          data-testid="ban-days-input"
          value={days}
          onChange={(e) => setDays(e.target.value)}
          inputMode="numeric"
          placeholder={t('console.until.permanent')}
        />
      </label>
      <FormStatus error={form.error} done={form.done} doneTestId="ban-result" />
      <button className="btn danger wide" data-testid="ban-submit" type="submit" disabled={form.busy}>
        {form.busy ? t('console.common.banning') : t('console.common.ban')}
      </button>
      <p className="fine muted">{t('console.banForm.note')}</p>
    </form>
  );
}
