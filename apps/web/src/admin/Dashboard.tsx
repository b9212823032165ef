import { FUNNEL_STEPS, type InsightsResponse } from '@duet/protocol';
import { useCallback, useEffect, useRef, useState } from 'react';
import { isAbort } from './api.js';
import { CallDetailDialog } from './CallDetail.js';
import { count, counted, dateTime, dayLabel, FUNNEL_LABELS, ms, pct } from './format.js';
import { CallsChart, DurationsChart, ReasonsChart, SuccessChart } from './InsightCharts.js';
import { Card, EmptyState, RefreshButton, Spinner, TableHead, Tile } from './parts.js';
import { RANGE_KEYS, RANGES, rangeFor, type RangeKey } from './ranges.js';
import { useSession } from './session.js';
import { WorstCalls } from './WorstCalls.js';

type Load = { status: 'loading' } | { status: 'ready'; data: InsightsResponse; at: number } | { status: 'error'; message: string };

const REFRESH_MS = 60_000;

export function Dashboard() {
  const { api, explain: fail } = useSession();
  const [rangeKey, setRangeKey] = useState<RangeKey>('24h');
  const [load, setLoad] = useState<Load>({ status: 'loading' });
  const [refreshing, setRefreshing] = useState(false);
  const [openCall, setOpenCall] = useState<string | null>(null);
  const [exporting, setExporting] = useState<'csv' | 'json' | null>(null);
  const [exportError, setExportError] = useState<string | null>(null);
  const inflight = useRef<AbortController | null>(null);

  /** Fetches the range; `quiet` keeps what is on screen while it loads (refresh, auto-refresh). */
  const fetchRange = useCallback(
    (key: RangeKey, quiet: boolean) => {
      inflight.current?.abort();
      const ctrl = new AbortController();
      inflight.current = ctrl;
      if (quiet) setRefreshing(true);
      else setLoad({ status: 'loading' });
      api.insights(rangeFor(key), ctrl.signal).then(
        (data) => {
          if (ctrl.signal.aborted) return;
          setLoad({ status: 'ready', data, at: Date.now() });
          setRefreshing(false);
        },
        (err: unknown) => {
          if (isAbort(err) || ctrl.signal.aborted) return;
          setRefreshing(false);
          const message = fail(err);
          // A failed background refresh keeps the last good numbers on screen.
          if (message) setLoad((l) => (quiet && l.status === 'ready' ? l : { status: 'error', message }));
        },
      );
    },
    [api, fail],
  );

  useEffect(() => {
    fetchRange(rangeKey, false);
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') fetchRange(rangeKey, true);
    }, REFRESH_MS);
    return () => {
      clearInterval(timer);
      inflight.current?.abort();
    };
  }, [rangeKey, fetchRange]);

  const doExport = async (format: 'csv' | 'json') => {
    setExporting(format);
    setExportError(null);
    try {
      await api.exportCalls(rangeFor(rangeKey), format);
    } catch (err) {
      const message = fail(err);
      if (message) setExportError(`Export failed: ${message}`);
    } finally {
      setExporting(null);
    }
  };

  const data = load.status === 'ready' ? load.data : null;

  return (
    <>
      <div className="subbar">
        <div className="subbar-title">
          <h1>{RANGES[rangeKey].long}</h1>
          {data && (
            <span className="muted">
              {dateTime(data.range.from)} – {dateTime(data.range.to)} · by {data.range.bucket} · updated{' '}
              {new Date(load.status === 'ready' ? load.at : Date.now()).toLocaleTimeString('en-GB')}
            </span>
          )}
        </div>
        <nav className="ranges" aria-label="Time range">
          {RANGE_KEYS.map((k) => (
            <button
              key={k}
              className={`seg ${k === rangeKey ? 'on' : ''}`}
              data-testid={`range-${k}`}
              aria-pressed={k === rangeKey}
              onClick={() => setRangeKey(k)}
            >
              {RANGES[k].label}
            </button>
          ))}
        </nav>
        <div className="bar-actions">
          <RefreshButton
            refreshing={refreshing}
            disabled={refreshing || load.status === 'loading'}
            onClick={() => fetchRange(rangeKey, load.status === 'ready')}
            title="Refresh now"
          />
          <button
            className="btn small"
            data-testid="export-csv"
            onClick={() => void doExport('csv')}
            disabled={exporting !== null}
            title="Download this range's call records as CSV"
          >
            {exporting === 'csv' ? 'Exporting…' : 'Export CSV'}
          </button>
          <button
            className="btn small"
            data-testid="export-json"
            onClick={() => void doExport('json')}
            disabled={exporting !== null}
            title="Download this range's call records as JSON"
          >
            {exporting === 'json' ? 'Exporting…' : 'Export JSON'}
          </button>
        </div>
      </div>
      {exportError && (
        <p className="callout bad" role="alert">
          {exportError}
        </p>
      )}

      {load.status === 'loading' && <Spinner label="Loading insights…" />}
      {load.status === 'error' && (
        <div className="card error-card" role="alert">
          <p className="error-title">Could not load insights</p>
          <p className="muted">{load.message}</p>
          <button className="btn primary" onClick={() => fetchRange(rangeKey, false)}>
            Try again
          </button>
        </div>
      )}
      {data && <Insights data={data} onOpenCall={setOpenCall} />}

      {openCall && <CallDetailDialog api={api} id={openCall} onClose={() => setOpenCall(null)} onAuthError={fail} />}
    </>
  );
}

