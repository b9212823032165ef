import { useCallback, useState, type ReactNode } from 'react';
import { ago, dateTime, duration, fullDateTime, reasonLabel, reportReasonLabel, suspiciousReporter } from './format.js';
import { EmptyState, Loadable, SectionHead, ShortId, StaleNote } from './parts.js';
import { useAction, useResource, useSession } from './session.js';
import { VerificationFact } from './Verification.js';
import type { ReportDetail, ReportStatus, ReportSummary, ReporterStats } from './types.js';
import type { EndReason } from '@duet/protocol';

type Filter = 'open' | 'resolved' | 'all';
const FILTERS: Array<{ key: Filter; label: string }> = [
  { key: 'open', label: 'Open' },
  { key: 'resolved', label: 'Resolved' },
  { key: 'all', label: 'All' },
];
const POLL_MS = 10_000;

const STATUS_LABELS: Record<ReportStatus, string> = { open: 'Open', dismissed: 'Dismissed', warned: 'Warned', banned: 'Banned' };
const STATUS_TONE: Record<ReportStatus, string> = { open: 'open', dismissed: '', warned: 'relay', banned: 'bad' };

/** The reports queue and, beside it (or instead of it on a phone), the open report with its evidence. */
export function Reports({
  openId,
  onOpen,
  onChanged,
  onBan,
}: {
  openId: string | null;
  onOpen: (id: string | null) => void;
  onChanged: () => void;
  onBan: (userId: string, reason?: string) => void;
}) {
  const { api } = useSession();
  const [filter, setFilter] = useState<Filter>('open');
  const load = useCallback((signal: AbortSignal) => api.reports(filter, signal), [api, filter]);
  const reports = useResource(load, POLL_MS);
  const list = reports.data?.reports ?? [];

  return (
    <>
      <SectionHead title="Reports" sub={reports.status === 'ready' ? `${list.length} ${filter === 'all' ? 'in all' : filter}` : undefined}>
        <nav className="ranges" aria-label="Which reports">
          {FILTERS.map((f) => (
            <button
              key={f.key}
              className={`seg ${f.key === filter ? 'on' : ''}`}
              data-testid={`reports-${f.key}`}
              aria-pressed={f.key === filter}
              onClick={() => setFilter(f.key)}
            >
              {f.label}
            </button>
          ))}
        </nav>
      </SectionHead>
      <StaleNote res={reports} />
      <div className={`split ${openId ? 'has-detail' : ''}`}>
        <section className="card queue" aria-label="Reports queue">
          <Loadable
            res={reports}
            loading="Loading reports…"
            failed="Could not load reports"
            empty={
              list.length === 0
                ? filter === 'open'
                  ? { text: 'No open reports', detail: 'Reports people file during calls land here with their evidence.' }
                  : { text: 'No reports here' }
                : null
            }
          >
            {() => (
              <ul className="report-list">
                {list.map((r) => (
                  <ReportRow key={r.id} report={r} selected={r.id === openId} onOpen={() => onOpen(r.id)} />
                ))}
              </ul>
            )}
          </Loadable>
        </section>
        {openId ? (
          <ReportView
            key={openId}
            id={openId}
            onClose={() => onOpen(null)}
            onBan={onBan}
            onResolved={() => {
              reports.reload();
              onChanged();
            }}
          />
        ) : (
          <section className="card detail-placeholder" aria-hidden="true">
            <EmptyState
              text="Open a report to review it"
              detail="You’ll see the snapshot, the chat, the call and the reported person’s history, and can dismiss, warn or ban."
            />
          </section>
        )}
      </div>
    </>
  );
}

/** Screening flags (a classifier's, not a person's) and age estimates, beside what the types name. */
interface ScreeningExtras {
  screenScores?: Record<string, number> | null;
  ages?: { reporter: AgeFact | null; reported: AgeFact | null };
  flaggedBy?: number | null;
}
interface AgeFact {
  estimate: number | null;
  status: string | null;
}
const SCREENING = 'screening';
/** The reports table's reason for a classifier's flag: not one a person picks, so not in ReportReason. */
const isFlag = (reason: string) => reason === SCREENING;
const reasonText = (reason: string) => (isFlag(reason) ? 'Screening flag' : reportReasonLabel(reason));
const ageText = (a: AgeFact | null | undefined) =>
  a ? `${a.estimate === null ? 'no estimate' : `about ${a.estimate}`}${a.status ? ` · ${a.status}` : ''}` : null;

