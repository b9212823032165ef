import { useCallback, useState } from 'react';
import { useConsoleText } from '../i18n/index.js';
import { fullDateTime } from './format.js';
import { Choice, FormStatus, Loadable, SectionHead, StaleNote, TableHead } from './parts.js';
import { useFormAction, useResource, useSession } from './session.js';
import type { StaffRole } from './types.js';

/** Admins only: who can sign in to the console, and new moderator or admin accounts. */
export function Staff() {
  const { api, me } = useSession();
  const t = useConsoleText();
  const load = useCallback((signal: AbortSignal) => api.staff(signal), [api]);
  const staff = useResource(load);
  const list = staff.data?.staff ?? [];
  return (
    <>
      <SectionHead title={t('console.nav.staff')} sub={t('console.staff.sub')} />
      <StaleNote res={staff} />
      <div className="two-col">
        <NewStaff onCreated={() => staff.reload()} />
        <section className="card" aria-labelledby="staff-accounts">
          <header className="card-head">
            <h2 id="staff-accounts">{t('console.staff.accounts')}</h2>
          </header>
          <Loadable
            res={staff}
            loading={t('console.staff.loading')}
            failed={t('console.staff.failed')}
            empty={list.length === 0 ? { text: t('console.staff.empty'), detail: t('console.staff.emptyDetail') } : null}
          >
            {() => (
              <table className="table stack staff" data-testid="staff-list">
                <TableHead columns={[t('console.login.email'), t('console.staff.role'), t('console.bans.since')]} />
                <tbody>
                  {list.map((s) => (
                    <tr key={s.id} data-testid="staff-row">
                      <td data-label={t('console.login.email')} className="wrap">
                        {s.email}
                        {s.email === me.email && <small className="muted"> {t('console.staff.you')}</small>}
                      </td>
                      <td data-label={t('console.staff.role')}>
                        <span className={`tag role ${s.role}`}>
                          {t(s.role === 'admin' ? 'console.role.admin' : 'console.role.moderator')}
                        </span>
                      </td>
                      <td data-label={t('console.bans.since')}>{fullDateTime(t, s.createdAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </Loadable>
        </section>
      </div>
    </>
  );
}

function NewStaff({ onCreated }: { onCreated: () => void }) {
  const { api } = useSession();
  const t = useConsoleText();
  const form = useFormAction();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<StaffRole>('moderator');

  const submit = form.onSubmit(
    'create',
    () => {
      if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email.trim())) return t('console.staff.badEmail');
      if (password.length < 12) return t('console.staff.shortPassword');
      return null;
    },
    async () => {
      await api.createStaff({ email: email.trim(), password, role });
      setEmail('');
      setPassword('');
      onCreated();
      return t('console.staff.created', { role, email: email.trim() });
    },
  );

  return (
    <form className="card form" onSubmit={submit} noValidate aria-labelledby="staff-form-title" data-testid="staff-form">
      <header className="card-head">
        <h2 id="staff-form-title">{t('console.staff.new')}</h2>
      </header>
      <label className="field">
        <span>{t('console.login.email')}</span>
        <input data-testid="staff-new-email" type="email" autoComplete="off" value={email} onChange={(e) => setEmail(e.target.value)} />
      </label>
      <label className="field">
        <span>{t('console.staff.password')}</span>
        <input
          data-testid="staff-new-password"
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </label>
      <fieldset className="field">
        <legend>{t('console.staff.role')}</legend>
        <Choice
          label={t('console.staff.role')}
          value={role}
          options={[
            { value: 'moderator', label: t('console.staff.roleModerator'), testId: 'staff-role-moderator' },
            { value: 'admin', label: t('console.staff.roleAdmin'), testId: 'staff-role-admin' },
          ]}
          onChange={setRole}
        />
      </fieldset>
      <FormStatus error={form.error} done={form.done} />
      <button className="btn primary wide" data-testid="staff-create" type="submit" disabled={form.busy}>
        {form.busy ? t('console.staff.creating') : t('console.staff.create')}
      </button>
    </form>
  );
}