function Insights({ data, onOpenCall }: { data: InsightsResponse; onOpenCall: (id: string) => void }) {
  const { totals } = data;
  const funnelHasData = data.funnel.some((d) => FUNNEL_STEPS.some((s) => d.steps[s] > 0));
  const relayedCalls = totals.relayShare === null ? null : Math.round(totals.relayShare * totals.connected);
  return (
    <>
      <section className="tiles" aria-label="Key numbers">
        <Tile
          label="Calls"
          testId="tile-calls"
          value={count(totals.calls)}
          sub={[
            `${count(totals.connected)} connected`,
            `${count(totals.iceFailed)} failed`,
            totals.abandoned > 0 ? `${count(totals.abandoned)} abandoned` : null,
          ]
            .filter(Boolean)
            .join(' · ')}
        />
        <Tile
          label="Connection success"
          testId="tile-success"
          value={pct(totals.successRate)}
          tone={totals.successRate === null ? undefined : totals.successRate >= 0.95 ? 'ok' : totals.successRate >= 0.85 ? 'warn' : 'bad'}
          sub={
            totals.successRate === null
              ? 'no call connected or failed'
              : `${count(totals.connected)} of ${count(totals.connected + totals.iceFailed)} that tried`
          }
        />
        <Tile
          label="Time to match"
          testId="tile-match"
          value={<P50 v={data.timeToMatchMs.p50} />}
          sub={`p95 ${ms(data.timeToMatchMs.p95)} · ${counted(data.timeToMatchMs.count, 'match', 'matches')}`}
        />
        <Tile
          label="Time to connect"
          testId="tile-connect"
          value={<P50 v={data.timeToConnectMs.p50} />}
          sub={`p95 ${ms(data.timeToConnectMs.p95)} · ${counted(data.timeToConnectMs.count, 'connection')}`}
        />
        <Tile
          label="Over 500 ms budget"
          testId="tile-over-budget"
          value={count(data.callQuality.overBudget)}
          tone={share(data.callQuality.overBudget, data.callQuality.measured, 0.05, 0.01)}
          sub={`calls with median camera→screen delay over half a second · of ${counted(data.callQuality.measured, 'measured call')}`}
        />
        <Tile
          label="Broken audio"
          testId="tile-broken-audio"
          value={count(data.callQuality.brokenAudio)}
          tone={share(data.callQuality.brokenAudio, data.callQuality.measured, 0.05, 0.01)}
          sub={`calls where some 10 s lost over 5 % of the voice · of ${counted(data.callQuality.measured, 'measured call')}`}
        />
        <Tile
          label="Relayed (TURN)"
          testId="tile-relay"
          value={pct(totals.relayShare)}
          sub={relayedCalls === null ? 'no connected calls' : `${count(relayedCalls)} of ${counted(totals.connected, 'connected call')}`}
        />
      </section>

      {totals.calls === 0 ? (
        <div className="card">
          <EmptyState
            text="No calls in this range yet"
            detail="Charts appear here as soon as two people are matched. Try a longer range."
          />
        </div>
      ) : (
        <div className="grid">
          <SuccessChart series={data.series} bucket={data.range.bucket} />
          <CallsChart series={data.series} bucket={data.range.bucket} />
          <DurationsChart durations={data.durations} />
          <ReasonsChart reasons={data.endReasons} />
        </div>
      )}

      <Card
        title="Funnel"
        hint="unique people reaching each step, per day"
        empty={funnelHasData ? null : 'Nobody opened Duet in this range yet'}
        className="wide"
      >
        <Funnel funnel={data.funnel} />
      </Card>

      {totals.calls > 0 && (
        <Card
          title="Worst calls"
          hint="connected calls by quality penalty, worst first — open one for its timeline"
          empty={
            data.worstCalls.length === 0
              ? totals.connected === 0
                ? 'No connected calls in this range yet'
                : 'No quality data for these calls yet'
              : null
          }
          className="wide"
        >
          <WorstCalls calls={data.worstCalls} onOpen={onOpenCall} />
        </Card>
      )}
    </>
  );
}

/** A tile's colour from a share of measured calls: bad at or over `bad`, worth a look over `warn`. */
function share(n: number, of: number, bad: number, warn: number): 'ok' | 'warn' | 'bad' | undefined {
  if (of === 0) return undefined;
  const r = n / of;
  return r >= bad ? 'bad' : r > warn ? 'warn' : 'ok';
}

function P50({ v }: { v: number | null }) {
  return (
    <>
      {ms(v)}
      {v !== null && <small className="unit">p50</small>}
    </>
  );
}

function Funnel({ funnel }: { funnel: InsightsResponse['funnel'] }) {
  const days = [...funnel].sort((a, b) => b.day.localeCompare(a.day));
  return (
    <div className="table-wrap">
      <table className="table funnel" data-testid="funnel">
        <TableHead columns={['Day', ...FUNNEL_STEPS.map((s) => ({ label: FUNNEL_LABELS[s], num: true }))]} />
        <tbody>
          {days.map((d) => {
            const top = d.steps[FUNNEL_STEPS[0]];
            return (
              <tr key={d.day}>
                <th scope="row">{dayLabel(d.day)}</th>
                {FUNNEL_STEPS.map((s, i) => (
                  <td key={s} className="num">
                    {count(d.steps[s])}
                    {i > 0 && <small className="muted">{top > 0 ? pct(d.steps[s] / top, 0) : '—'}</small>}
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