function ReportRow({ report: r, selected, onOpen }: { report: ReportSummary; selected: boolean; onOpen: () => void }) {
  const suspicious = suspiciousReporter(r.reporter);
  const extra = r as ReportSummary & ScreeningExtras;
  const reportedAge = ageText(extra.ages?.reported);
  return (
    <li
      data-testid="report-row"
      data-report-id={r.id}
      data-status={r.status}
      data-reason={r.reason}
      className={selected ? 'selected' : undefined}
    >
      <button className="report-item" onClick={onOpen} aria-current={selected ? 'true' : undefined}>
        <span className="report-item-head">
          <strong>{reasonText(r.reason)}</strong>
          {isFlag(r.reason) && extra.screenScores && (
            <span className="tag bad" title="The classifier's explicit score (Porn + Hentai) for the flagged frame">
              {Math.round(((extra.screenScores.Porn ?? 0) + (extra.screenScores.Hentai ?? 0)) * 100)}% explicit
            </span>
          )}
          {reportedAge && (
            <span className="tag" title="Age the reported person's liveness check estimated">
              age {reportedAge}
            </span>
          )}
          <span className="muted" title={fullDateTime(r.createdAt)}>
            {ago(r.createdAt)}
          </span>
        </span>
        <span className="report-item-who">
          <span>
            Reported <ShortId id={r.reportedId} />
          </span>
          <span>
            by <ShortId id={r.reporterId} />
          </span>
          <span className={`tag ${STATUS_TONE[r.status]}`}>{STATUS_LABELS[r.status]}</span>
        </span>
        {r.comment && <span className="report-item-comment">“{r.comment}”</span>}
        <span className={`reporter-stats ${suspicious ? 'suspicious' : ''}`} data-testid="reporter-stats">
          Reporter: {statsLine(r.reporter)}
          {suspicious && (
            <span className="tag bad" title={suspicious}>
              Possible false reporting
            </span>
          )}
        </span>
      </button>
    </li>
  );
}

function statsLine(s: ReporterStats): string {
  const share = s.filed > 0 ? Math.round((s.dismissed / s.filed) * 100) : 0;
  return `${s.filed} filed · ${s.dismissed} dismissed (${share}%) · ${s.lastWeek} in the last week`;
}

const BAN_LENGTHS: Array<{ value: string; label: string }> = [
  { value: '1', label: '1 day' },
  { value: '3', label: '3 days' },
  { value: '7', label: '7 days' },
  { value: '30', label: '30 days' },
  { value: '365', label: '1 year' },
  { value: '', label: 'Permanently' },
];

