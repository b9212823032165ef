import type { ChartConfiguration } from 'chart.js';
import { useCallback, useMemo, useState } from 'react';
import { useConsoleText, type ConsoleMessageId } from '../i18n/index.js';
import { COLORS, useChart } from './charts.js';
import { Credits } from './Credits.js';
import { dayLabel, isRtl, num, type T } from './format.js';
import { money, moneyPerMinute } from './money.js';
import { Card, EmptyState, Loadable, RefreshButton, SectionHead, StaleNote, TableHead, TableScroll, Tile } from './parts.js';
import { useResource, useSession } from './session.js';
import type { EconomicsDay, EconomicsReport } from './types.js';

const DAY = 86_400_000;
const RANGES = {
  '7d': { days: 7, label: 'console.range.7d', long: 'console.econ.sub7d' },
  '30d': { days: 30, label: 'console.range.30d', long: 'console.econ.sub30d' },
} as const satisfies Record<string, { days: number; label: ConsoleMessageId; long: ConsoleMessageId }>;
type RangeKey = keyof typeof RANGES;

/** Whole UTC days, today included (the server groups by UTC day): [from, to) and each day's key. */
function daysOf(n: number, now = Date.now()): { from: number; to: number; keys: string[] } {
  const tomorrow = Math.floor(now / DAY) * DAY + DAY;
  const from = tomorrow - n * DAY;
  const keys = Array.from({ length: n }, (_, i) => new Date(from + i * DAY).toISOString().slice(0, 10));
  return { from, to: tomorrow, keys };
}

export type EconomicsView = 'report' | 'credits';

/**
 * Admins: the money of the service. The report (minutes, revenue, cost and margin per day) and the
 * credit tools (adjust a balance, refund a call), as two views of one section.
 */
export function Economics({ view, onView }: { view: EconomicsView; onView: (v: EconomicsView) => void }) {
  const t = useConsoleText();
  const views: Array<[EconomicsView, string]> = [
    ['report', t('console.econ.view.report')],
    ['credits', t('console.credits.title')],
  ];
  return (
    <>
      <nav className="subtabs" aria-label={t('console.nav.economics')}>
        {views.map(([k, label]) => (
          <a
            key={k}
            href={k === 'report' ? '#economics' : '#economics/credits'}
            className={`subtab ${view === k ? 'on' : ''}`}
            aria-current={view === k ? 'page' : undefined}
            data-testid={`econ-view-${k}`}
            onClick={(e) => {
              e.preventDefault();
              onView(k);
            }}
          >
            {label}
          </a>
        ))}
      </nav>
      {view === 'report' ? <EconomicsReportView /> : <Credits />}
    </>
  );
}

function EconomicsReportView() {
  const { api } = useSession();
  const t = useConsoleText();
  const [rangeKey, setRangeKey] = useState<RangeKey>('7d');
  const load = useCallback(
    (signal: AbortSignal) => {
      const r = daysOf(RANGES[rangeKey].days);
      return api.economics(r, signal).then((report) => ({ report, keys: r.keys }));
    },
    [api, rangeKey],
  );
  const res = useResource(load, 60_000);

  return (
    <>
      <SectionHead title={t('console.nav.economics')} sub={t(RANGES[rangeKey].long)}>
        <div className="ranges" role="group" aria-label={t('console.insights.timeRange')}>
          {(Object.keys(RANGES) as RangeKey[]).map((k) => (
            <button
              key={k}
              className={`seg ${k === rangeKey ? 'on' : ''}`}
              data-testid={`econ-range-${k}`}
              aria-pressed={k === rangeKey}
              onClick={() => setRangeKey(k)}
            >
              {t(RANGES[k].label)}
            </button>
          ))}
        </div>
        <RefreshButton refreshing={res.refreshing} disabled={res.refreshing || res.status === 'loading'} onClick={() => res.reload()} />
      </SectionHead>
      <StaleNote res={res} />
      <Loadable res={res} loading={t('console.econ.loading')} failed={t('console.econ.failed')}>
        {(data) => <Report report={data.report} keys={data.keys} />}
      </Loadable>
    </>
  );
}

const ECON_COLUMNS: ConsoleMessageId[] = [
  'console.econ.col.minutes',
  'console.econ.col.revenue',
  'console.econ.col.topups',
  'console.econ.col.relayed',
  'console.econ.col.cost',
  'console.econ.col.margin',
  'console.econ.col.revenuePerMin',
  'console.econ.col.costPerMin',
  'console.econ.col.marginPerMin',
];

