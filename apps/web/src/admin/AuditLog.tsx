import { useCallback } from 'react';
import { fullDateTime, until } from './format.js';
import { EmptyState, Loadable, RefreshButton, SectionHead, ShortId, StaleNote, TableHead } from './parts.js';
import { useResource, useSession } from './session.js';
import type { AuditEntry } from './types.js';

const ACTIONS: Record<string, string> = {
  end_call: 'Ended a live call',
  report_dismiss: 'Dismissed a report',
  report_warn: 'Warned (report upheld)',
  report_ban: 'Banned (report upheld)',
  ban: 'Banned',
  lift_ban: 'Lifted a ban',
  appeal_uphold: 'Kept a ban (appeal)',
  appeal_lift: 'Lifted a ban (appeal)',
  create_staff: 'Created a staff account',
};

/** Every moderator action, newest first (the latest 200). */
export function AuditLog() {
  const { api } = useSession();
  const load = useCallback((signal: AbortSignal) => api.audit(signal), [api]);
  const audit = useResource(load);
  const list = audit.data?.entries ?? [];
  return (
    <>
      <SectionHead title="Audit log" sub="Every moderator action, newest first">
        <RefreshButton refreshing={audit.refreshing} onClick={() => audit.reload()} />
      </SectionHead>
      <StaleNote res={audit} />
      <Loadable res={audit} loading="Loading the audit log…" failed="Could not load the audit log">
        {() => (
          <section className="card" aria-label="Audit log">
            {list.length === 0 ? (
              <EmptyState
                text="No moderator actions yet"
                detail="Ending calls, resolving reports, bans, appeals and new staff accounts are recorded here."
              />
            ) : (
              <table className="table stack audit" data-testid="audit-log">
                <TableHead columns={['When', 'Who', 'Action', 'Target', 'Detail']} />
                <tbody>
                  {list.map((e) => (
                    <tr key={e.id} data-testid="audit-row" data-action={e.action}>
                      <td data-label="When">{fullDateTime(e.at)}</td>
                      <td data-label="Who">{who(e)}</td>
                      <td data-label="Action">{ACTIONS[e.action] ?? e.action}</td>
                      <td data-label="Target">{e.target ? <ShortId id={e.target} /> : '—'}</td>
                      <td data-label="Detail" className="wrap">
                        {detail(e) || <span className="muted">—</span>}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
        )}
      </Loadable>
    </>
  );
}

function who(e: AuditEntry): string {
  const by = e.detail?.by;
  if (by === 'api-token') return 'API token';
  if (typeof by === 'string') return by;
  return e.staffId ? e.staffId.slice(0, 8) : 'System';
}

/** The interesting parts of an entry's detail, in words. */
function detail(e: AuditEntry): string {
  const d = e.detail ?? {};
  const parts: string[] = [];
  if (typeof d.reason === 'string') parts.push(d.reason);
  if ('until' in d && (typeof d.until === 'number' || d.until === null)) parts.push(`until ${until(d.until).toLowerCase()}`);
  if (typeof d.reportedId === 'string') parts.push(`reported ${d.reportedId.slice(0, 8)}`);
  if (typeof d.deviceId === 'string' && e.action === 'ban') parts.push(`device ${d.deviceId.slice(0, 8)}`);
  if (typeof d.email === 'string') parts.push(`${d.email}${typeof d.role === 'string' ? ` (${d.role})` : ''}`);
  if (typeof d.note === 'string' && d.note) parts.push(`note: ${d.note}`);
  return parts.join(' · ');
}
