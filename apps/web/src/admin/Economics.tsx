import type { ChartConfiguration } from 'chart.js';
import { useCallback, useMemo, useState } from 'react';
import { COLORS, useChart } from './charts.js';
import { Credits } from './Credits.js';
import { dayLabel } from './format.js';
import { money, moneyPerMinute } from './money.js';
import { Card, EmptyState, Loadable, RefreshButton, SectionHead, StaleNote, TableHead, Tile } from './parts.js';
import { useResource, useSession } from './session.js';
import type { EconomicsDay, EconomicsReport } from './types.js';

const DAY = 86_400_000;
const RANGES = { '7d': { days: 7, label: '7 days' }, '30d': { days: 30, label: '30 days' } } as const;
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
  const views: Array<[EconomicsView, string]> = [
    ['report', 'Unit economics'],
    ['credits', 'Adjust & refund'],
  ];
  return (
    <>
      <nav className="subtabs" aria-label="Economics">
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
      <SectionHead title="Economics" sub={`Last ${RANGES[rangeKey].label}, by UTC day`}>
        <div className="ranges" role="group" aria-label="Range">
          {(Object.keys(RANGES) as RangeKey[]).map((k) => (
            <button
              key={k}
              className={`seg ${k === rangeKey ? 'on' : ''}`}
              data-testid={`econ-range-${k}`}
              aria-pressed={k === rangeKey}
              onClick={() => setRangeKey(k)}
            >
              {RANGES[k].label}
            </button>
          ))}
        </div>
        <RefreshButton refreshing={res.refreshing} disabled={res.refreshing || res.status === 'loading'} onClick={() => res.reload()} />
      </SectionHead>
      <StaleNote res={res} />
      <Loadable res={res} loading="Loading the economics…" failed="Could not load the economics">
        {(data) => <Report report={data.report} keys={data.keys} />}
      </Loadable>
    </>
  );
}

const ECON_COLUMNS = ['Minutes', 'Revenue', 'Top-ups', 'Relayed', 'Cost', 'Margin', 'Revenue / min', 'Cost / min', 'Margin / min'];

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
  const days = report.days;
  // One day: its own per-minute figures (the server computes them from unrounded minutes).
  const totals = useMemo(() => (days.length === 1 ? { ...totalsOf(days), perMinute: days[0]!.perMinute } : totalsOf(days)), [days]);
  const m = report.costModel;
  const model = `relay ${moneyPerMinute(m.relayPerGbMicros)} credits / GB · servers ${moneyPerMinute(m.serverPerHourMicros)} credits / hour · payment fees ${m.paymentFeePercent}% of top-ups`;
  return (
    <>
      <section className="tiles" aria-label="Totals">
        <Tile label="Minutes billed" testId="econ-minutes" value={minutes(totals.minutes)} sub="both people of each call" />
        <Tile
          label="Revenue"
          testId="econ-revenue"
          value={<Amount v={money(totals.revenueMicros)} />}
          sub={totals.perMinute ? `${moneyPerMinute(totals.perMinute.revenueMicros)} credits / min` : 'no billed minutes'}
        />
        <Tile
          label="Top-ups"
          testId="econ-topups"
          value={<Amount v={money(totals.topupMicros)} />}
          sub="bought through the payment provider"
        />
        <Tile
          label="Cost"
          testId="econ-cost"
          value={<Amount v={money(totals.costMicros)} />}
          sub={`relay ${gb(totals.relayGb)} · servers · payment fees`}
        />
        <Tile
          label="Margin per minute"
          testId="econ-margin"
          value={totals.perMinute ? moneyPerMinute(totals.perMinute.marginMicros) : '—'}
          tone={totals.perMinute ? (totals.perMinute.marginMicros >= 0 ? 'ok' : 'bad') : undefined}
          sub={`credits per minute billed · ${money(totals.marginMicros)} credits in all`}
        />
      </section>
      {days.length === 0 ? (
        <div className="card">
          <EmptyState
            text="No billed minutes or top-ups in this range yet"
            detail="Each day with calls or payments appears here with its revenue, cost and margin. Try the longer range."
          />
        </div>
      ) : (
        <>
          <MarginChart days={days} keys={keys} />
          <Card title="Per day" hint="amounts in credits; server cost counts each listed day in full" className="wide">
            <div className="table-wrap">
              <table className="table econ" data-testid="economics-table">
                <TableHead columns={['Day', ...ECON_COLUMNS.map((label) => ({ label, num: true }))]} />
                <tbody>
                  {[...days].reverse().map((d) => (
                    <Row key={d.day} label={dayLabel(d.day)} d={d} testId="economics-row" />
                  ))}
                </tbody>
                {days.length > 1 && (
                  <tfoot>
                    <Row label="Total" d={{ ...totals, day: 'total' }} />
                  </tfoot>
                )}
              </table>
            </div>
          </Card>
        </>
      )}
      <p className="fine muted econ-model">
        Cost model: {model}. Set with <code>RELAY_COST_PER_GB</code>, <code>SERVER_COST_PER_HOUR</code> and <code>PAYMENT_FEE_PERCENT</code>
        .
      </p>
    </>
  );
}