function totalsOf(days: EconomicsDay[]) {
  const t = days.reduce(
    (a, d) => ({
      minutes: a.minutes + d.minutes,
      revenueMicros: a.revenueMicros + d.revenueMicros,
      topupMicros: a.topupMicros + d.topupMicros,
      relayGb: a.relayGb + d.relayGb,
      costMicros: a.costMicros + d.costMicros,
      marginMicros: a.marginMicros + d.marginMicros,
    }),
    { minutes: 0, revenueMicros: 0, topupMicros: 0, relayGb: 0, costMicros: 0, marginMicros: 0 },
  );
  const per = (v: number) => (t.minutes > 0 ? Math.round(v / t.minutes) : null);
  return {
    ...t,
    perMinute:
      t.minutes > 0 ? { revenueMicros: per(t.revenueMicros)!, costMicros: per(t.costMicros)!, marginMicros: per(t.marginMicros)! } : null,
  };
}

function Report({ report, keys }: { report: EconomicsReport; keys: string[] }) {
  const t = useConsoleText();
  const days = report.days;
  // One day: its own per-minute figures (the server computes them from unrounded minutes).
  const totals = useMemo(() => (days.length === 1 ? { ...totalsOf(days), perMinute: days[0]!.perMinute } : totalsOf(days)), [days]);
  const m = report.costModel;
  const perMin = (micros: number) => t('console.econ.perMin', { amount: moneyPerMinute(t, micros) });
  return (
    <>
      <section className="tiles" aria-label={t('console.econ.totals')}>
        <Tile
          label={t('console.econ.minutesBilled')}
          testId="econ-minutes"
          value={minutes(t, totals.minutes)}
          sub={t('console.econ.minutesSub')}
        />
        <Tile
          label={t('console.econ.col.revenue')}
          testId="econ-revenue"
          value={<Amount v={money(t, totals.revenueMicros)} />}
          sub={totals.perMinute ? perMin(totals.perMinute.revenueMicros) : t('console.econ.noMinutes')}
        />
        <Tile
          label={t('console.econ.col.topups')}
          testId="econ-topups"
          value={<Amount v={money(t, totals.topupMicros)} />}
          sub={t('console.econ.topupsSub')}
        />
        <Tile
          label={t('console.econ.col.cost')}
          testId="econ-cost"
          value={<Amount v={money(t, totals.costMicros)} />}
          sub={t('console.econ.costSub', { relay: gb(t, totals.relayGb) })}
        />
        <Tile
          label={t('console.econ.marginPerMinute')}
          testId="econ-margin"
          value={totals.perMinute ? moneyPerMinute(t, totals.perMinute.marginMicros) : '—'}
          tone={totals.perMinute ? (totals.perMinute.marginMicros >= 0 ? 'ok' : 'bad') : undefined}
          sub={t('console.econ.marginSub', { amount: money(t, totals.marginMicros) })}
        />
      </section>
      {days.length === 0 ? (
        <div className="card">
          <EmptyState text={t('console.econ.empty')} detail={t('console.econ.emptyDetail')} />
        </div>
      ) : (
        <>
          <MarginChart days={days} keys={keys} />
          <Card title={t('console.econ.perDay')} hint={t('console.econ.perDayHint')} className="wide">
            <TableScroll label={t('console.econ.perDay')}>
              <table className="table econ" data-testid="economics-table">
                <TableHead columns={[t('console.funnel.day'), ...ECON_COLUMNS.map((id) => ({ label: t(id), num: true }))]} />
                <tbody>
                  {[...days].reverse().map((d) => (
                    <Row key={d.day} label={dayLabel(t, d.day)} d={d} testId="economics-row" />
                  ))}
                </tbody>
                {days.length > 1 && (
                  <tfoot>
                    <Row label={t('console.econ.total')} d={{ ...totals, day: 'total' }} />
                  </tfoot>
                )}
              </table>
            </TableScroll>
          </Card>
        </>
      )}
      <p className="fine muted econ-model">
        {t.rich('console.econ.model', {
          relay: moneyPerMinute(t, m.relayPerGbMicros),
          server: moneyPerMinute(t, m.serverPerHourMicros),
          fee: t.intl.formatNumber(m.paymentFeePercent / 100, { style: 'percent', maximumFractionDigits: 2 }),
          code: (chunks) => <code>{chunks}</code>,
        })}
      </p>
    </>
  );
}

