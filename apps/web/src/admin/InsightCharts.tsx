import type { EndReason, InsightsResponse } from '@duet/protocol';
import type { ChartConfiguration } from 'chart.js';
import { useMemo } from 'react';
import { useConsoleText } from '../i18n/index.js';
import type { Bucket } from './api.js';
import { alpha, COLORS, useChart } from './charts.js';
import { bucketLabel, isRtl, num, pct, reasonLabel, type T } from './format.js';
import { Card } from './parts.js';

type Series = InsightsResponse['series'];

/** Connection success rate per bucket: connected / (connected + could not connect). */
export function SuccessChart({ series, bucket }: { series: Series; bucket: Bucket }) {
  const t = useConsoleText();
  const rtl = isRtl(t);
  const config = useMemo<ChartConfiguration<'line'>>(
    () => ({
      type: 'line',
      data: {
        labels: series.map((p) => bucketLabel(t, p.t, bucket)),
        datasets: [
          {
            label: t('console.chart.success.series'),
            data: series.map((p) => (p.successRate === null ? null : p.successRate * 100)),
            borderColor: COLORS.ok,
            backgroundColor: COLORS.ok,
            tension: 0.3,
            spanGaps: true,
            // Hours without calls are gaps, so a lone bucket must still show as a visible dot.
            pointRadius: series.length > 40 ? 2 : 4,
            pointHoverRadius: 5,
            pointBackgroundColor: COLORS.ok,
            borderWidth: 2,
          },
        ],
      },
      options: {
        // Tick numbers in the console's language, not the browser's.
        locale: t.intl.locale,
        interaction: { mode: 'index', intersect: false },
        scales: {
          y: { min: 0, max: 100, ticks: { callback: (v) => pct(t, Number(v) / 100, 0), stepSize: 25 }, position: rtl ? 'right' : 'left' },
          x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 12 }, reverse: rtl },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            rtl,
            callbacks: {
              label: (ctx) => {
                const p = series[ctx.dataIndex];
                return p
                  ? ` ${t('console.chart.success.tooltip', { rate: pct(t, p.successRate), connected: p.connected, tried: p.connected + p.iceFailed })}`
                  : '';
              },
            },
          },
        },
      },
    }),
    [series, bucket, t, rtl],
  );
  const ref = useChart(config);
  const empty = series.every((p) => p.successRate === null) ? t('console.chart.success.empty') : null;
  return (
    <Card title={t('console.chart.success.title')} hint={t('console.chart.success.hint')} empty={empty}>
      <div className="chart">
        <canvas ref={ref} data-testid="chart-success" role="img" aria-label={t('console.chart.success.label')} />
      </div>
    </Card>
  );
}

/** Calls per bucket, stacked by outcome, so the bar's height is every call matched. */
export function CallsChart({ series, bucket }: { series: Series; bucket: Bucket }) {
  const t = useConsoleText();
  const rtl = isRtl(t);
  const config = useMemo<ChartConfiguration<'bar'>>(
    () => ({
      type: 'bar',
      data: {
        labels: series.map((p) => bucketLabel(t, p.t, bucket)),
        datasets: [
          {
            label: t('console.chart.calls.connected'),
            data: series.map((p) => p.connected),
            backgroundColor: COLORS.ok,
            borderRadius: 3,
            maxBarThickness: 28,
          },
          {
            label: t('console.chart.calls.failed'),
            data: series.map((p) => p.iceFailed),
            backgroundColor: COLORS.accent,
            borderRadius: 3,
            maxBarThickness: 28,
          },
          {
            label: t('console.chart.calls.other'),
            data: series.map((p) => Math.max(0, p.calls - p.connected - p.iceFailed)),
            backgroundColor: alpha(COLORS.muted, 0.35),
            borderRadius: 3,
            maxBarThickness: 28,
          },
        ],
      },
      options: {
        // Tick numbers in the console's language, not the browser's.
        locale: t.intl.locale,
        interaction: { mode: 'index', intersect: false },
        scales: {
          x: { stacked: true, grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 12 }, reverse: rtl },
          y: { stacked: true, beginAtZero: true, ticks: { precision: 0 }, position: rtl ? 'right' : 'left' },
        },
        plugins: { legend: { position: 'bottom', align: 'start', rtl }, tooltip: { rtl } },
      },
    }),
    [series, bucket, t, rtl],
  );
  const ref = useChart(config);
  return (
    <Card
      title={t('console.chart.calls.title')}
      hint={t('console.chart.calls.hint')}
      empty={series.every((p) => p.calls === 0) ? t('console.chart.noCalls') : null}
    >
      <div className="chart">
        <canvas ref={ref} data-testid="chart-calls" role="img" aria-label={t('console.chart.calls.label')} />
      </div>
    </Card>
  );
}

