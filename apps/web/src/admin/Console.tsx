import { useCallback, useEffect, useState } from 'react';
import { LanguageSwitch, useConsoleText, type ConsoleMessageId } from '../i18n/index.js';
import { Appeals } from './Appeals.js';
import { AuditLog } from './AuditLog.js';
import { Bans } from './Bans.js';
import { Dashboard } from './Dashboard.js';
import { Economics } from './Economics.js';
import { LiveCalls } from './LiveCalls.js';
import { Brand } from './parts.js';
import { Reports } from './Reports.js';
import { useSession } from './session.js';
import { Staff } from './Staff.js';
import { AgeReviews } from './Verification.js';

export type SectionKey = 'live' | 'reports' | 'age' | 'bans' | 'appeals' | 'audit' | 'insights' | 'economics' | 'staff';

const SECTIONS: Array<{ key: SectionKey; label: ConsoleMessageId; adminOnly?: boolean }> = [
  { key: 'live', label: 'console.nav.live' },
  { key: 'reports', label: 'console.nav.reports' },
  { key: 'age', label: 'console.nav.age' },
  { key: 'bans', label: 'console.nav.bans' },
  { key: 'appeals', label: 'console.nav.appeals' },
  { key: 'audit', label: 'console.nav.audit' },
  { key: 'insights', label: 'console.nav.insights' },
  { key: 'economics', label: 'console.nav.economics', adminOnly: true },
  { key: 'staff', label: 'console.nav.staff', adminOnly: true },
];

const COUNTS_MS = 10_000;

interface Route {
  section: SectionKey;
  /** The open item of the section (a report id), if any. */
  item: string | null;
}

