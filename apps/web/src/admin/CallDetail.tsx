import type { CallDetail } from '@duet/protocol';
import type { ChartConfiguration, ChartDataset } from 'chart.js';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useConsoleText } from '../i18n/index.js';
import { isAbort, type AdminApi } from './api.js';
import { COLORS, useChart } from './charts.js';
import {
  bytes,
  duration,
  endedByLabel,
  fullDateTime,
  ms,
  num,
  outcomeLabel,
  pathDetail,
  pathKind,
  pathTag,
  isRtl,
  pct,
  reasonLabel,
  type T,
} from './format.js';
import { EmptyState, Spinner } from './parts.js';

type Load = { status: 'loading' } | { status: 'ready'; call: CallDetail } | { status: 'error'; message: string };

/** One call's record and quality timeline, in a modal dialog (full screen on a phone). */
export function CallDetailDialog({
  api,
  id,
  onClose,
  onAuthError,
}: {
  api: AdminApi;
  id: string;
  onClose: () => void;
  onAuthError: (err: unknown) => string | null;
}) {
  const t = useConsoleText();
  const ref = useRef<HTMLDialogElement>(null);
  const [load, setLoad] = useState<Load>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);

  // A modal dialog: focus moves in (to Close), Escape closes it, and focus goes back to what opened it.
  useEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => {
      if (opener?.isConnected) opener.focus();
    };
  }, []);

  useEffect(() => {
    const ctrl = new AbortController();
    setLoad({ status: 'loading' });
    api.call(id, ctrl.signal).then(
      (call) => setLoad({ status: 'ready', call }),
      (err: unknown) => {
        if (isAbort(err)) return;
        const message = onAuthError(err);
        if (message) setLoad({ status: 'error', message });
      },
    );
    return () => ctrl.abort();
  }, [api, id, attempt, onAuthError]);

  return (
    <dialog
      ref={ref}
      className="detail"
      aria-labelledby="detail-title"
      aria-modal="true"
      aria-busy={load.status === 'loading'}
      data-testid="call-detail"
      onClose={onClose}
      onClick={(e) => {
        if (e.target === ref.current) ref.current.close(); // a click on the backdrop
      }}
    >
      <div className="detail-inner">
        <header className="detail-head">
          <div>
            <h2 id="detail-title">{t('console.call.title')}</h2>
            <code className="call-id">{id}</code>
          </div>
          <button className="btn small" onClick={() => ref.current?.close()} aria-label={t('console.call.closeLabel')} autoFocus>
            {t('console.common.close')}
          </button>
        </header>
        {load.status === 'loading' && <Spinner label={t('console.call.loading')} />}
        {load.status === 'error' && (
          <div className="error-card" role="alert">
            <p className="error-title">{t('console.call.failed')}</p>
            <p className="muted">{load.message}</p>
            <button className="btn primary" onClick={() => setAttempt((a) => a + 1)}>
              {t('console.common.tryAgain')}
            </button>
          </div>
        )}
        {load.status === 'ready' && <CallBody call={load.call} />}
      </div>
    </dialog>
  );
}

function CallBody({ call }: { call: CallDetail }) {
  const t = useConsoleText();
  const kind = pathTag(t, pathKind(call));
  return (
    <>
      <div className="detail-summary">
        <span className={`tag ${call.outcome === 'connected' ? 'direct' : call.outcome === 'ice_failed' ? 'bad' : ''}`}>
          {outcomeLabel(t, call.outcome)}
        </span>
        <span className={`tag ${kind.className}`}>{kind.text}</span>
        <span className="muted">
          {t('console.call.summary', { at: fullDateTime(t, call.matchedAt), length: duration(call.durationMs) })}
        </span>
      </div>

      <section className="detail-section" aria-labelledby="detail-timeline">
        <h3 id="detail-timeline">{t('console.call.timeline')}</h3>
        {call.samples.length === 0 ? (
          <EmptyState text={t('console.call.noSamples')} detail={t('console.call.noSamplesDetail')} />
        ) : (
          <QualityChart call={call} />
        )}
      </section>

      <section className="detail-section" aria-labelledby="detail-record">
        <h3 id="detail-record">{t('console.call.record')}</h3>
        <dl className="facts">
          <Fact k={t('console.call.endedBy')} v={endedByLabel(t, call.endedBy)} />
          <Fact k={t('console.call.endReason')} v={reasonLabel(t, call.endReason)} />
          <Fact k={t('console.tile.connect')} v={ms(t, call.timeToConnectMs)} />
          <Fact k={t('console.call.connectedAt')} v={fullDateTime(t, call.connectedAt)} />
          <Fact k={t('console.call.aWaited')} v={ms(t, call.waitMs.a)} />
          <Fact k={t('console.call.bWaited')} v={ms(t, call.waitMs.b)} />
          <Fact k={t('console.call.aPath')} v={pathDetail(call.path.a)} mono />
          <Fact k={t('console.call.bPath')} v={pathDetail(call.path.b)} mono />
          <Fact k={t('console.call.bytesRelayed')} v={call.relayed ? bytes(t, call.bytesRelayed) : t('console.call.noneDirect')} />
          <Fact k={t('console.call.rtt')} v={ms(t, call.quality.rttMsP50)} />
          <Fact k={t('console.call.delay')} v={ms(t, call.quality.estDelayMsP50)} />
          <Fact k={t('console.call.voiceLost')} v={pct(t, call.quality.audioConcealmentMax)} />
          <Fact k={t('console.call.lossMax')} v={pct(t, call.quality.packetLossMax)} />
          <Fact k={t('console.call.frozen')} v={call.quality.freezeMs === null ? '—' : ms(t, call.quality.freezeMs)} />
          <Fact k={t('console.call.endedAt')} v={fullDateTime(t, call.endedAt)} />
        </dl>
      </section>
    </>
  );
}