/** How long connected calls lasted, in the bins the server counts. */
export function DurationsChart({ durations }: { durations: InsightsResponse['durations'] }) {
  const t = useConsoleText();
  const rtl = isRtl(t);
  const config = useMemo<ChartConfiguration<'bar'>>(() => {
    const labels = durations.map((d, i) => binLabel(t, i === 0 ? 0 : (durations[i - 1]?.le ?? 0), d.le));
    const total = durations.reduce((s, d) => s + d.count, 0);
    return {
      type: 'bar',
      data: {
        labels,
        datasets: [
          {
            label: t('console.chart.calls.title'),
            data: durations.map((d) => d.count),
            backgroundColor: COLORS.accent2,
            borderRadius: 4,
            maxBarThickness: 44,
          },
        ],
      },
      options: {
        // Tick numbers in the console's language, not the browser's.
        locale: t.intl.locale,
        // Every bin keeps its label (rotated on a phone): a skipped label would name the wrong bar.
        scales: {
          x: { grid: { display: false }, ticks: { autoSkip: false, maxRotation: 60 }, reverse: rtl },
          y: { beginAtZero: true, ticks: { precision: 0 }, position: rtl ? 'right' : 'left' },
        },
        plugins: {
          legend: { display: false },
          tooltip: { rtl, callbacks: { label: (ctx) => ` ${callsTooltip(t, Number(ctx.raw), total)}` } },
        },
      },
    };
  }, [durations, t, rtl]);
  const ref = useChart(config);
  return (
    <Card
      title={t('console.chart.durations.title')}
      hint={t('console.chart.durations.hint')}
      empty={durations.every((d) => d.count === 0) ? t('console.worst.noConnected') : null}
    >
      <div className="chart">
        <canvas ref={ref} data-testid="chart-durations" role="img" aria-label={t('console.chart.durations.label')} />
      </div>
    </Card>
  );
}

const REASON_TONE: Partial<Record<EndReason, string>> = {
  ice_failed: COLORS.accent,
  connection_lost: COLORS.warn,
  heartbeat_timeout: COLORS.warn,
  server_shutdown: COLORS.warn,
  blocked: COLORS.violet,
  reported: COLORS.violet,
  moderator: COLORS.violet,
  banned: COLORS.violet,
};

/** Why calls ended, most common first; failures and safety actions stand out by colour. */
export function ReasonsChart({ reasons }: { reasons: InsightsResponse['endReasons'] }) {
  const t = useConsoleText();
  const rtl = isRtl(t);
  const sorted = useMemo(() => reasons.filter((r) => r.count > 0).sort((a, b) => b.count - a.count), [reasons]);
  const config = useMemo<ChartConfiguration<'bar'>>(() => {
    const total = sorted.reduce((s, r) => s + r.count, 0);
    return {
      type: 'bar',
      data: {
        labels: sorted.map((r) => reasonLabel(t, r.reason)),
        datasets: [
          {
            label: t('console.chart.calls.title'),
            data: sorted.map((r) => r.count),
            backgroundColor: sorted.map((r) => REASON_TONE[r.reason] ?? COLORS.accent2),
            borderRadius: 4,
            maxBarThickness: 22,
          },
        ],
      },
      options: {
        // Tick numbers in the console's language, not the browser's.
        locale: t.intl.locale,
        indexAxis: 'y',
        scales: {
          // Right to left, the bars grow from the right and the labels stand on that side.
          x: { beginAtZero: true, ticks: { precision: 0 }, reverse: rtl },
          y: { grid: { display: false }, position: rtl ? 'right' : 'left' },
        },
        plugins: {
          legend: { display: false },
          tooltip: { rtl, callbacks: { label: (ctx) => ` ${callsTooltip(t, Number(ctx.raw), total)}` } },
        },
      },
    };
  }, [sorted, t, rtl]);
  const ref = useChart(config);
  return (
    <Card
      title={t('console.chart.reasons.title')}
      hint={<ReasonKey t={t} />}
      empty={sorted.length === 0 ? t('console.chart.reasons.empty') : null}
    >
      <div className={`chart ${sorted.length > 6 ? 'tall' : ''}`}>
        <canvas ref={ref} data-testid="chart-reasons" role="img" aria-label={t('console.chart.reasons.label')} />
      </div>
    </Card>
  );
}

function ReasonKey({ t }: { t: T }) {
  return (
    <span className="key">
      <span className="swatch accent" aria-hidden="true" /> {t('console.chart.reasons.failure')}{' '}
      <span className="swatch warn" aria-hidden="true" /> {t('console.chart.reasons.drop')}{' '}
      <span className="swatch violet" aria-hidden="true" /> {t('console.chart.reasons.safety')}
    </span>
  );
}

/** "3 calls (25%)" */
function callsTooltip(t: T, n: number, total: number): string {
  return t('console.chart.callsTooltip', { n, share: pct(t, total ? n / total : null) });
}

function binLabel(t: T, lo: number, hi: number | null): string {
  const n = (v: number) => num(t, v, { max: 1 });
  const s = (v: number) => (v < 60 ? t('console.unit.s', { n: n(v) }) : t('console.unit.min', { n: n(v / 60) }));
  if (hi === null) return t('console.chart.bin.over', { lo: s(lo) });
  if (lo === 0) return t('console.chart.bin.under', { hi: s(hi) });
  // "1–2 min", "30 s–1 min"
  if (lo >= 60 && hi >= 60) return t('console.chart.bin.between', { lo: n(lo / 60), hi: t('console.unit.min', { n: n(hi / 60) }) });
  if (lo < 60 && hi < 60) return t('console.chart.bin.between', { lo: n(lo), hi: t('console.unit.s', { n: n(hi) }) });
  return t('console.chart.bin.between', { lo: s(lo), hi: s(hi) });
}
