import { useCallback } from 'react';
import { useConsoleText, type ConsoleMessageId } from '../i18n/index.js';
import { fullDateTime, type T } from './format.js';
import { EmptyState, Loadable, RefreshButton, SectionHead, ShortId, StaleNote, TableHead } from './parts.js';
import { useResource, useSession } from './session.js';
import type { AuditEntry } from './types.js';

const ACTIONS: Record<string, ConsoleMessageId> = {
  end_call: 'console.audit.action.end_call',
  report_dismiss: 'console.audit.action.report_dismiss',
  report_warn: 'console.audit.action.report_warn',
  report_ban: 'console.audit.action.report_ban',
  ban: 'console.audit.action.ban',
  lift_ban: 'console.audit.action.lift_ban',
  appeal_uphold: 'console.audit.action.appeal_uphold',
  appeal_lift: 'console.audit.action.appeal_lift',
  create_staff: 'console.audit.action.create_staff',
};

/** Every moderator action, newest first (the latest 200). */
export function AuditLog() {
  const { api } = useSession();
  const t = useConsoleText();
  const load = useCallback((signal: AbortSignal) => api.audit(signal), [api]);
  const audit = useResource(load);
  const list = audit.data?.entries ?? [];
  return (
    <>
      <SectionHead title={t('console.nav.audit')} sub={t('console.audit.sub')}>
        <RefreshButton refreshing={audit.refreshing} onClick={() => audit.reload()} />
      </SectionHead>
      <StaleNote res={audit} />
      <Loadable res={audit} loading={t('console.audit.loading')} failed={t('console.audit.failed')}>
        {() => (
          <section className="card" aria-label={t('console.nav.audit')}>
            {list.length === 0 ? (
              <EmptyState text={t('console.audit.empty')} detail={t('console.audit.emptyDetail')} />
            ) : (
              <table className="table stack audit" data-testid="audit-log">
                <TableHead
                  columns={[
                    t('console.audit.when'),
                    t('console.bans.who'),
                    t('console.audit.action'),
                    t('console.audit.target'),
                    t('console.audit.detail'),
                  ]}
                />
                <tbody>
                  {list.map((e) => {
                    const action = ACTIONS[e.action];
                    return (
                      <tr key={e.id} data-testid="audit-row" data-action={e.action}>
                        <td data-label={t('console.audit.when')}>{fullDateTime(t, e.at)}</td>
                        <td data-label={t('console.bans.who')}>{who(t, e)}</td>
                        <td data-label={t('console.audit.action')}>{action ? t(action) : e.action}</td>
                        <td data-label={t('console.audit.target')}>{e.target ? <ShortId id={e.target} /> : '—'}</td>
                        <td data-label={t('console.audit.detail')} className="wrap">
                          {detail(t, e) || <span className="muted">—</span>}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            )}
          </section>
        )}
      </Loadable>
    </>
  );
}

function who(t: T, e: AuditEntry): string {
  const by = e.detail?.by;
  if (by === 'api-token') return t('console.whoami.token');
  if (typeof by === 'string') return by;
  return e.staffId ? e.staffId.slice(0, 8) : t('console.audit.system');
}

/** The interesting parts of an entry's detail, in words. */
function detail(t: T, e: AuditEntry): string {
  const d = e.detail ?? {};
  const parts: string[] = [];
  if (typeof d.reason === 'string') parts.push(d.reason);
  if ('until' in d && (typeof d.until === 'number' || d.until === null))
    parts.push(d.until === null ? t('console.audit.untilForever') : t('console.audit.until', { at: fullDateTime(t, d.until) }));
  if (typeof d.reportedId === 'string') parts.push(t('console.audit.reported', { id: d.reportedId.slice(0, 8) }));
  if (typeof d.deviceId === 'string' && e.action === 'ban') parts.push(t('console.audit.device', { id: d.deviceId.slice(0, 8) }));
  if (typeof d.email === 'string') parts.push(`${d.email}${typeof d.role === 'string' ? ` (${d.role})` : ''}`);
  if (typeof d.note === 'string' && d.note) parts.push(t('console.audit.note', { note: d.note }));
  return parts.join(' · ');
}
