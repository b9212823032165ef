import { useCallback, useState } from 'react';
import { useConsoleText, type ConsoleMessageId } from '../i18n/index.js';
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

const STATE_LABELS: Record<LiveCall['state'], ConsoleMessageId> = {
  matched: 'console.live.state.matched',
  connecting: 'console.live.state.connecting',
  connected: 'console.live.state.connected',
  reconnecting: 'console.live.state.reconnecting',
  ended: 'console.live.state.ended',
};

/**
 * Calls going on right now on every node, each with the node it runs on, refreshed every 2 s; a
 * moderator can end any of them, wherever it runs.
 */
export function LiveCalls({ onBan }: { onBan: (userId: string, reason?: string) => void }) {
  const { api } = useSession();
  const t = useConsoleText();
  const load = useCallback((signal: AbortSignal) => api.liveCalls(signal), [api]);
  const calls = useResource(load, POLL_MS);
  const action = useAction();
  const [ended, setEnded] = useState<Set<string>>(() => new Set());
  const [said, setSaid] = useState<string | null>(null);

  const end = async (id: string) => {
    setSaid(null);
    const ok = await action.run(id, () => api.endCall(id));
    if (ok) {
      // Gone from the list at once; the next poll confirms.
      setEnded((s) => new Set(s).add(id));
      setSaid(t('console.live.ended', { id: id.slice(0, 8) }));
      calls.reload();
    }
  };

  const list = (calls.data?.calls.filter((c) => !ended.has(c.id)) ?? []) as ScreenedCall[];
  const unreachable = calls.data?.unreachable ?? [];
  return (
    <>
      <SectionHead
        title={t('console.nav.live')}
        sub={calls.status === 'ready' ? t('console.live.sub', { n: list.length }) : t('console.live.subLoading')}
      />
      <StaleNote res={calls} />
      {unreachable.length > 0 && (
        <p className="callout warn" role="status" data-testid="unreachable-nodes">
          {t('console.live.unreachable', { n: unreachable.length, nodes: t.intl.formatList(unreachable) })}
        </p>
      )}
      <div role="status" className="sr-only">
        {said}
      </div>
      {action.error && (
        <p className="callout bad" role="alert">
          {t('console.live.endFailed', { error: action.error })}
        </p>
      )}
      <Loadable res={calls} loading={t('console.live.loading')} failed={t('console.live.failed')}>
        {() => (
          <section className="card" aria-label={t('console.nav.live')}>
            {list.length === 0 ? (
              <EmptyState text={t('console.live.empty')} detail={t('console.live.emptyDetail')} />
            ) : (
              <table className="table stack live-calls" data-testid="live-calls">
                <TableHead
                  columns={[
                    t('console.call.title'),
                    t('console.live.node'),
                    t('console.live.participants'),
                    t('console.live.state'),
                    { label: t('console.live.duration'), num: true },
                    t('console.live.media'),
                    { label: t('console.common.actions'), hidden: true },
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
                      <td data-label={t('console.call.title')}>
                        <ShortId id={c.id} label={t('console.call.title')} />
                        <small className="muted">{t('console.live.since', { at: dateTime(t, c.matchedAt) })}</small>
                        {(c.screenFlags ?? 0) > 0 && (
                          <span className="tag bad" data-testid="call-flagged" title={t('console.live.flagsHint')}>
                            {t('console.live.flags', { n: c.screenFlags ?? 0 })}
                          </span>
                        )}
                      </td>
                      <td data-label={t('console.live.node')} title={t('console.live.nodeHint')}>
                        <code>{c.node}</code>
                      </td>
                      <td data-label={t('console.live.participants')}>
                        <ul className="participants">
                          {c.participants.map((p) => (
                            <li key={p.userId} data-testid="participant" data-user-id={p.userId}>
                              <ShortId id={p.userId} label={t('console.common.user')} />
                              {p.node !== c.node && (
                                <span className="tag" title={t('console.live.otherNodeHint')}>
                                  {t('console.live.onNode', { node: p.node })}
                                </span>
                              )}
                              <span className={`tag ${p.reportsAgainst > 0 ? 'bad' : ''}`} title={t('console.live.reportsHint')}>
                                {t('console.live.reports', { n: p.reportsAgainst })}
                              </span>
                              <span className="tag" title={t('console.live.verifiedHint')}>
                                {p.verified ? t('console.live.verified') : t('console.live.notVerified')}
                              </span>
                              {(p.flaggedBy ?? 0) > 0 && (
                                <span className="tag bad" title={t('console.live.flaggedByHint')}>
                                  {t('console.live.flaggedBy', { n: p.flaggedBy ?? 0 })}
                                </span>
                              )}
                              {p.ageEstimate !== undefined && p.ageEstimate !== null && (
                                <span className="tag" title={t('console.live.ageHint')}>
                                  {t('console.live.age', { n: p.ageEstimate })}
                                </span>
                              )}
                              <button
                                className="link small-link"
                                onClick={() => onBan(p.userId)}
                                title={t('console.live.banHint')}
                                aria-label={t('console.live.banLabel', { id: p.userId.slice(0, 8) })}
                              >
                                {t('console.common.banEllipsis')}
                              </button>
                            </li>
                          ))}
                        </ul>
                      </td>
                      <td data-label={t('console.live.state')}>
                        <span className={`tag ${c.state === 'connected' ? 'direct' : c.state === 'reconnecting' ? 'relay' : ''}`}>
                          {t(STATE_LABELS[c.state])}
                        </span>
                      </td>
                      <td
                        data-label={t('console.live.duration')}
                        className="num"
                        title={c.connectedAt ? t('console.live.durationConnected') : t('console.live.durationMatched')}
                      >
                        {duration(c.durationMs)}
                      </td>
                      <td data-label={t('console.live.media')}>
                        {c.relayOnly ? (
                          <span className="tag relay">{t('console.live.relayOnly')}</span>
                        ) : (
                          <span className="muted">{t('console.live.directAllowed')}</span>
                        )}
                      </td>
                      <td className="actions">
                        <button
                          className="btn small danger"
                          data-testid="end-call"
                          onClick={() => void end(c.id)}
                          disabled={action.busy === c.id}
                          aria-label={t('console.live.endLabel', { id: c.id.slice(0, 8) })}
                        >
                          {action.busy === c.id ? t('console.live.ending') : t('console.live.end')}
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
