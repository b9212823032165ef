import { useCallback, useRef, useState, type ReactNode } from 'react';
import { useConsoleText, type ConsoleMessageId } from '../i18n/index.js';
import {
  ago,
  dateTime,
  duration,
  fullDateTime,
  pct,
  reasonLabel,
  reportReasonLabel,
  suspiciousReporter,
  timeOfDay,
  type T,
} from './format.js';
import { EmptyState, Loadable, SectionHead, ShortId, StaleNote } from './parts.js';
import { useAction, useResource, useSession } from './session.js';
import { VerificationFact } from './Verification.js';
import type { ReportDetail, ReportStatus, ReportSummary, ReporterStats } from './types.js';
import type { EndReason } from '@duet/protocol';

type Filter = 'open' | 'resolved' | 'all';
const FILTERS: Array<{ key: Filter; label: ConsoleMessageId }> = [
  { key: 'open', label: 'console.reports.filter.open' },
  { key: 'resolved', label: 'console.reports.filter.resolved' },
  { key: 'all', label: 'console.reports.filter.all' },
];
const POLL_MS = 10_000;

const STATUS_LABELS: Record<ReportStatus, ConsoleMessageId> = {
  open: 'console.reports.status.open',
  dismissed: 'console.reports.status.dismissed',
  warned: 'console.reports.status.warned',
  banned: 'console.reports.status.banned',
};
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
  const t = useConsoleText();
  const [filter, setFilter] = useState<Filter>('open');
  const load = useCallback((signal: AbortSignal) => api.reports(filter, signal), [api, filter]);
  const reports = useResource(load, POLL_MS);
  const list = reports.data?.reports ?? [];

  return (
    <>
      <SectionHead
        title={t('console.nav.reports')}
        sub={reports.status === 'ready' ? t('console.reports.count', { n: list.length, filter }) : undefined}
      >
        <nav className="ranges" aria-label={t('console.reports.which')}>
          {FILTERS.map((f) => (
            <button
              key={f.key}
              className={`seg ${f.key === filter ? 'on' : ''}`}
              data-testid={`reports-${f.key}`}
              aria-pressed={f.key === filter}
              onClick={() => setFilter(f.key)}
            >
              {t(f.label)}
            </button>
          ))}
        </nav>
      </SectionHead>
      <StaleNote res={reports} />
      <div className={`split ${openId ? 'has-detail' : ''}`}>
        <section className="card queue" aria-label={t('console.reports.queue')}>
          <Loadable
            res={reports}
            loading={t('console.reports.loading')}
            failed={t('console.reports.failed')}
            empty={
              list.length === 0
                ? filter === 'open'
                  ? { text: t('console.reports.emptyOpen'), detail: t('console.reports.emptyOpenDetail') }
                  : { text: t('console.reports.empty') }
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
            <EmptyState text={t('console.reports.placeholder')} detail={t('console.reports.placeholderDetail')} />
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
const reasonText = (t: T, reason: string) => (isFlag(reason) ? t('console.reports.screeningFlag') : reportReasonLabel(t, reason));
const ageText = (t: T, a: AgeFact | null | undefined) =>
  a
    ? [a.estimate === null ? t('console.reports.age.none') : t('console.reports.age.about', { n: a.estimate }), a.status]
        .filter(Boolean)
        .join(' · ')
    : null;

function ReportRow({ report: r, selected, onOpen }: { report: ReportSummary; selected: boolean; onOpen: () => void }) {
  const t = useConsoleText();
  const suspicious = suspiciousReporter(t, r.reporter);
  const extra = r as ReportSummary & ScreeningExtras;
  const reportedAge = ageText(t, extra.ages?.reported);
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
          <strong>{reasonText(t, r.reason)}</strong>
          {isFlag(r.reason) && extra.screenScores && (
            <span className="tag bad" title={t('console.reports.explicitHint')}>
              {t('console.reports.explicit', {
                share: pct(t, (extra.screenScores.Porn ?? 0) + (extra.screenScores.Hentai ?? 0), 0),
              })}
            </span>
          )}
          {reportedAge && (
            <span className="tag" title={t('console.reports.ageHint')}>
              {t('console.reports.ageTag', { age: reportedAge })}
            </span>
          )}
          <span className="muted" title={fullDateTime(t, r.createdAt)}>
            {ago(t, r.createdAt)}
          </span>
        </span>
        <span className="report-item-who">
          <span>
            {t('console.reports.reported')} <ShortId id={r.reportedId} />
          </span>
          <span>
            {t('console.reports.by')} <ShortId id={r.reporterId} />
          </span>
          <span className={`tag ${STATUS_TONE[r.status]}`}>{t(STATUS_LABELS[r.status])}</span>
        </span>
        {r.comment && <span className="report-item-comment">“{r.comment}”</span>}
        <span className={`reporter-stats ${suspicious ? 'suspicious' : ''}`} data-testid="reporter-stats">
          {t('console.reports.reporterLine', { stats: statsLine(t, r.reporter) })}
          {suspicious && (
            <span className="tag bad" title={suspicious}>
              {t('console.reports.falseReporting')}
            </span>
          )}
        </span>
      </button>
    </li>
  );
}

function statsLine(t: T, s: ReporterStats): string {
  return t('console.reports.stats', {
    filed: s.filed,
    dismissed: s.dismissed,
    share: pct(t, s.filed > 0 ? s.dismissed / s.filed : 0, 0),
    lastWeek: s.lastWeek,
  });
}

/** Ban lengths in days; '' is permanent. */
const BAN_LENGTHS = ['1', '3', '7', '30', '365', ''] as const;

function banLength(t: T, days: string): string {
  if (days === '') return t('console.ban.permanently');
  if (days === '365') return t('console.ban.oneYear');
  return t('console.ban.days', { n: Number(days) });
}

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
  const t = useConsoleText();
  const load = useCallback((signal: AbortSignal) => api.report(id, signal), [api, id]);
  const report = useResource(load);
  const action = useAction();
  const [banDays, setBanDays] = useState('7');
  const [done, setDone] = useState<string | null>(null);
  // The report opens with focus on its title, so a keyboard or screen reader lands in it.
  const focusTitle = useRef((el: HTMLHeadingElement | null) => el?.focus({ preventScroll: true })).current;

  const resolve = async (kind: 'dismiss' | 'warn' | 'ban') => {
    const days = kind === 'ban' && banDays ? Number(banDays) : undefined;
    const ok = await action.run(kind, () => api.resolveReport(id, kind, days));
    if (!ok) return;
    setDone(
      kind === 'dismiss'
        ? t('console.reports.done.dismiss')
        : kind === 'warn'
          ? t('console.reports.done.warn')
          : days
            ? t('console.reports.done.banDays', { n: days })
            : t('console.reports.done.banForever'),
    );
    report.reload();
    onResolved();
  };

  return (
    <section className="card report-detail" aria-labelledby="report-title" data-testid="report-detail" data-report-id={id}>
      <header className="detail-head">
        <div>
          <h2 id="report-title" tabIndex={-1} ref={focusTitle}>
            {report.data ? reasonText(t, report.data.reason) : t('console.reports.report')}
          </h2>
          <code className="call-id">{id}</code>
        </div>
        {/* One of the two words shows (the other is display: none), and it is the button's name. */}
        <button className="btn small" onClick={onClose} data-testid="report-close" title={t('console.reports.closeLabel')}>
          <span className="narrow-only">{t('console.reports.backToQueue')}</span>
          <span className="wide-only">{t('console.common.close')}</span>
        </button>
      </header>
      <Loadable res={report} loading={t('console.reports.loadingOne')} failed={t('console.reports.failedOne')}>
        {(data) => (
          <>
            <div className="detail-summary">
              <span className={`tag ${STATUS_TONE[data.status]}`}>{t(STATUS_LABELS[data.status])}</span>
              <span className="muted">
                {data.resolvedAt !== null
                  ? t('console.reports.filedResolved', {
                      filed: fullDateTime(t, data.createdAt),
                      resolved: fullDateTime(t, data.resolvedAt),
                    })
                  : t('console.reports.filed', { filed: fullDateTime(t, data.createdAt) })}
              </span>
            </div>

            <div role="status">
              {done && (
                <p className="callout ok" data-testid="resolve-result">
                  {done}
                </p>
              )}
            </div>
            {action.error && (
              <p className="callout bad" role="alert">
                {action.error}
              </p>
            )}
            {data.status === 'open' && (
              <div className="resolve" role="group" aria-label={t('console.reports.resolveLabel')}>
                <button
                  className="btn"
                  data-testid="resolve-dismiss"
                  onClick={() => void resolve('dismiss')}
                  disabled={action.busy !== null}
                  title={t('console.reports.dismissHint')}
                >
                  {action.busy === 'dismiss' ? t('console.reports.dismissing') : t('console.reports.dismiss')}
                </button>
                <button
                  className="btn warn"
                  data-testid="resolve-warn"
                  onClick={() => void resolve('warn')}
                  disabled={action.busy !== null}
                  title={t('console.reports.warnHint')}
                >
                  {action.busy === 'warn' ? t('console.reports.warning') : t('console.reports.warn')}
                </button>
                <span className="ban-group">
                  <label className="sr-only" htmlFor="ban-days">
                    {t('console.reports.banLength')}
                  </label>
                  <select
                    id="ban-days"
                    data-testid="ban-days"
                    value={banDays}
                    onChange={(e) => setBanDays(e.target.value)}
                    disabled={action.busy !== null}
                  >
                    {BAN_LENGTHS.map((days) => (
                      <option key={days} value={days}>
                        {banLength(t, days)}
                      </option>
                    ))}
                  </select>
                  <button
                    className="btn danger"
                    data-testid="resolve-ban"
                    onClick={() => void resolve('ban')}
                    disabled={action.busy !== null}
                    title={t('console.reports.banHint')}
                  >
                    {action.busy === 'ban' ? t('console.common.banning') : t('console.common.ban')}
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
  const t = useConsoleText();
  const [revealed, setRevealed] = useState(false);
  const flag = isFlag(report.reason);
  return (
    <>
      {report.comment && (
        <section className="detail-section" aria-labelledby="report-comment">
          <h3 id="report-comment">{t('console.reports.comment')}</h3>
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
        <section className="detail-section" aria-labelledby="report-snapshot">
          <h3 id="report-snapshot">{flag ? t('console.reports.flaggedFrame') : t('console.reports.snapshot')}</h3>
          {report.frame ? (
            <figure className={`frame ${revealed ? 'revealed' : ''}`}>
              <div className="frame-box">
                <img src={report.frame} alt={t('console.reports.frameAlt')} data-testid="evidence-frame" />
                {!revealed && (
                  <button className="btn small reveal" onClick={() => setRevealed(true)} data-testid="reveal-frame">
                    {t('console.reports.showSnapshot')}
                  </button>
                )}
              </div>
              <figcaption className="muted">{flag ? t('console.reports.flagCaption') : t('console.reports.snapshotCaption')}</figcaption>
            </figure>
          ) : (
            <p className="muted no-evidence">{t('console.reports.noSnapshot')}</p>
          )}
        </section>
        <section className="detail-section" aria-labelledby="report-transcript">
          <h3 id="report-transcript">{t('console.reports.transcript')}</h3>
          {report.transcript && report.transcript.length > 0 ? (
            <ol className="transcript" data-testid="evidence-transcript">
              {report.transcript.map((l, i) => (
                <li key={i} className={`line ${l.from}`}>
                  <span className="line-who">{l.from === 'reporter' ? t('console.reports.reporter') : t('console.reports.reported')}</span>
                  <time className="line-at" dateTime={new Date(l.at).toISOString()}>
                    {timeOfDay(t, l.at)}
                  </time>
                  <span className="line-text">{l.text}</span>
                </li>
              ))}
            </ol>
          ) : (
            <p className="muted no-evidence" data-testid="evidence-transcript">
              {report.transcript === null ? t('console.reports.noTranscript') : t('console.reports.emptyChat')}
            </p>
          )}
        </section>
      </div>
    </>
  );
}

function ReportFacts({ report, onBan }: { report: ReportDetail; onBan: (userId: string, reason?: string) => void }) {
  const t = useConsoleText();
  const call = report.call;
  const suspicious = suspiciousReporter(t, report.reporter);
  const others = report.historyOfReported.filter((h) => h.id !== report.id);
  const reportedAge = ageText(t, (report as ReportDetail & ScreeningExtras).ages?.reported);
  return (
    <>
      <section className="detail-section" aria-labelledby="report-call">
        <h3 id="report-call">{t('console.call.title')}</h3>
        <dl className="facts">
          <Fact k={t('console.call.title')} v={<ShortId id={report.callId} />} />
          <Fact k={t('console.reports.matched')} v={call ? fullDateTime(t, call.matched_at) : '—'} />
          <Fact
            k={t('console.reports.connected')}
            v={call?.connected_at ? fullDateTime(t, call.connected_at) : t('console.reports.never')}
          />
          <Fact k={t('console.worst.length')} v={call?.connected_at && call.ended_at ? duration(call.ended_at - call.connected_at) : '—'} />
          <Fact k={t('console.worst.ended')} v={call?.end_reason ? reasonLabel(t, call.end_reason as EndReason) : '—'} />
        </dl>
      </section>
      <section className="detail-section" aria-labelledby="report-people">
        <h3 id="report-people">{t('console.reports.people')}</h3>
        <dl className="facts">
          <Fact
            k={t('console.reports.reportedPerson')}
            v={
              <span className="fact-row">
                <code className="mono-id">{report.reportedId}</code>
                {/* The ban's reason is shown to the banned person and kept in the audit log: the server's words, in English. */}
                <button
                  className="link small-link"
                  onClick={() => onBan(report.reportedId, `Report upheld: ${report.reason}`)}
                  aria-label={t('console.reports.banReportedLabel')}
                >
                  {t('console.common.banEllipsis')}
                </button>
              </span>
            }
          />
          <Fact k={t('console.reports.verification')} v={<VerificationFact userId={report.reportedId} />} />
          <Fact
            k={t('console.reports.ageEstimate')}
            v={<span data-testid="reported-age">{reportedAge ?? t('console.reports.noAgeCheck')}</span>}
          />
          <Fact
            k={t('console.reports.reporter')}
            v={
              <span className="fact-row">
                <code className="mono-id">{report.reporterId}</code>
              </span>
            }
          />
          <Fact
            k={t('console.reports.reporterRecord')}
            className="record"
            tone={suspicious ? 'bad' : undefined}
            v={
              report.reporter ? (
                <>
                  {statsLine(t, report.reporter)}
                  {suspicious && <span className="fact-warn">{t('console.reports.falseReportingWhy', { why: suspicious })}</span>}
                </>
              ) : (
                '—'
              )
            }
          />
        </dl>
      </section>
      <section className="detail-section" aria-labelledby="report-history">
        <h3 id="report-history">{t('console.reports.history')}</h3>
        {others.length === 0 ? (
          <p className="muted">{t('console.reports.historyNone')}</p>
        ) : (
          <ul className="history" data-testid="reported-history">
            {others.map((h) => (
              <li key={h.id}>
                <span>{reasonText(t, h.reason)}</span>
                <span className={`tag ${STATUS_TONE[h.status]}`}>{t(STATUS_LABELS[h.status])}</span>
                <span className="muted">{dateTime(t, h.created_at)}</span>
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
  const t = useConsoleText();
  // The model's own class names (nsfwjs), as the model says them.
  const classes = ['Porn', 'Hentai', 'Sexy', 'Neutral', 'Drawing'];
  return (
    <section className="detail-section" aria-labelledby="report-scores" data-testid="screen-scores">
      <h3 id="report-scores">{t('console.reports.scores')}</h3>
      <dl className="facts">
        {classes.map((c) => (
          <Fact
            key={c}
            k={c}
            v={pct(t, scores[c] ?? 0)}
            tone={(c === 'Porn' || c === 'Hentai') && (scores[c] ?? 0) >= 0.5 ? 'bad' : undefined}
          />
        ))}
        {scores.ms !== undefined && <Fact k={t('console.reports.classifiedIn')} v={t('console.reports.classifiedMs', { n: scores.ms })} />}
        {flaggedBy !== null && (
          <Fact k={t('console.reports.viewersFlagging')} v={t.intl.formatNumber(flaggedBy)} tone={flaggedBy > 1 ? 'bad' : undefined} />
        )}
      </dl>
      <p className="muted">{t('console.reports.classifierNote')}</p>
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