function Row({ label, d, testId }: { label: string; d: EconomicsDay; testId?: string }) {
  const tone = (v: number) => (v < 0 ? 'bad' : '');
  return (
    <tr data-testid={testId} data-day={d.day}>
      <th scope="row">{label}</th>
      <td className="num">{minutes(d.minutes)}</td>
      <td className="num">{money(d.revenueMicros)}</td>
      <td className="num">{money(d.topupMicros)}</td>
      <td className="num">{gb(d.relayGb)}</td>
      <td className="num">{money(d.costMicros)}</td>
      <td className={`num ${tone(d.marginMicros)}`}>{money(d.marginMicros)}</td>
      <td className="num">{d.perMinute ? moneyPerMinute(d.perMinute.revenueMicros) : '—'}</td>
      <td className="num">{d.perMinute ? moneyPerMinute(d.perMinute.costMicros) : '—'}</td>
      <td className={`num ${d.perMinute ? tone(d.perMinute.marginMicros) : ''}`}>
        {d.perMinute ? moneyPerMinute(d.perMinute.marginMicros) : '—'}
      </td>
    </tr>
  );
}

/** Margin per minute, one bar a day (every day of the range, so quiet days show as gaps). */
function MarginChart({ days, keys }: { days: EconomicsDay[]; keys: string[] }) {
  const config = useMemo<ChartConfiguration<'bar'>>(() => {
    const byDay = new Map(days.map((d) => [d.day, d]));
    const points = keys.map((k) => byDay.get(k) ?? null);
    const value = (d: EconomicsDay | null) => (d?.perMinute ? d.perMinute.marginMicros / 1_000_000 : null);
    return {
      type: 'bar',
      data: {
        labels: keys.map((k) => dayLabel(k)),
        datasets: [
          {
            label: 'Margin per minute',
            data: points.map(value),
            backgroundColor: points.map((d) => ((value(d) ?? 0) < 0 ? COLORS.accent : COLORS.ok)),
            borderRadius: 3,
            maxBarThickness: 36,
            minBarLength: 3,
          },
        ],
      },
      options: {
        scales: {
          x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 12 } },
          y: {
            ticks: { callback: (v) => `${Number(v).toLocaleString('en', { maximumFractionDigits: 4 })}` },
            title: { display: true, text: 'credits / min' },
          },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: (ctx) => {
                const d = points[ctx.dataIndex];
                if (!d?.perMinute) return ' no billed minutes';
                return [
                  ` margin ${moneyPerMinute(d.perMinute.marginMicros)} credits / min`,
                  ` revenue ${moneyPerMinute(d.perMinute.revenueMicros)} credits / min`,
                  ` cost ${moneyPerMinute(d.perMinute.costMicros)} credits / min`,
                  ` ${minutes(d.minutes)} min billed`,
                ];
              },
            },
          },
        },
      },
    };
  }, [days, keys]);
  const ref = useChart(config);
  const empty = days.every((d) => d.perMinute === null) ? 'No billed minutes in this range yet: margin per minute needs minutes' : null;
  return (
    <Card title="Margin per minute" hint="(revenue − cost) ÷ minutes billed, per day" empty={empty} className="wide">
      <div className="chart">
        <canvas ref={ref} data-testid="chart-economics" role="img" aria-label="Margin per minute by day" />
      </div>
    </Card>
  );
}

function Amount({ v, unit = 'credits' }: { v: string; unit?: string }) {
  return (
    <>
      {v}
      <small className="unit">{unit}</small>
    </>
  );
}

function minutes(v: number): string {
  return v.toLocaleString('en', { maximumFractionDigits: 2 });
}

function gb(v: number): string {
  return `${v.toLocaleString('en', { maximumFractionDigits: 3 })} GB`;
}
