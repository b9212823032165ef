import { useState, type FormEvent } from 'react';
import { LanguageSwitch, useConsoleText } from '../i18n/index.js';
import { AdminApi, AdminApiError, type Credentials } from './api.js';
import { errorText } from './errors.js';
import type { T } from './format.js';
import { Brand } from './parts.js';
import type { StaffMe } from './types.js';

type Problem = { kind: 'error' | 'disabled'; text: string };

/**
 * Staff sign in with email and password (a session cookie); the operator's API token
 * (ADMIN_TOKEN) still works as a second way in, below.
 */
export function Login({ notice, onSignedIn }: { notice: string | null; onSignedIn: (auth: Credentials, me: StaffMe) => void }) {
  const t = useConsoleText();
  return (
    <main className="login">
      <div className="login-card">
        <div className="login-top">
          <Brand />
          <LanguageSwitch label={t('console.language')} className="language-switch login-language" />
        </div>
        <h1>{t('console.login.title')}</h1>
        <p className="muted">{t('console.login.lead')}</p>
        {notice && (
          <p className="callout info" role="status">
            {notice}
          </p>
        )}
        <PasswordForm onSignedIn={onSignedIn} />
        <div className="login-or" role="separator">
          <span>{t('console.login.or')}</span>
        </div>
        <TokenForm onSignedIn={onSignedIn} />
      </div>
    </main>
  );
}

/**
 * A sign-in form's submit: `check` says what is missing (or null), then `signIn` runs; a failure
 * becomes `problem` (through `failed`) and the form can be sent again.
 */
function useSignIn<P>(failed: (t: T, err: unknown) => P) {
  const t = useConsoleText();
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
      setProblem(failed(t, err));
    }
  };
  return { t, busy, problem, submit };
}

const failure = (t: T, err: unknown) => (err instanceof Error ? errorText(t, err) : t('console.login.failed'));

const passwordProblem = (t: T, err: unknown) =>
  err instanceof AdminApiError && err.code === 'unauthorized' ? t('console.login.wrongPassword') : failure(t, err);

function PasswordForm({ onSignedIn }: { onSignedIn: (auth: Credentials, me: StaffMe) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { t, busy, problem, submit: onSubmit } = useSignIn(passwordProblem);

  const submit = onSubmit(
    () => (!email.trim() || !password ? t('console.login.missing') : null),
    async () => {
      const me = await AdminApi.login(email.trim(), password);
      onSignedIn({ kind: 'session', csrf: me.csrf ?? '' }, me);
    },
  );

  return (
    <form className="login-form" onSubmit={submit} noValidate aria-label={t('console.login.withEmail')}>
      <label className="field">
        <span>{t('console.login.email')}</span>
        <input
          data-testid="staff-email"
          type="email"
          autoComplete="username"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          aria-invalid={problem !== null}
          aria-describedby={problem ? 'staff-login-problem' : undefined}
          autoFocus
        />
      </label>
      <label className="field">
        <span>{t('console.login.password')}</span>
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
      <button className="btn primary wide" data-testid="staff-login" type="submit" disabled={busy} aria-busy={busy}>
        {busy ? t('console.login.signingIn') : t('console.login.signIn')}
      </button>
    </form>
  );
}

function tokenProblem(t: T, err: unknown): Problem {
  if (err instanceof AdminApiError && err.code === 'unauthorized') return { kind: 'error', text: t('console.login.tokenRefused') };
  if (err instanceof AdminApiError && err.code === 'admin_disabled') return { kind: 'disabled', text: t('console.login.disabled') };
  return { kind: 'error', text: failure(t, err) };
}

/** The operator's bearer token: checked against the server before it is kept (for this tab only). */
function TokenForm({ onSignedIn }: { onSignedIn: (auth: Credentials, me: StaffMe) => void }) {
  const [token, setToken] = useState('');
  const { t, busy, problem, submit: onSubmit } = useSignIn(tokenProblem);

  const value = token.trim();
  const submit = onSubmit(
    () => (!value ? { kind: 'error', text: t('console.login.tokenMissing') } : null),
    async () => {
      const auth: Credentials = { kind: 'token', token: value };
      onSignedIn(auth, await AdminApi.me(auth));
    },
  );

  return (
    <form className="login-form token" onSubmit={submit} noValidate aria-label={t('console.login.withToken')}>
      <label className="field">
        <span>{t('console.login.tokenLabel')}</span>
        <input
          data-testid="admin-token"
          type="password"
          autoComplete="off"
          placeholder="ADMIN_TOKEN"
          value={token}
          onChange={(e) => setToken(e.target.value)}
          aria-invalid={problem?.kind === 'error'}
          aria-describedby={problem ? 'login-problem token-hint' : 'token-hint'}
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
      <button className="btn wide" data-testid="admin-login" type="submit" disabled={busy} aria-busy={busy}>
        {busy ? t('console.login.checking') : t('console.login.signInToken')}
      </button>
      <p id="token-hint" className="fine muted">
        {t('console.login.tokenHint')}
      </p>
    </form>
  );
}