function Row({ label, d, testId }: { label: string; d: EconomicsDay; testId?: string }) {
  const t = useConsoleText();
  const tone = (v: number) => (v < 0 ? 'bad' : '');
  return (
    <tr data-testid={testId} data-day={d.day}>
      <th scope="row">{label}</th>
      <td className="num">{minutes(t, d.minutes)}</td>
      <td className="num">{money(t, d.revenueMicros)}</td>
      <td className="num">{money(t, d.topupMicros)}</td>
      <td className="num">{gb(t, d.relayGb)}</td>
      <td className="num">{money(t, d.costMicros)}</td>
      <td className={`num ${tone(d.marginMicros)}`}>{money(t, d.marginMicros)}</td>
      <td className="num">{d.perMinute ? moneyPerMinute(t, d.perMinute.revenueMicros) : '—'}</td>
      <td className="num">{d.perMinute ? moneyPerMinute(t, d.perMinute.costMicros) : '—'}</td>
      <td className={`num ${d.perMinute ? tone(d.perMinute.marginMicros) : ''}`}>
        {d.perMinute ? moneyPerMinute(t, d.perMinute.marginMicros) : '—'}
      </td>
    </tr>
  );
}

/** Margin per minute, one bar a day (every day of the range, so quiet days show as gaps). */
function MarginChart({ days, keys }: { days: EconomicsDay[]; keys: string[] }) {
  const t = useConsoleText();
  const rtl = isRtl(t);
  const config = useMemo<ChartConfiguration<'bar'>>(() => {
    const byDay = new Map(days.map((d) => [d.day, d]));
    const points = keys.map((k) => byDay.get(k) ?? null);
    const value = (d: EconomicsDay | null) => (d?.perMinute ? d.perMinute.marginMicros / 1_000_000 : null);
    return {
      type: 'bar',
      data: {
        labels: keys.map((k) => dayLabel(t, k)),
        datasets: [
          {
            label: t('console.econ.marginPerMinute'),
            data: points.map(value),
            backgroundColor: points.map((d) => ((value(d) ?? 0) < 0 ? COLORS.accent : COLORS.ok)),
            borderRadius: 3,
            maxBarThickness: 36,
            minBarLength: 3,
          },
        ],
      },
      options: {
        // Tick numbers in the console's language, not the browser's.
        locale: t.intl.locale,
        scales: {
          x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 12 }, reverse: rtl },
          y: {
            position: rtl ? 'right' : 'left',
            ticks: { callback: (v) => num(t, Number(v), { max: 4 }) },
            title: { display: true, text: t('console.econ.axis') },
          },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            rtl,
            callbacks: {
              label: (ctx) => {
                const d = points[ctx.dataIndex];
                if (!d?.perMinute) return ` ${t('console.econ.noMinutes')}`;
                return [
                  ` ${t('console.econ.tip.margin', { amount: moneyPerMinute(t, d.perMinute.marginMicros) })}`,
                  ` ${t('console.econ.tip.revenue', { amount: moneyPerMinute(t, d.perMinute.revenueMicros) })}`,
                  ` ${t('console.econ.tip.cost', { amount: moneyPerMinute(t, d.perMinute.costMicros) })}`,
                  ` ${t('console.econ.tip.minutes', { n: minutes(t, d.minutes) })}`,
                ];
              },
            },
          },
        },
      },
    };
  }, [days, keys, t, rtl]);
  const ref = useChart(config);
  const empty = days.every((d) => d.perMinute === null) ? t('console.econ.chartEmpty') : null;
  return (
    <Card title={t('console.econ.marginPerMinute')} hint={t('console.econ.chartHint')} empty={empty} className="wide">
      <div className="chart">
        <canvas ref={ref} data-testid="chart-economics" role="img" aria-label={t('console.econ.chartLabel')} />
      </div>
    </Card>
  );
}

function Amount({ v }: { v: string }) {
  const t = useConsoleText();
  return (
    <>
      {v}
      <small className="unit">{t('console.econ.unit')}</small>
    </>
  );
}

function minutes(t: T, v: number): string {
  return num(t, v, { max: 2 });
}

function gb(t: T, v: number): string {
  return `${num(t, v, { max: 3 })} GB`;
}
