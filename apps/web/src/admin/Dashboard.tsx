import { FUNNEL_STEPS, type InsightsResponse } from '@duet/protocol';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useConsoleText } from '../i18n/index.js';
import { isAbort } from './api.js';
import { CallDetailDialog } from './CallDetail.js';
import { count, dateTime, dayLabel, FUNNEL_LABELS, ms, pct, timeOfDay, type T } from './format.js';
import { CallsChart, DurationsChart, ReasonsChart, SuccessChart } from './InsightCharts.js';
import { Card, EmptyState, RefreshButton, Spinner, TableHead, TableScroll, Tile } from './parts.js';
import { RANGE_KEYS, RANGES, rangeFor, type RangeKey } from './ranges.js';
import { useSession } from './session.js';
import { WorstCalls } from './WorstCalls.js';

type Load = { status: 'loading' } | { status: 'ready'; data: InsightsResponse; at: number } | { status: 'error'; message: string };

const REFRESH_MS = 60_000;

export function Dashboard() {
  const { api, explain: fail } = useSession();
  const t = useConsoleText();
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
      if (message) setExportError(t('console.insights.exportFailed', { error: message }));
    } finally {
      setExporting(null);
    }
  };

  const data = load.status === 'ready' ? load.data : null;

  return (
    <>
      <div className="subbar">
        <div className="subbar-title">
          <h1>{t(RANGES[rangeKey].long)}</h1>
          {data && (
            <span className="muted">
              {t(data.range.bucket === 'hour' ? 'console.insights.rangeLineHour' : 'console.insights.rangeLineDay', {
                from: dateTime(t, data.range.from),
                to: dateTime(t, data.range.to),
                updated: timeOfDay(t, load.status === 'ready' ? load.at : Date.now()),
              })}
            </span>
          )}
        </div>
        <nav className="ranges" aria-label={t('console.insights.timeRange')}>
          {RANGE_KEYS.map((k) => (
            <button
              key={k}
              className={`seg ${k === rangeKey ? 'on' : ''}`}
              data-testid={`range-${k}`}
              aria-pressed={k === rangeKey}
              onClick={() => setRangeKey(k)}
            >
              {t(RANGES[k].label)}
            </button>
          ))}
        </nav>
        <div className="bar-actions">
          <RefreshButton
            refreshing={refreshing}
            disabled={refreshing || load.status === 'loading'}
            onClick={() => fetchRange(rangeKey, load.status === 'ready')}
            title={t('console.insights.refreshNow')}
          />
          <button
            className="btn small"
            data-testid="export-csv"
            onClick={() => void doExport('csv')}
            disabled={exporting !== null}
            title={t('console.insights.exportCsvHint')}
            aria-busy={exporting === 'csv'}
          >
            {exporting === 'csv' ? t('console.insights.exporting') : t('console.insights.exportCsv')}
          </button>
          <button
            className="btn small"
            data-testid="export-json"
            onClick={() => void doExport('json')}
            disabled={exporting !== null}
            title={t('console.insights.exportJsonHint')}
            aria-busy={exporting === 'json'}
          >
            {exporting === 'json' ? t('console.insights.exporting') : t('console.insights.exportJson')}
          </button>
        </div>
      </div>
      {exportError && (
        <p className="callout bad" role="alert">
          {exportError}
        </p>
      )}

      {load.status === 'loading' && <Spinner label={t('console.insights.loading')} />}
      {load.status === 'error' && (
        <div className="card error-card" role="alert">
          <p className="error-title">{t('console.insights.failed')}</p>
          <p className="muted">{load.message}</p>
          <button className="btn primary" onClick={() => fetchRange(rangeKey, false)}>
            {t('console.common.tryAgain')}
          </button>
        </div>
      )}
      {data && <Insights data={data} onOpenCall={setOpenCall} />}

      {openCall && <CallDetailDialog api={api} id={openCall} onClose={() => setOpenCall(null)} onAuthError={fail} />}
    </>
  );
}