function ReportView({
  id,
  onClose,
  onResolved,
  onBan,
}: {
  id: string;
  onClose: () => void;
  onResolved: () => void;
  onBan: (userId: string, reason?: string) => void;
}) {
  const { api } = useSession();
  const load = useCallback((signal: AbortSignal) => api.report(id, signal), [api, id]);
  const report = useResource(load);
  const action = useAction();
  const [banDays, setBanDays] = useState('7');
  const [done, setDone] = useState<string | null>(null);

  const resolve = async (kind: 'dismiss' | 'warn' | 'ban') => {
    const days = kind === 'ban' && banDays ? Number(banDays) : undefined;
    const ok = await action.run(kind, () => api.resolveReport(id, kind, days));
    if (!ok) return;
    setDone(
      kind === 'dismiss'
        ? 'Dismissed. Nothing happens to the reported person.'
        : kind === 'warn'
          ? 'Warned. They see the warning now if they are online, and it counts as a strike.'
          : `Banned ${days ? `for ${days === 1 ? '1 day' : `${days} days`}` : 'permanently'}. If they were online they were disconnected and told why.`,
    );
    report.reload();
    onResolved();
  };

  return (
    <section className="card report-detail" aria-label="Report" data-testid="report-detail" data-report-id={id}>
      <header className="detail-head">
        <div>
          <h2>{report.data ? reasonText(report.data.reason) : 'Report'}</h2>
          <code className="call-id">{id}</code>
        </div>
        <button className="btn small" onClick={onClose} data-testid="report-close">
          <span className="narrow-only">← Queue</span>
          <span className="wide-only">Close</span>
        </button>
      </header>
      <Loadable res={report} loading="Loading the report…" failed="Could not load this report">
        {(data) => (
          <>
            <div className="detail-summary">
              <span className={`tag ${STATUS_TONE[data.status]}`}>{STATUS_LABELS[data.status]}</span>
              <span className="muted">
                Filed {fullDateTime(data.createdAt)}
                {data.resolvedAt !== null && ` · resolved ${fullDateTime(data.resolvedAt)}`}
              </span>
            </div>

            {done && (
              <p className="callout ok" role="status" data-testid="resolve-result">
                {done}
              </p>
            )}
            {action.error && (
              <p className="callout bad" role="alert">
                {action.error}
              </p>
            )}
            {data.status === 'open' && (
              <div className="resolve" role="group" aria-label="Resolve this report">
                <button
                  className="btn"
                  data-testid="resolve-dismiss"
                  onClick={() => void resolve('dismiss')}
                  disabled={action.busy !== null}
                  title="No rule was broken"
                >
                  {action.busy === 'dismiss' ? 'Dismissing…' : 'Dismiss'}
                </button>
                <button
                  className="btn warn"
                  data-testid="resolve-warn"
                  onClick={() => void resolve('warn')}
                  disabled={action.busy !== null}
                  title="Send the reported person a warning (a strike)"
                >
                  {action.busy === 'warn' ? 'Warning…' : 'Warn'}
                </button>
                <span className="ban-group">
                  <label className="sr-only" htmlFor="ban-days">
                    Ban length
                  </label>
                  <select
                    id="ban-days"
                    data-testid="ban-days"
                    value={banDays}
                    onChange={(e) => setBanDays(e.target.value)}
                    disabled={action.busy !== null}
                  >
                    {BAN_LENGTHS.map((b) => (
                      <option key={b.value} value={b.value}>
                        {b.label}
                      </option>
                    ))}
                  </select>
                  <button
                    className="btn danger"
                    data-testid="resolve-ban"
                    onClick={() => void resolve('ban')}
                    disabled={action.busy !== null}
                    title="Ban the reported person (account and device)"
                  >
                    {action.busy === 'ban' ? 'Banning…' : 'Ban'}
                  </button>
                </span>
              </div>
            )}

            <ReportEvidence report={data} />
            <ReportFacts report={data} onBan={onBan} />
          </>
        )}
      </Loadable>
    </section>
  );
}

function ReportEvidence({ report }: { report: ReportDetail }) {
  const [revealed, setRevealed] = useState(false);
  return (
    <>
      {report.comment && (
        <section className="detail-section" aria-label="Reporter’s comment">
          <h3>Reporter’s comment</h3>
          <blockquote className="comment">{report.comment}</blockquote>
        </section>
      )}
      <div className="evidence">
        {(report as ReportDetail & ScreeningExtras).screenScores && (
          <ScreenScores
            scores={(report as ReportDetail & ScreeningExtras).screenScores!}
            flaggedBy={(report as ReportDetail & ScreeningExtras).flaggedBy ?? null}
          />
        )}
        <section className="detail-section" aria-label="Snapshot">
          <h3>{isFlag(report.reason) ? 'The flagged frame' : 'Snapshot of the reported person'}</h3>
          {report.frame ? (
            <figure className={`frame ${revealed ? 'revealed' : ''}`}>
              <div className="frame-box">
                <img src={report.frame} alt="The reported person’s video at the moment of the report" data-testid="evidence-frame" />
                {!revealed && (
                  <button className="btn small reveal" onClick={() => setRevealed(true)} data-testid="reveal-frame">
                    Show snapshot
                  </button>
                )}
              </div>
              <figcaption className="muted">
                {isFlag(report.reason)
                  ? 'The one frame the viewer’s classifier flagged; no other frame leaves a browser. Blurred until you choose to look.'
                  : 'Taken by the reporter’s browser when they reported. Blurred until you choose to look.'}
              </figcaption>
            </figure>
          ) : (
            <p className="muted no-evidence">No snapshot: the reporter’s browser had no picture to send, or the upload failed.</p>
          )}
        </section>
        <section className="detail-section" aria-label="Chat transcript">
          <h3>Chat transcript</h3>
          {report.transcript && report.transcript.length > 0 ? (
            <ol className="transcript" data-testid="evidence-transcript">
              {report.transcript.map((l, i) => (
                <li key={i} className={`line ${l.from}`}>
                  <span className="line-who">{l.from === 'reporter' ? 'Reporter' : 'Reported'}</span>
                  <time className="line-at" dateTime={new Date(l.at).toISOString()}>
                    {new Date(l.at).toLocaleTimeString('en-GB')}
                  </time>
                  <span className="line-text">{l.text}</span>
                </li>
              ))}
            </ol>
          ) : (
            <p className="muted no-evidence" data-testid="evidence-transcript">
              {report.transcript === null
                ? 'No transcript (deleted after the retention period, or none was kept).'
                : 'Nobody wrote in the chat during this call.'}
            </p>
          )}
        </section>
      </div>
    </>
  );
}

