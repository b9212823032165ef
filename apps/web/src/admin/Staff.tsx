import { useCallback, useState } from 'react';
import { fullDateTime } from './format.js';
import { FormStatus, Loadable, SectionHead, StaleNote, TableHead } from './parts.js';
import { useFormAction, useResource, useSession } from './session.js';
import type { StaffRole } from './types.js';

/** Admins only: who can sign in to the console, and new moderator or admin accounts. */
export function Staff() {
  const { api, me } = useSession();
  const load = useCallback((signal: AbortSignal) => api.staff(signal), [api]);
  const staff = useResource(load);
  const list = staff.data?.staff ?? [];
  return (
    <>
      <SectionHead title="Staff" sub="Moderators review reports and act on calls; admins also manage staff." />
      <StaleNote res={staff} />
      <div className="two-col">
        <NewStaff onCreated={() => staff.reload()} />
        <section className="card" aria-label="Staff accounts">
          <header className="card-head">
            <h2>Accounts</h2>
          </header>
          <Loadable
            res={staff}
            loading="Loading staff…"
            failed="Could not load staff"
            empty={list.length === 0 ? { text: 'No staff accounts yet', detail: 'Create the first moderator with the form.' } : null}
          >
            {() => (
              <table className="table stack staff" data-testid="staff-list">
                <TableHead columns={['Email', 'Role', 'Since']} />
                <tbody>
                  {list.map((s) => (
                    <tr key={s.id} data-testid="staff-row">
                      <td data-label="Email" className="wrap">
                        {s.email}
                        {s.email === me.email && <small className="muted"> (you)</small>}
                      </td>
                      <td data-label="Role">
                        <span className={`tag role ${s.role}`}>{s.role}</span>
                      </td>
                      <td data-label="Since">{fullDateTime(s.createdAt)}</td>
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
  const form = useFormAction();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<StaffRole>('moderator');

  const submit = form.onSubmit(
    'create',
    () => {
      if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email.trim())) return 'Enter a valid email address.';
      if (password.length < 12) return 'The password needs at least 12 characters.';
      return null;
    },
    async () => {
      await api.createStaff({ email: email.trim(), password, role });
      setEmail('');
      setPassword('');
      onCreated();
      return `Created ${role} ${email.trim()}. Give them the password over a safe channel.`;
    },
  );

  return (
    <form className="card form" onSubmit={submit} noValidate aria-label="New staff account" data-testid="staff-form">
      <header className="card-head">
        <h2>New account</h2>
      </header>
      <label className="field">
        <span>Email</span>
        <input data-testid="staff-new-email" type="email" autoComplete="off" value={email} onChange={(e) => setEmail(e.target.value)} />
      </label>
      <label className="field">
        <span>Password (12 characters or more)</span>
        <input
          data-testid="staff-new-password"
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </label>
      <fieldset className="field">
        <legend>Role</legend>
        <div className="ranges" role="radiogroup">
          {(['moderator', 'admin'] as const).map((r) => (
            <button
              key={r}
              type="button"
              role="radio"
              aria-checked={role === r}
              className={`seg ${role === r ? 'on' : ''}`}
              data-testid={`staff-role-${r}`}
              onClick={() => setRole(r)}
            >
              {r === 'moderator' ? 'Moderator' : 'Admin'}
            </button>
          ))}
        </div>
      </fieldset>
      <FormStatus error={form.error} done={form.done} />
      <button className="btn primary wide" data-testid="staff-create" type="submit" disabled={form.busy}>
        {form.busy ? 'Creating…' : 'Create account'}
      </button>
    </form>
  );
}