function Insights({ data, onOpenCall }: { data: InsightsResponse; onOpenCall: (id: string) => void }) {
  const t = useConsoleText();
  const { totals } = data;
  const funnelHasData = data.funnel.some((d) => FUNNEL_STEPS.some((s) => d.steps[s] > 0));
  const relayedCalls = totals.relayShare === null ? null : Math.round(totals.relayShare * totals.connected);
  const measured = data.callQuality.measured;
  return (
    <>
      <section className="tiles" aria-label={t('console.insights.keyNumbers')}>
        <Tile
          label={t('console.tile.calls')}
          testId="tile-calls"
          value={count(t, totals.calls)}
          sub={[
            t('console.tile.calls.connected', { n: totals.connected }),
            t('console.tile.calls.failed', { n: totals.iceFailed }),
            totals.abandoned > 0 ? t('console.tile.calls.abandoned', { n: totals.abandoned }) : null,
          ]
            .filter(Boolean)
            .join(' · ')}
        />
        <Tile
          label={t('console.tile.success')}
          testId="tile-success"
          value={pct(t, totals.successRate)}
          tone={totals.successRate === null ? undefined : totals.successRate >= 0.95 ? 'ok' : totals.successRate >= 0.85 ? 'warn' : 'bad'}
          sub={
            totals.successRate === null
              ? t('console.tile.success.none')
              : t('console.tile.success.sub', { connected: totals.connected, tried: totals.connected + totals.iceFailed })
          }
        />
        <Tile
          label={t('console.tile.match')}
          testId="tile-match"
          value={<P50 v={data.timeToMatchMs.p50} />}
          sub={t('console.tile.match.sub', { p95: ms(t, data.timeToMatchMs.p95), n: data.timeToMatchMs.count })}
        />
        <Tile
          label={t('console.tile.connect')}
          testId="tile-connect"
          value={<P50 v={data.timeToConnectMs.p50} />}
          sub={t('console.tile.connect.sub', { p95: ms(t, data.timeToConnectMs.p95), n: data.timeToConnectMs.count })}
        />
        <Tile
          label={t('console.tile.overBudget')}
          testId="tile-over-budget"
          value={count(t, data.callQuality.overBudget)}
          tone={share(data.callQuality.overBudget, measured, 0.05, 0.01)}
          sub={t('console.tile.overBudget.sub', { n: measured })}
        />
        <Tile
          label={t('console.tile.brokenAudio')}
          testId="tile-broken-audio"
          value={count(t, data.callQuality.brokenAudio)}
          tone={share(data.callQuality.brokenAudio, measured, 0.05, 0.01)}
          sub={t('console.tile.brokenAudio.sub', { n: measured })}
        />
        <Tile
          label={t('console.tile.relay')}
          testId="tile-relay"
          value={pct(t, totals.relayShare)}
          sub={
            relayedCalls === null
              ? t('console.tile.relay.none')
              : t('console.tile.relay.sub', { relayed: relayedCalls, n: totals.connected })
          }
        />
      </section>

      {totals.calls === 0 ? (
        <div className="card">
          <EmptyState text={t('console.chart.noCalls')} detail={t('console.insights.emptyDetail')} />
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
        title={t('console.funnel.title')}
        hint={t('console.funnel.hint')}
        empty={funnelHasData ? null : t('console.funnel.empty')}
        className="wide"
      >
        <Funnel t={t} funnel={data.funnel} />
      </Card>

      {totals.calls > 0 && (
        <Card
          title={t('console.worst.title')}
          hint={t('console.worst.hint')}
          empty={
            data.worstCalls.length === 0 ? (totals.connected === 0 ? t('console.worst.noConnected') : t('console.worst.noQuality')) : null
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
  const t = useConsoleText();
  return (
    <>
      {ms(t, v)}
      {v !== null && <small className="unit">p50</small>}
    </>
  );
}

function Funnel({ t, funnel }: { t: T; funnel: InsightsResponse['funnel'] }) {
  const days = [...funnel].sort((a, b) => b.day.localeCompare(a.day));
  return (
    <TableScroll label={t('console.funnel.title')}>
      <table className="table funnel" data-testid="funnel">
        <caption className="sr-only">{t('console.funnel.hint')}</caption>
        <TableHead columns={[t('console.funnel.day'), ...FUNNEL_STEPS.map((s) => ({ label: t(FUNNEL_LABELS[s]), num: true }))]} />
        <tbody>
          {days.map((d) => {
            const top = d.steps[FUNNEL_STEPS[0]];
            return (
              <tr key={d.day}>
                <th scope="row">{dayLabel(t, d.day)}</th>
                {FUNNEL_STEPS.map((s, i) => (
                  <td key={s} className="num">
                    {count(t, d.steps[s])}
                    {i > 0 && <small className="muted">{top > 0 ? pct(t, d.steps[s] / top, 0) : '—'}</small>}
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
    </TableScroll>
  );
}
