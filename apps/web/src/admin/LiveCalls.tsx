import { useCallback, useState } from 'react';
import { duration, dateTime } from './format.js';
import { EmptyState, Loadable, SectionHead, ShortId, StaleNote, TableHead } from './parts.js';
import { useAction, useResource, useSession } from './session.js';
import type { LiveCall } from './types.js';

const POLL_MS = 2000;

const STATE_LABELS: Record<LiveCall['state'], string> = {
  matched: 'Matched',
  connecting: 'Connecting',
  connected: 'Connected',
  reconnecting: 'Reconnecting',
  ended: 'Ending',
};

/**
 * Calls going on right now on every node, each with the node it runs on, refreshed every 2 s; a
 * moderator can end any of them, wherever it runs.
 */
export function LiveCalls({ onBan }: { onBan: (userId: string, reason?: string) => void }) {
  const { api } = useSession();
  const load = useCallback((signal: AbortSignal) => api.liveCalls(signal), [api]);
  const calls = useResource(load, POLL_MS);
  const action = useAction();
  const [ended, setEnded] = useState<Set<string>>(() => new Set());

  const end = async (id: string) => {
    const ok = await action.run(id, () => api.endCall(id));
    if (ok) {
      // Gone from the list at once; the next poll confirms.
      setEnded((s) => new Set(s).add(id));
      calls.reload();
    }
  };

  const list = calls.data?.calls.filter((c) => !ended.has(c.id)) ?? [];
  const unreachable = calls.data?.unreachable ?? [];
  return (
    <>
      <SectionHead
        title="Live calls"
        sub={calls.status === 'ready' ? `${list.length} right now · refreshed every 2 s` : 'Refreshed every 2 s'}
      />
      <StaleNote res={calls} />
      {unreachable.length > 0 && (
        <p className="callout warn" role="status" data-testid="unreachable-nodes">
          {unreachable.length === 1 ? 'Node' : 'Nodes'} {unreachable.join(', ')} did not answer:{' '}
          {unreachable.length === 1 ? 'its' : 'their'} calls are not listed.
        </p>
      )}
      {action.error && (
        <p className="callout bad" role="alert">
          Couldn’t end the call: {action.error}
        </p>
      )}
      <Loadable res={calls} loading="Loading live calls…" failed="Could not load live calls">
        {() => (
          <section className="card" aria-label="Live calls">
            {list.length === 0 ? (
              <EmptyState text="No calls right now" detail="Calls appear here the moment two people are matched." />
            ) : (
              <table className="table stack live-calls" data-testid="live-calls">
                <TableHead
                  columns={[
                    'Call',
                    'Node',
                    'Participants',
                    'State',
                    { label: 'Duration', num: true },
                    'Media',
                    { label: 'Actions', hidden: true },
                  ]}
                />
                <tbody>
                  {list.map((c) => (
                    <tr key={c.id} data-testid="live-call" data-call-id={c.id} data-state={c.state} data-node={c.node}>
                      <td data-label="Call">
                        <ShortId id={c.id} label="Call" />
                        <small className="muted">since {dateTime(c.matchedAt)}</small>
                      </td>
                      <td data-label="Node" title="The server that keeps this call">
                        <code>{c.node}</code>
                      </td>
                      <td data-label="Participants">
                        <ul className="participants">
                          {c.participants.map((p) => (
                            <li key={p.userId} data-testid="participant" data-user-id={p.userId}>
                              <ShortId id={p.userId} label="User" />
                              {p.node !== c.node && (
                                <span className="tag" title="This person is connected to another node">
                                  on {p.node}
                                </span>
                              )}
                              <span className={`tag ${p.reportsAgainst > 0 ? 'bad' : ''}`} title="Reports ever filed against this person">
                                {p.reportsAgainst === 1 ? '1 report' : `${p.reportsAgainst} reports`}
                              </span>
                              <span className="tag" title="Verified-human checks are not available yet">
                                {p.verified ? 'verified' : 'not verified'}
                              </span>
                              <button
                                className="link small-link"
                                onClick={() => onBan(p.userId)}
                                title="Ban this person (opens the ban form)"
                              >
                                Ban…
                              </button>
                            </li>
                          ))}
                        </ul>
                      </td>
                      <td data-label="State">
                        <span className={`tag ${c.state === 'connected' ? 'direct' : c.state === 'reconnecting' ? 'relay' : ''}`}>
                          {STATE_LABELS[c.state]}
                        </span>
                      </td>
                      <td
                        data-label="Duration"
                        className="num"
                        title={c.connectedAt ? 'Since the call connected' : 'Since the match (not connected yet)'}
                      >
                        {duration(c.durationMs)}
                      </td>
                      <td data-label="Media">
                        {c.relayOnly ? <span className="tag relay">Relay only</span> : <span className="muted">Direct allowed</span>}
                      </td>
                      <td className="actions">
                        <button
                          className="btn small danger"
                          data-testid="end-call"
                          onClick={() => void end(c.id)}
                          disabled={action.busy === c.id}
                        >
                          {action.busy === c.id ? 'Ending…' : 'End call'}
                        </button>
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
