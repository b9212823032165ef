import type { InsightsResponse } from '@duet/protocol';
import { useState, type FormEvent } from 'react';
import { AdminApi, AdminApiError } from './api.js';
import { Brand } from './parts.js';
import { rangeFor } from './ranges.js';

type Problem = { kind: 'error' | 'disabled'; text: string } | null;

/** Asks for the operator's admin token and checks it against the server before keeping it. */
export function Login({ notice, onSignedIn }: { notice: string | null; onSignedIn: (token: string, first: InsightsResponse) => void }) {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem>(notice ? { kind: 'error', text: notice } : null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const t = token.trim();
    if (!t) {
      setProblem({ kind: 'error', text: 'Enter the admin token.' });
      return;
    }
    setBusy(true);
    setProblem(null);
    try {
      onSignedIn(t, await new AdminApi(t).insights(rangeFor('24h')));
    } catch (err) {
      setBusy(false);
      if (err instanceof AdminApiError && err.code === 'unauthorized')
        setProblem({ kind: 'error', text: 'That token was not accepted. Check it against ADMIN_TOKEN on the server.' });
      else if (err instanceof AdminApiError && err.code === 'admin_disabled')
        setProblem({ kind: 'disabled', text: 'The console is turned off on this server. Set ADMIN_TOKEN in its environment and restart it.' });
      else setProblem({ kind: 'error', text: err instanceof Error ? err.message : 'Sign-in failed. Try again.' });
    }
  };

  return (
    <div className="login">
      <form className="login-card" onSubmit={submit} noValidate>
        <Brand />
        <h1>Insights console</h1>
        <p className="muted">Connection success, time to match, call length and why calls end — per call and over time.</p>
        <label className="field">
          <span>Admin token</span>
          <input
            data-testid="admin-token"
            type="password"
            autoComplete="current-password"
            value={token}
            onChange={(e) => setToken(e.target.value)}
            aria-invalid={problem?.kind === 'error'}
            aria-describedby={problem ? 'login-problem' : undefined}
            autoFocus
          />
        </label>
        {problem && (
          <p id="login-problem" className={`callout ${problem.kind === 'disabled' ? 'info' : 'bad'}`} role="alert" data-testid="admin-login-error">
            {problem.text}
          </p>
        )}
        <button className="btn primary wide" data-testid="admin-login" type="submit" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
        <p className="fine muted">The token is kept in this tab only and forgotten when you close it.</p>
      </form>
    </div>
  );
}
