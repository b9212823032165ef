import type { InsightsResponse } from '@duet/protocol';
import { useState } from 'react';
import { AdminApi, tokenStore } from './api.js';
import { Dashboard } from './Dashboard.js';
import { Login } from './Login.js';

interface Session {
  api: AdminApi;
  /** The insights the login fetched to check the token, so the first screen needs no second request. */
  first: InsightsResponse | null;
}

export function AdminApp() {
  const [session, setSession] = useState<Session | null>(() => {
    const token = tokenStore.get();
    return token ? { api: new AdminApi(token), first: null } : null;
  });
  const [notice, setNotice] = useState<string | null>(null);

  if (!session)
    return (
      <Login
        notice={notice}
        onSignedIn={(token, first) => {
          tokenStore.set(token);
          setNotice(null);
          setSession({ api: new AdminApi(token), first });
        }}
      />
    );
  return (
    <Dashboard
      api={session.api}
      first={session.first}
      onSignOut={(why) => {
        tokenStore.clear();
        setNotice(why ?? null);
        setSession(null);
      }}
    />
  );
}