/** `#reports/<id>` → reports, that report. Unknown or forbidden sections fall back to the default. */
function parseHash(hash: string, allowed: SectionKey[], fallback: SectionKey): Route {
  const [section, item] = hash.replace(/^#\/?/, '').split('/');
  const key = allowed.find((k) => k === section);
  return key ? { section: key, item: item ? decodeURIComponent(item) : null } : { section: fallback, item: null };
}

function hashOf(r: Route): string {
  return `#${r.section}${r.item ? `/${encodeURIComponent(r.item)}` : ''}`;
}

/** The signed-in console: who is here, the sections, and the open section. */
export function Console({ onSignOut }: { onSignOut: () => void }) {
  const { api, me } = useSession();
  const t = useConsoleText();
  const sections = SECTIONS.filter((s) => !s.adminOnly || me.role === 'admin');
  const allowed = sections.map((s) => s.key);
  // The operator's token came from the insights console, so it still opens there; staff start with the live calls.
  const fallback: SectionKey = api.kind === 'token' ? 'insights' : 'live';
  const [route, setRoute] = useState<Route>(() => parseHash(location.hash, allowed, fallback));
  const [banPrefill, setBanPrefill] = useState<{ userId: string; reason: string } | null>(null);
  const counts = useCounts();

  useEffect(() => {
    const onHash = () => setRoute(parseHash(location.hash, allowed, fallback));
    window.addEventListener('hashchange', onHash);
    window.addEventListener('popstate', onHash);
    return () => {
      window.removeEventListener('hashchange', onHash);
      window.removeEventListener('popstate', onHash);
    };
    // `allowed` follows the role, which does not change while signed in.
  }, [fallback, allowed.join()]);

  const go = useCallback((r: Route) => {
    setRoute(r);
    const h = hashOf(r);
    if (location.hash !== h) history.pushState(null, '', h);
  }, []);

  const banUser = useCallback(
    (userId: string, reason = '') => {
      setBanPrefill({ userId, reason });
      go({ section: 'bans', item: null });
    },
    [go],
  );

  const badge = (k: SectionKey): number | null =>
    k === 'live' ? counts.live : k === 'reports' ? counts.reports : k === 'appeals' ? counts.appeals : null;

  return (
    <div className="console">
      <header className="bar">
        <div className="bar-title">
          <Brand />
          <span className="bar-name">{t('console.title')}</span>
        </div>
        <div className="whoami" data-testid="whoami">
          <span className="whoami-email" title={me.email}>
            {me.email === 'api-token' ? t('console.whoami.token') : me.email}
          </span>
          <span className={`tag role ${me.role}`}>{t(me.role === 'admin' ? 'console.role.admin' : 'console.role.moderator')}</span>
        </div>
        <LanguageSwitch label={t('console.language')} className="language-switch bar-language" compact />
        <button className="btn small subtle signout" data-testid="sign-out" onClick={onSignOut}>
          {t('console.signOut')}
        </button>
        <nav className="sections" aria-label={t('console.nav.label')}>
          {sections.map((s) => {
            const n = badge(s.key);
            return (
              <a
                key={s.key}
                href={`#${s.key}`}
                className={`section-tab ${route.section === s.key ? 'on' : ''}`}
                data-testid={`nav-${s.key}`}
                aria-current={route.section === s.key ? 'page' : undefined}
                onClick={(e) => {
                  e.preventDefault();
                  go({ section: s.key, item: null });
                  counts.refresh();
                }}
              >
                {t(s.label)}
                {n !== null && n > 0 && (
                  <span className={`badge ${s.key === 'live' ? 'live' : ''}`}>
                    <span aria-hidden="true">{n > 99 ? t.intl.formatNumber(99) + '+' : t.intl.formatNumber(n)}</span>
                    <span className="sr-only">{t(s.key === 'live' ? 'console.nav.badgeLive' : 'console.nav.badgeOpen', { n })}</span>
                  </span>
                )}
              </a>
            );
          })}
        </nav>
      </header>

      <main
        className="section"
        data-testid={`section-${route.section}`}
        aria-label={t(sections.find((x) => x.key === route.section)?.label ?? 'console.title')}
      >
        {route.section === 'live' && <LiveCalls onBan={banUser} />}
        {route.section === 'reports' && (
          <Reports openId={route.item} onOpen={(id) => go({ section: 'reports', item: id })} onChanged={counts.refresh} onBan={banUser} />
        )}
        {route.section === 'age' && <AgeReviews />}
        {route.section === 'bans' && <Bans prefill={banPrefill} onPrefillUsed={() => setBanPrefill(null)} />}
        {route.section === 'appeals' && <Appeals onChanged={counts.refresh} />}
        {route.section === 'audit' && <AuditLog />}
        {route.section === 'insights' && <Dashboard />}
        {route.section === 'economics' && me.role === 'admin' && (
          <Economics
            view={route.item === 'credits' ? 'credits' : 'report'}
            onView={(v) => go({ section: 'economics', item: v === 'credits' ? 'credits' : null })}
          />
        )}
        {route.section === 'staff' && me.role === 'admin' && <Staff />}
      </main>
    </div>
  );
}

/** Open reports, open appeals and live calls, for the badges on the tabs; refreshed every 10 s. */
function useCounts() {
  const { api } = useSession();
  const [counts, setCounts] = useState<{ live: number | null; reports: number | null; appeals: number | null }>({
    live: null,
    reports: null,
    appeals: null,
  });
  const refresh = useCallback(() => {
    // Badges are a hint: a failed refresh leaves the last numbers, and sections show their own errors.
    void Promise.allSettled([api.liveCalls(), api.reports('open'), api.appeals()]).then(([live, reports, appeals]) =>
      setCounts((c) => ({
        live: live.status === 'fulfilled' ? live.value.calls.length : c.live,
        reports: reports.status === 'fulfilled' ? reports.value.reports.length : c.reports,
        appeals: appeals.status === 'fulfilled' ? appeals.value.appeals.filter((a) => a.status === 'open').length : c.appeals,
      })),
    );
  }, [api]);
  useEffect(() => {
    refresh();
    const t = setInterval(() => document.visibilityState === 'visible' && refresh(), COUNTS_MS);
    return () => clearInterval(t);
  }, [refresh]);
  return { ...counts, refresh };
}