function ReportFacts({ report, onBan }: { report: ReportDetail; onBan: (userId: string, reason?: string) => void }) {
  const call = report.call;
  const suspicious = suspiciousReporter(report.reporter);
  const others = report.historyOfReported.filter((h) => h.id !== report.id);
  return (
    <>
      <section className="detail-section" aria-label="Call">
        <h3>Call</h3>
        <dl className="facts">
          <Fact k="Call" v={<ShortId id={report.callId} />} />
          <Fact k="Matched" v={call ? fullDateTime(call.matched_at) : '—'} />
          <Fact k="Connected" v={call?.connected_at ? fullDateTime(call.connected_at) : 'Never'} />
          <Fact k="Length" v={call?.connected_at && call.ended_at ? duration(call.ended_at - call.connected_at) : '—'} />
          <Fact k="Ended" v={call?.end_reason ? reasonLabel(call.end_reason as EndReason) : '—'} />
        </dl>
      </section>
      <section className="detail-section" aria-label="People">
        <h3>People</h3>
        <dl className="facts">
          <Fact
            k="Reported person"
            v={
              <span className="fact-row">
                <code className="mono-id">{report.reportedId}</code>
                <button className="link small-link" onClick={() => onBan(report.reportedId, `Report upheld: ${report.reason}`)}>
                  Ban…
                </button>
              </span>
            }
          />
          <Fact k="Verification" v={<VerificationFact userId={report.reportedId} />} />
          <Fact
            k="Age estimate"
            v={
              <span data-testid="reported-age">
                {ageText((report as ReportDetail & ScreeningExtras).ages?.reported) ?? 'No age check (age assurance off, or not taken)'}
              </span>
            }
          />
          <Fact
            k="Reporter"
            v={
              <span className="fact-row">
                <code className="mono-id">{report.reporterId}</code>
              </span>
            }
          />
          <Fact
            k="Reporter’s record"
            className="record"
            tone={suspicious ? 'bad' : undefined}
            v={
              report.reporter ? (
                <>
                  {statsLine(report.reporter)}
                  {suspicious && <span className="fact-warn">Possible false reporting: {suspicious}</span>}
                </>
              ) : (
                '—'
              )
            }
          />
        </dl>
      </section>
      <section className="detail-section" aria-label="History of the reported person">
        <h3>Other reports against this person</h3>
        {others.length === 0 ? (
          <p className="muted">None — this is the first.</p>
        ) : (
          <ul className="history" data-testid="reported-history">
            {others.map((h) => (
              <li key={h.id}>
                <span>{reasonText(h.reason)}</span>
                <span className={`tag ${STATUS_TONE[h.status]}`}>{STATUS_LABELS[h.status]}</span>
                <span className="muted">{dateTime(h.created_at)}</span>
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}

/** A screening flag's evidence beside the frame: the model's scores, and how many viewers flagged this person. */
function ScreenScores({ scores, flaggedBy }: { scores: Record<string, number>; flaggedBy: number | null }) {
  const classes = ['Porn', 'Hentai', 'Sexy', 'Neutral', 'Drawing'];
  return (
    <section className="detail-section" aria-label="Classifier scores" data-testid="screen-scores">
      <h3>Classifier scores (nsfwjs MobileNetV2)</h3>
      <dl className="facts">
        {classes.map((c) => (
          <Fact
            key={c}
            k={c}
            v={`${((scores[c] ?? 0) * 100).toFixed(1)}%`}
            tone={(c === 'Porn' || c === 'Hentai') && (scores[c] ?? 0) >= 0.5 ? 'bad' : undefined}
          />
        ))}
        {scores.ms !== undefined && <Fact k="Classified in" v={`${scores.ms} ms on the viewer’s device`} />}
        {flaggedBy !== null && <Fact k="Viewers flagging this person" v={String(flaggedBy)} tone={flaggedBy > 1 ? 'bad' : undefined} />}
      </dl>
      <p className="muted">A classifier’s guess, not a finding: look at the frame before acting. One flag never bans anyone.</p>
    </section>
  );
}

function Fact({ k, v, tone, className }: { k: string; v: ReactNode; tone?: 'bad'; className?: string }) {
  return (
    <div className={`fact ${tone ?? ''} ${className ?? ''}`}>
      <dt>{k}</dt>
      <dd>{v}</dd>
    </div>
  );
}