/** A value with the unit of its axis: "12.5%", "850 kbps", "120 ms". */
function withUnit(t: T, axis: string | undefined, y: number): string {
  const n = num(t, Math.round(y * 10) / 10, { max: 1 });
  return axis === 'loss' ? pct(t, y / 100) : axis === 'kbps' ? `${n} kbps` : t('console.unit.ms', { n });
}

function Fact({ k, v, mono }: { k: string; v: string; mono?: boolean }) {
  return (
    <div className="fact">
      <dt>{k}</dt>
      <dd className={mono ? 'mono' : undefined}>{v}</dd>
    </div>
  );
}

const SIDE_COLOR = { a: COLORS.accent, b: COLORS.accent2 } as const;

/**
 * RTT and estimated delay, packet loss and inbound bitrate for both sides, as three stacked
 * panels on one time axis (seconds since the call connected), so a spike lines up across them.
 */
function QualityChart({ call }: { call: CallDetail }) {
  const t = useConsoleText();
  const rtl = isRtl(t);
  const config = useMemo<ChartConfiguration<'line', Array<{ x: number; y: number | null }>>>(() => {
    const t0 = call.connectedAt ?? call.matchedAt;
    const samples = [...call.samples].sort((x, y) => x.at - y.at);
    const datasets: Array<ChartDataset<'line', Array<{ x: number; y: number | null }>>> = [];
    for (const side of ['a', 'b'] as const) {
      const mine = samples.filter((s) => s.side === side);
      if (mine.length === 0) continue;
      const color = SIDE_COLOR[side];
      const line = (label: string, yAxisID: string, pick: (s: CallDetail['samples'][number]) => number | undefined, dashed = false) => ({
        label: `${t(side === 'a' ? 'console.call.sideA' : 'console.call.sideB')} · ${label}`,
        yAxisID,
        data: mine.map((s) => ({ x: (s.at - t0) / 1000, y: pick(s) ?? null })),
        borderColor: color,
        backgroundColor: color,
        borderWidth: dashed ? 1.5 : 2,
        borderDash: dashed ? [5, 4] : [],
        pointRadius: mine.length > 60 ? 0 : 2.5,
        pointHoverRadius: 4,
        cubicInterpolationMode: 'monotone' as const,
        spanGaps: true,
      });
      datasets.push(
        line(t('console.call.series.rtt'), 'ms', (s) => s.rttMs),
        line(t('console.call.series.delay'), 'ms', (s) => s.estDelayMs, true),
        line(t('console.call.series.loss'), 'loss', (s) => (s.packetLoss === undefined ? undefined : s.packetLoss * 100)),
        line(
          t('console.call.series.concealed'),
          'loss',
          (s) => (s.audioConcealment === undefined ? undefined : s.audioConcealment * 100),
          true,
        ),
        line(t('console.call.series.inbound'), 'kbps', (s) => s.inboundKbps),
      );
    }
    return {
      type: 'line',
      data: { datasets },
      options: {
        // Tick numbers in the console's language, not the browser's.
        locale: t.intl.locale,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        scales: {
          x: {
            type: 'linear',
            reverse: rtl,
            ticks: { callback: (v) => clock(Number(v)), maxRotation: 0 },
            title: { display: true, text: t('console.call.axis.since') },
          },
          // Stacked axes are laid out bottom-up: the first declared is the lowest panel.
          kbps: {
            type: 'linear',
            position: rtl ? 'right' : 'left',
            stack: 'q',
            stackWeight: 1.5,
            beginAtZero: true,
            offset: true,
            title: { display: true, text: t('console.call.axis.kbps') },
          },
          loss: {
            type: 'linear',
            position: rtl ? 'right' : 'left',
            stack: 'q',
            stackWeight: 1,
            beginAtZero: true,
            suggestedMax: 5,
            offset: true,
            title: { display: true, text: t('console.call.axis.loss') },
          },
          ms: {
            type: 'linear',
            position: rtl ? 'right' : 'left',
            stack: 'q',
            stackWeight: 2,
            beginAtZero: true,
            offset: true,
            title: { display: true, text: t('console.call.axis.delay') },
          },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            rtl,
            callbacks: {
              title: (items) => (items[0] ? clock(items[0].parsed.x ?? 0) : ''),
              label: (ctx) => {
                const y = ctx.parsed.y;
                return ` ${ctx.dataset.label}: ${y === null ? '—' : withUnit(t, ctx.dataset.yAxisID, y)}`;
              },
            },
          },
        },
      },
    };
  }, [call, t, rtl]);
  const ref = useChart(config);
  return (
    <>
      <div className="legend" aria-hidden="true">
        <span>
          <span className="swatch accent" /> {t('console.call.personA')}
        </span>
        <span>
          <span className="swatch accent2" /> {t('console.call.personB')}
        </span>
        <span>
          <span className="stroke solid" /> {t('console.call.series.rtt')}
        </span>
        <span>
          <span className="stroke dashed" /> {t('console.call.series.delay')}
        </span>
      </div>
      <div className="chart quality">
        <canvas ref={ref} data-testid="chart-quality" role="img" aria-label={t('console.call.chartLabel')} />
      </div>
    </>
  );
}

function clock(seconds: number): string {
  if (seconds < 0) return `-${clock(-seconds)}`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return `${m}:${String(s).padStart(2, '0')}`;
}
