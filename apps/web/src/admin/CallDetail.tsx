import type { CallDetail } from '@duet/protocol';
import type { ChartConfiguration, ChartDataset } from 'chart.js';
import { useEffect, useMemo, useRef, useState } from 'react';
import { isAbort, type AdminApi } from './api.js';
import { COLORS, useChart } from './charts.js';
import { bytes, duration, endedByLabel, fullDateTime, ms, outcomeLabel, pathDetail, pathKind, pct, reasonLabel } from './format.js';
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
  const ref = useRef<HTMLDialogElement>(null);
  const [load, setLoad] = useState<Load>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
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
      data-testid="call-detail"
      onClose={onClose}
      onClick={(e) => {
        if (e.target === ref.current) ref.current.close(); // a click on the backdrop
      }}
    >
      <div className="detail-inner">
        <header className="detail-head">
          <div>
            <h2 id="detail-title">Call</h2>
            <code className="call-id">{id}</code>
          </div>
          <button className="btn small" onClick={() => ref.current?.close()} aria-label="Close call detail" autoFocus>
            Close
          </button>
        </header>
        {load.status === 'loading' && <Spinner label="Loading the call…" />}
        {load.status === 'error' && (
          <div className="error-card" role="alert">
            <p className="error-title">Could not load this call</p>
            <p className="muted">{load.message}</p>
            <button className="btn primary" onClick={() => setAttempt((a) => a + 1)}>
              Try again
            </button>
          </div>
        )}
        {load.status === 'ready' && <CallBody call={load.call} />}
      </div>
    </dialog>
  );
}

function CallBody({ call }: { call: CallDetail }) {
  const kind = pathKind(call);
  return (
    <>
      <div className="detail-summary">
        <span className={`tag ${call.outcome === 'connected' ? 'direct' : call.outcome === 'ice_failed' ? 'bad' : ''}`}>
          {outcomeLabel(call.outcome)}
        </span>
        <span className={`tag ${kind === 'Relayed' ? 'relay' : kind === 'Direct' ? 'direct' : ''}`}>{kind}</span>
        <span className="muted">
          {fullDateTime(call.matchedAt)} · {duration(call.durationMs)} long
        </span>
      </div>

      <section className="detail-section" aria-label="Quality timeline">
        <h3>Quality timeline</h3>
        {call.samples.length === 0 ? (
          <EmptyState text="No quality samples for this call" detail="Browsers upload a sample every 10 seconds once connected." />
        ) : (
          <QualityChart call={call} />
        )}
      </section>

      <section className="detail-section" aria-label="Facts">
        <h3>Record</h3>
        <dl className="facts">
          <Fact k="Ended by" v={endedByLabel(call.endedBy)} />
          <Fact k="End reason" v={reasonLabel(call.endReason)} />
          <Fact k="Time to connect" v={ms(call.timeToConnectMs)} />
          <Fact k="Connected at" v={fullDateTime(call.connectedAt)} />
          <Fact k="A waited" v={ms(call.waitMs.a)} />
          <Fact k="B waited" v={ms(call.waitMs.b)} />
          <Fact k="A path" v={pathDetail(call.path.a)} mono />
          <Fact k="B path" v={pathDetail(call.path.b)} mono />
          <Fact k="Bytes relayed" v={call.relayed ? bytes(call.bytesRelayed) : 'none (direct)'} />
          <Fact k="RTT p50" v={ms(call.quality.rttMsP50)} />
          <Fact k="Est. delay p50" v={ms(call.quality.estDelayMsP50)} />
          <Fact k="Voice lost (worst 10 s)" v={pct(call.quality.audioConcealmentMax)} />
          <Fact k="Loss max" v={pct(call.quality.packetLossMax)} />
          <Fact k="Frozen video" v={call.quality.freezeMs === null ? '—' : ms(call.quality.freezeMs)} />
          <Fact k="Ended at" v={fullDateTime(call.endedAt)} />
        </dl>
      </section>
    </>
  );
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
  const config = useMemo<ChartConfiguration<'line', Array<{ x: number; y: number | null }>>>(() => {
    const t0 = call.connectedAt ?? call.matchedAt;
    const samples = [...call.samples].sort((x, y) => x.at - y.at);
    const datasets: Array<ChartDataset<'line', Array<{ x: number; y: number | null }>>> = [];
    for (const side of ['a', 'b'] as const) {
      const mine = samples.filter((s) => s.side === side);
      if (mine.length === 0) continue;
      const color = SIDE_COLOR[side];
      const line = (label: string, yAxisID: string, pick: (s: CallDetail['samples'][number]) => number | undefined, dashed = false) => ({
        label: `${side.toUpperCase()} · ${label}`,
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
        line('RTT', 'ms', (s) => s.rttMs),
        line('est. delay', 'ms', (s) => s.estDelayMs, true),
        line('packet loss', 'loss', (s) => (s.packetLoss === undefined ? undefined : s.packetLoss * 100)),
        line('voice concealed', 'loss', (s) => (s.audioConcealment === undefined ? undefined : s.audioConcealment * 100), true),
        line('inbound', 'kbps', (s) => s.inboundKbps),
      );
    }
    return {
      type: 'line',
      data: { datasets },
      options: {
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        scales: {
          x: {
            type: 'linear',
            ticks: { callback: (v) => clock(Number(v)), maxRotation: 0 },
            title: { display: true, text: 'since connected' },
          },
          // Stacked axes are laid out bottom-up: the first declared is the lowest panel.
          kbps: {
            type: 'linear',
            position: 'left',
            stack: 'q',
            stackWeight: 1.5,
            beginAtZero: true,
            offset: true,
            title: { display: true, text: 'inbound kbps' },
          },
          loss: {
            type: 'linear',
            position: 'left',
            stack: 'q',
            stackWeight: 1,
            beginAtZero: true,
            suggestedMax: 5,
            offset: true,
            title: { display: true, text: 'loss %' },
          },
          ms: {
            type: 'linear',
            position: 'left',
            stack: 'q',
            stackWeight: 2,
            beginAtZero: true,
            offset: true,
            title: { display: true, text: 'delay ms' },
          },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: (items) => (items[0] ? clock(items[0].parsed.x ?? 0) : ''),
              label: (ctx) => {
                const y = ctx.parsed.y;
                const unit = ctx.dataset.yAxisID === 'loss' ? '%' : ctx.dataset.yAxisID === 'kbps' ? ' kbps' : ' ms';
                return ` ${ctx.dataset.label}: ${y === null ? '—' : `${Math.round(y * 10) / 10}${unit}`}`;
              },
            },
          },
        },
      },
    };
  }, [call]);
  const ref = useChart(config);
  return (
    <>
      <div className="legend" aria-hidden="true">
        <span>
          <span className="swatch accent" /> Person A
        </span>
        <span>
          <span className="swatch accent2" /> Person B
        </span>
        <span>
          <span className="stroke solid" /> RTT
        </span>
        <span>
          <span className="stroke dashed" /> est. delay
        </span>
      </div>
      <div className="chart quality">
        <canvas
          ref={ref}
          data-testid="chart-quality"
          role="img"
          aria-label="Quality over the call: round-trip time, estimated delay, packet loss and inbound bitrate for each side"
        />
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
