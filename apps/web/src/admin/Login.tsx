import { useState, type FormEvent } from 'react';
import { AdminApi, AdminApiError, type Credentials } from './api.js';
import { Brand } from './parts.js';
import type { StaffMe } from './types.js';

type Problem = { kind: 'error' | 'disabled'; text: string };

/**
 * Staff sign in with email and password (a session cookie); the operator's API token
 * (ADMIN_TOKEN) still works as a second way in, below.
 */
export function Login({ notice, onSignedIn }: { notice: string | null; onSignedIn: (auth: Credentials, me: StaffMe) => void }) {
  return (
    <div className="login">
      <div className="login-card">
        <Brand />
        <h1>Moderation console</h1>
        <p className="muted">Live calls, reports, bans and appeals — and the insights dashboard.</p>
        {notice && (
          <p className="callout info" role="status">
            {notice}
          </p>
        )}
        <PasswordForm onSignedIn={onSignedIn} />
        <div className="login-or" role="separator">
          <span>or</span>
        </div>
        <TokenForm onSignedIn={onSignedIn} />
      </div>
    </div>
  );
}

/**
 * A sign-in form's submit: `check` says what is missing (or null), then `signIn` runs; a failure
 * becomes `problem` (through `failed`) and the form can be sent again.
 */
function useSignIn<P>(failed: (err: unknown) => P) {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<P | null>(null);
  const submit = (check: () => P | null, signIn: () => Promise<void>) => async (e: FormEvent) => {
    e.preventDefault();
    const missing = check();
    if (missing) {
      setProblem(missing);
      return;
    }
    setBusy(true);
    setProblem(null);
    try {
      await signIn();
    } catch (err) {
      setBusy(false);
      setProblem(failed(err));
    }
  };
  return { busy, problem, submit };
}

const failure = (err: unknown) => (err instanceof Error ? err.message : 'Sign-in failed. Try again.');

const passwordProblem = (err: unknown) =>
  err instanceof AdminApiError && err.code === 'unauthorized' ? 'Wrong email or password.' : failure(err);

function PasswordForm({ onSignedIn }: { onSignedIn: (auth: Credentials, me: StaffMe) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { busy, problem, submit: onSubmit } = useSignIn(passwordProblem);

  const submit = onSubmit(
    () => (!email.trim() || !password ? 'Enter your email and password.' : null),
    async () => {
      const me = await AdminApi.login(email.trim(), password);
      onSignedIn({ kind: 'session', csrf: me.csrf ?? '' }, me);
    },
  );

  return (
    <form className="login-form" onSubmit={submit} noValidate aria-label="Sign in with email">
      <label className="field">
        <span>Email</span>
        <input
          data-testid="staff-email"
          type="email"
          autoComplete="username"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          aria-invalid={problem !== null}
          autoFocus
        />
      </label>
      <label className="field">
        <span>Password</span>
        <input
          data-testid="staff-password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          aria-invalid={problem !== null}
          aria-describedby={problem ? 'staff-login-problem' : undefined}
        />
      </label>
      {problem && (
        <p id="staff-login-problem" className="callout bad" role="alert" data-testid="staff-login-error">
          {problem}
        </p>
      )}
      <button className="btn primary wide" data-testid="staff-login" type="submit" disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}

function tokenProblem(err: unknown): Problem {
  if (err instanceof AdminApiError && err.code === 'unauthorized')
    return { kind: 'error', text: 'That token was not accepted. Check it against ADMIN_TOKEN on the server.' };
  if (err instanceof AdminApiError && err.code === 'admin_disabled')
    return { kind: 'disabled', text: 'The console is turned off on this server. Set ADMIN_TOKEN in its environment and restart it.' };
  return { kind: 'error', text: failure(err) };
}

/** The operator's bearer token: checked against the server before it is kept (for this tab only). */
function TokenForm({ onSignedIn }: { onSignedIn: (auth: Credentials, me: StaffMe) => void }) {
  const [token, setToken] = useState('');
  const { busy, problem, submit: onSubmit } = useSignIn(tokenProblem);

  const t = token.trim();
  const submit = onSubmit(
    () => (!t ? { kind: 'error', text: 'Enter the admin token.' } : null),
    async () => {
      const auth: Credentials = { kind: 'token', token: t };
      onSignedIn(auth, await AdminApi.me(auth));
    },
  );

  return (
    <form className="login-form token" onSubmit={submit} noValidate aria-label="Sign in with the API token">
      <label className="field">
        <span>Use an API token instead</span>
        <input
          data-testid="admin-token"
          type="password"
          autoComplete="off"
          placeholder="ADMIN_TOKEN"
          value={token}
          onChange={(e) => setToken(e.target.value)}
          aria-invalid={problem?.kind === 'error'}
          aria-describedby={problem ? 'login-problem' : 'token-hint'}
        />
      </label>
      {problem && (
        <p
          id="login-problem"
          className={`callout ${problem.kind === 'disabled' ? 'info' : 'bad'}`}
          role="alert"
          data-testid="admin-login-error"
        >
          {problem.text}
        </p>
      )}
      <button className="btn wide" data-testid="admin-login" type="submit" disabled={busy}>
        {busy ? 'Checking…' : 'Sign in with token'}
      </button>
      <p id="token-hint" className="fine muted">
        For operators. The token is kept in this tab only and forgotten when you close it.
      </p>
    </form>
  );
}
