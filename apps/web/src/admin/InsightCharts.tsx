import type { EndReason, InsightsResponse } from '@duet/protocol';
import type { ChartConfiguration } from 'chart.js';
import { useMemo } from 'react';
import type { Bucket } from './api.js';
import { alpha, COLORS, useChart } from './charts.js';
import { bucketLabel, count, pct, reasonLabel } from './format.js';
import { Card } from './parts.js';

type Series = InsightsResponse['series'];

const EMPTY = 'No calls in this range yet';

/** Connection success rate per bucket: connected / (connected + could not connect). */
export function SuccessChart({ series, bucket }: { series: Series; bucket: Bucket }) {
  const config = useMemo<ChartConfiguration<'line'>>(
    () => ({
      type: 'line',
      data: {
        labels: series.map((p) => bucketLabel(p.t, bucket)),
        datasets: [
          {
            label: 'Success rate',
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
        interaction: { mode: 'index', intersect: false },
        scales: {
          y: { min: 0, max: 100, ticks: { callback: (v) => `${v}%`, stepSize: 25 } },
          x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 12 } },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: (ctx) => {
                const p = series[ctx.dataIndex];
                return p ? ` ${pct(p.successRate)} (${p.connected} of ${p.connected + p.iceFailed})` : '';
              },
            },
          },
        },
      },
    }),
    [series, bucket],
  );
  const ref = useChart(config);
  const empty = series.every((p) => p.successRate === null) ? 'No call connected or failed in this range yet' : null;
  return (
    <Card title="Connection success rate" hint="connected ÷ (connected + could not connect)" empty={empty}>
      <div className="chart">
        <canvas ref={ref} data-testid="chart-success" role="img" aria-label="Connection success rate over time" />
      </div>
    </Card>
  );
}

/** Calls per bucket, stacked by outcome, so the bar's height is every call matched. */
export function CallsChart({ series, bucket }: { series: Series; bucket: Bucket }) {
  const config = useMemo<ChartConfiguration<'bar'>>(
    () => ({
      type: 'bar',
      data: {
        labels: series.map((p) => bucketLabel(p.t, bucket)),
        datasets: [
          { label: 'Connected', data: series.map((p) => p.connected), backgroundColor: COLORS.ok, borderRadius: 3, maxBarThickness: 28 },
          {
            label: 'Could not connect',
            data: series.map((p) => p.iceFailed),
            backgroundColor: COLORS.accent,
            borderRadius: 3,
            maxBarThickness: 28,
          },
          {
            label: 'Abandoned or live',
            data: series.map((p) => Math.max(0, p.calls - p.connected - p.iceFailed)),
            backgroundColor: alpha(COLORS.muted, 0.35),
            borderRadius: 3,
            maxBarThickness: 28,
          },
        ],
      },
      options: {
        interaction: { mode: 'index', intersect: false },
        scales: {
          x: { stacked: true, grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 12 } },
          y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
        },
        plugins: { legend: { position: 'bottom', align: 'start' } },
      },
    }),
    [series, bucket],
  );
  const ref = useChart(config);
  return (
    <Card title="Calls" hint="per bucket, by outcome" empty={series.every((p) => p.calls === 0) ? EMPTY : null}>
      <div className="chart">
        <canvas ref={ref} data-testid="chart-calls" role="img" aria-label="Calls per bucket, connected and failed" />
      </div>
    </Card>
  );
}

/** How long connected calls lasted, in the bins the server counts. */
export function DurationsChart({ durations }: { durations: InsightsResponse['durations'] }) {
  const config = useMemo<ChartConfiguration<'bar'>>(() => {
    const labels = durations.map((d, i) => binLabel(i === 0 ? 0 : (durations[i - 1]?.le ?? 0), d.le));
    const total = durations.reduce((s, d) => s + d.count, 0);
    return {
      type: 'bar',
      data: {
        labels,
        datasets: [
          { label: 'Calls', data: durations.map((d) => d.count), backgroundColor: COLORS.accent2, borderRadius: 4, maxBarThickness: 44 },
        ],
      },
      options: {
        // Every bin keeps its label (rotated on a phone): a skipped label would name the wrong bar.
        scales: {
          x: { grid: { display: false }, ticks: { autoSkip: false, maxRotation: 60 } },
          y: { beginAtZero: true, ticks: { precision: 0 } },
        },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: (ctx) => ` ${count(Number(ctx.raw))} calls (${pct(total ? Number(ctx.raw) / total : null)})` } },
        },
      },
    };
  }, [durations]);
  const ref = useChart(config);
  return (
    <Card
      title="Call length"
      hint="connected calls"
      empty={durations.every((d) => d.count === 0) ? 'No connected calls in this range yet' : null}
    >
      <div className="chart">
        <canvas ref={ref} data-testid="chart-durations" role="img" aria-label="Distribution of call lengths" />
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
  const sorted = useMemo(() => reasons.filter((r) => r.count > 0).sort((a, b) => b.count - a.count), [reasons]);
  const config = useMemo<ChartConfiguration<'bar'>>(() => {
    const total = sorted.reduce((s, r) => s + r.count, 0);
    return {
      type: 'bar',
      data: {
        labels: sorted.map((r) => reasonLabel(r.reason)),
        datasets: [
          {
            label: 'Calls',
            data: sorted.map((r) => r.count),
            backgroundColor: sorted.map((r) => REASON_TONE[r.reason] ?? COLORS.accent2),
            borderRadius: 4,
            maxBarThickness: 22,
          },
        ],
      },
      options: {
        indexAxis: 'y',
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } }, y: { grid: { display: false } } },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: (ctx) => ` ${count(Number(ctx.raw))} calls (${pct(total ? Number(ctx.raw) / total : null)})` } },
        },
      },
    };
  }, [sorted]);
  const ref = useChart(config);
  return (
    <Card title="Why calls ended" hint={<ReasonKey />} empty={sorted.length === 0 ? 'No call ended in this range yet' : null}>
      <div className={`chart ${sorted.length > 6 ? 'tall' : ''}`}>
        <canvas ref={ref} data-testid="chart-reasons" role="img" aria-label="Call end reasons" />
      </div>
    </Card>
  );
}

function ReasonKey() {
  return (
    <span className="key">
      <span className="swatch accent" /> failure <span className="swatch warn" /> drop <span className="swatch violet" /> safety
    </span>
  );
}

function binLabel(lo: number, hi: number | null): string {
  const s = (v: number) => (v < 60 ? `${v} s` : `${v / 60} min`);
  if (hi === null) return `${s(lo)}+`;
  if (lo === 0) return `< ${s(hi)}`;
  // "1–2 min", "30 s–1 min"
  if (lo >= 60 && hi >= 60) return `${lo / 60}–${hi / 60} min`;
  if (lo < 60 && hi < 60) return `${lo}–${hi} s`;
  return `${s(lo)}–${s(hi)}`;
}
