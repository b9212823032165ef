import { useCallback, useEffect, useMemo, useState } from 'react';
import { useConsoleText, type ConsoleMessageId } from '../i18n/index.js';
import { AdminApi, AdminApiError, sessionHint, tokenStore, type Credentials } from './api.js';
import { Console } from './Console.js';
import { errorText } from './errors.js';
import { Login } from './Login.js';
import { Spinner } from './parts.js';
import { SessionContext, type ConsoleSession } from './session.js';
import type { StaffMe } from './types.js';

/** Why the sign-in screen is shown: one of the console's own sentences, or a request's error in words. */
type Notice = { id: ConsoleMessageId } | { text: string } | null;

type Boot = { status: 'checking' } | { status: 'signed-out'; notice: Notice } | { status: 'signed-in'; auth: Credentials; me: StaffMe };

/**
 * Who is at the console: a staff member with a session cookie (found again after a reload through
 * `/api/staff/me`), the operator with the API token (kept for this tab), or nobody yet.
 */
export function AdminApp() {
  const t = useConsoleText();
  const [boot, setBoot] = useState<Boot>({ status: 'checking' });

  useEffect(() => {
    let cancelled = false;
    const token = tokenStore.get();
    const auth: Credentials | undefined = token ? { kind: 'token', token } : undefined;
    if (!auth && !sessionHint.get()) {
      setBoot({ status: 'signed-out', notice: null });
      return;
    }
    AdminApi.me(auth).then(
      (me) => !cancelled && setBoot({ status: 'signed-in', auth: auth ?? { kind: 'session', csrf: me.csrf ?? '' }, me }),
      (err: unknown) => {
        if (cancelled) return;
        if (auth) tokenStore.clear();
        else sessionHint.clear();
        const expired = err instanceof AdminApiError && err.code === 'unauthorized';
        setBoot({
          status: 'signed-out',
          notice: expired ? (auth ? null : { id: 'console.notice.sessionEnded' }) : { text: errorText(t, err) },
        });
      },
    );
    return () => {
      cancelled = true;
    };
    // Once, at start: the language may change later without checking the session again.
  }, []);

  const signOut = useCallback((notice: Notice) => {
    tokenStore.clear();
    sessionHint.clear();
    setBoot({ status: 'signed-out', notice });
  }, []);

  if (boot.status === 'checking')
    return (
      <div className="login">
        <Spinner label={t('console.opening')} />
      </div>
    );
  if (boot.status === 'signed-out')
    return (
      <Login
        notice={boot.notice === null ? null : 'id' in boot.notice ? t(boot.notice.id) : boot.notice.text}
        onSignedIn={(auth, me) => {
          if (auth.kind === 'token') tokenStore.set(auth.token);
          else sessionHint.set();
          setBoot({ status: 'signed-in', auth, me });
        }}
      />
    );
  return <SignedIn auth={boot.auth} me={boot.me} onSignOut={signOut} />;
}

function SignedIn({ auth, me, onSignOut }: { auth: Credentials; me: StaffMe; onSignOut: (notice: Notice) => void }) {
  const t = useConsoleText();
  const api = useMemo(() => new AdminApi(auth), [auth]);
  const explain = useCallback(
    (err: unknown): string | null => {
      if (err instanceof AdminApiError && err.code === 'unauthorized') {
        onSignOut({ id: auth.kind === 'token' ? 'console.notice.tokenRefused' : 'console.notice.sessionEnded' });
        return null;
      }
      if (err instanceof AdminApiError && err.code === 'admin_disabled') {
        onSignOut({ id: 'console.notice.turnedOff' });
        return null;
      }
      return errorText(t, err);
    },
    [auth.kind, onSignOut, t],
  );
  const session = useMemo<ConsoleSession>(() => ({ api, me, explain }), [api, me, explain]);
  const signOut = useCallback(async () => {
    try {
      await api.logout();
    } catch {
      // Signed out on this side either way; the server forgets the session when it expires.
    }
    onSignOut(null);
  }, [api, onSignOut]);
  return (
    <SessionContext.Provider value={session}>
      <Console onSignOut={() => void signOut()} />
    </SessionContext.Provider>
  );
}
