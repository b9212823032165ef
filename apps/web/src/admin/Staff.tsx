import { useCallback, useState, type FormEvent } from 'react';
import { fullDateTime } from './format.js';
import { EmptyState, ErrorCard, SectionHead, Spinner, StaleNote } from './parts.js';
import { useAction, useResource, useSession } from './session.js';
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
      <StaleNote error={staff.status === 'ready' ? staff.error : null} />
      <div className="two-col">
        <NewStaff onCreated={() => staff.reload()} />
        <section className="card" aria-label="Staff accounts">
          <header className="card-head">
            <h2>Accounts</h2>
          </header>
          {staff.status === 'loading' && <Spinner label="Loading staff…" />}
          {staff.status === 'error' && <ErrorCard title="Could not load staff" message={staff.error} onRetry={() => staff.reload(true)} />}
          {staff.status === 'ready' &&
            (list.length === 0 ? (
              <EmptyState text="No staff accounts yet" detail="Create the first moderator with the form." />
            ) : (
              <table className="table stack staff" data-testid="staff-list">
                <thead>
                  <tr>
                    <th scope="col">Email</th>
                    <th scope="col">Role</th>
                    <th scope="col">Since</th>
                  </tr>
                </thead>
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
            ))}
        </section>
      </div>
    </>
  );
}

function NewStaff({ onCreated }: { onCreated: () => void }) {
  const { api } = useSession();
  const action = useAction();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<StaffRole>('moderator');
  const [problem, setProblem] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setDone(null);
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email.trim())) return setProblem('Enter a valid email address.');
    if (password.length < 12) return setProblem('The password needs at least 12 characters.');
    setProblem(null);
    const ok = await action.run('create', () => api.createStaff({ email: email.trim(), password, role }));
    if (ok) {
      setDone(`Created ${role} ${email.trim()}. Give them the password over a safe channel.`);
      setEmail('');
      setPassword('');
      onCreated();
    }
  };

  const error = problem ?? action.error;
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
        <input data-testid="staff-new-password" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />
      </label>
      <fieldset className="field">
        <legend>Role</legend>
        <div className="ranges" role="radiogroup">
          {(['moderator', 'admin'] as const).map((r) => (
            <button key={r} type="button" role="radio" aria-checked={role === r} className={`seg ${role === r ? 'on' : ''}`} data-testid={`staff-role-${r}`} onClick={() => setRole(r)}>
              {r === 'moderator' ? 'Moderator' : 'Admin'}
            </button>
          ))}
        </div>
      </fieldset>
      {error && (
        <p className="callout bad" role="alert">
          {error}
        </p>
      )}
      {done && (
        <p className="callout ok" role="status">
          {done}
        </p>
      )}
      <button className="btn primary wide" data-testid="staff-create" type="submit" disabled={action.busy !== null}>
        {action.busy ? 'Creating…' : 'Create account'}
      </button>
    </form>
  );
}
