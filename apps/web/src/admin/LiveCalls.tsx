import { useCallback, useState } from 'react';
import { duration, dateTime } from './format.js';
import { EmptyState, Loadable, SectionHead, ShortId, StaleNote, TableHead } from './parts.js';
import { useAction, useResource, useSession } from './session.js';
import type { LiveCall } from './types.js';

/** What the live view adds from screening and age assurance (docs/safety.md). */
type ScreenedCall = Omit<LiveCall, 'participants'> & {
  screenFlags?: number;
  lastFlagAt?: number | null;
  participants: Array<LiveCall['participants'][number] & { flaggedBy?: number; ageEstimate?: number | null }>;
};

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

  const list = (calls.data?.calls.filter((c) => !ended.has(c.id)) ?? []) as ScreenedCall[];
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
                    <tr
                      key={c.id}
                      data-testid="live-call"
                      data-call-id={c.id}
                      data-state={c.state}
                      data-node={c.node}
                      data-flags={c.screenFlags ?? 0}
                      className={c.screenFlags ? 'flagged' : undefined}
                    >
                      <td data-label="Call">
                        <ShortId id={c.id} label="Call" />
                        <small className="muted">since {dateTime(c.matchedAt)}</small>
                        {(c.screenFlags ?? 0) > 0 && (
                          <span
                            className="tag bad"
                            data-testid="call-flagged"
                            title="Screening flags on this call: the frames are in Reports"
                          >
                            {c.screenFlags === 1 ? '1 screening flag' : `${c.screenFlags} screening flags`}
                          </span>
                        )}
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
                              <span className="tag" title="Passed the liveness check">
                                {p.verified ? 'verified' : 'not verified'}
                              </span>
                              {(p.flaggedBy ?? 0) > 0 && (
                                <span className="tag bad" title="Different viewers whose screening flagged this person (open flags)">
                                  flagged by {p.flaggedBy}
                                </span>
                              )}
                              {p.ageEstimate !== undefined && p.ageEstimate !== null && (
                                <span className="tag" title="Age the liveness check estimated (age assurance)">
                                  age ~{p.ageEstimate}
                                </span>
                              )}
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
