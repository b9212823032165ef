import type { ConnectionInfo as Info } from '@duet/client';
import { useEffect, useState } from 'react';
import { useAppText } from '../i18n/index.js';
import type { AppText } from '../messages.js';

const POLL_MS = 2000;

/**
 * A small "how is my connection" panel for the person in a call: the path the media takes and
 * how fast it is. Closed by default; while open it asks the SDK for fresh numbers every 2 s.
 */
export function ConnectionInfo({ callId, getInfo }: { callId: string; getInfo: () => Promise<Info | null> }) {
  const t = useAppText();
  const [open, setOpen] = useState(false);
  const [info, setInfo] = useState<Info | null>(null);

  useEffect(() => {
    if (!open) return;
    let cancelled = false;
    const poll = () =>
      // Through a promise, so even a synchronous throw only blanks the numbers.
      Promise.resolve()
        .then(getInfo)
        .then(
          (i) => !cancelled && setInfo(i),
          () => !cancelled && setInfo(null),
        );
    void poll();
    const timer = setInterval(poll, POLL_MS);
    return () => {
      cancelled = true;
      clearInterval(timer);
    };
  }, [open, getInfo, callId]);

  // A new call starts with no numbers rather than the last call's.
  useEffect(() => setInfo(null), [callId]);

  return (
    <div className="conn">
      <button
        className={`conn-toggle ${open ? 'on' : ''}`}
        data-testid="connection-info-toggle"
        aria-expanded={open}
        aria-controls="connection-info"
        onClick={() => setOpen((o) => !o)}
        type="button"
        title={open ? t('app.conn.hide') : t('app.conn.show')}
      >
        <SignalIcon />
        <span className="conn-toggle-label">{t('app.conn.toggle')}</span>
      </button>
      {open && (
        <dl className="conn-panel" id="connection-info" data-testid="connection-info" aria-live="off">
          <Row k={t('app.conn.path')} v={pathLabel(t, info)} testId="conn-path" />
          <Row k={t('app.conn.rtt')} v={msLabel(t, info?.rttMs)} testId="conn-rtt" />
          <Row k={t('app.conn.delay')} v={msLabel(t, info?.estDelayMs)} testId="conn-delay" />
          <Row k={t('app.conn.in')} v={rateLabel(t, info?.inboundKbps)} testId="conn-in" />
          <Row k={t('app.conn.out')} v={rateLabel(t, info?.outboundKbps)} testId="conn-out" />
        </dl>
      )}
    </div>
  );
}

function Row({ k, v, testId }: { k: string; v: string; testId: string }) {
  return (
    <div className="conn-row">
      <dt>{k}</dt>
      <dd data-testid={testId}>{v}</dd>
    </div>
  );
}

function pathLabel(t: AppText, info: Info | null): string {
  if (!info?.path) return t('app.conn.measuring');
  if (!info.relayed) return t('app.conn.direct');
  const via = info.path.relayProtocol ?? info.path.protocol;
  return t('app.conn.relayed', { via: via.toUpperCase() });
}

function msLabel(t: AppText, v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : t('app.conn.ms', { n: Math.round(v) });
}

function rateLabel(t: AppText, kbps: number | null | undefined): string {
  if (kbps === null || kbps === undefined) return '—';
  return kbps >= 1000
    ? t('app.conn.mbps', { n: t.intl.formatNumber(kbps / 1000, { minimumFractionDigits: 1, maximumFractionDigits: 1 }) })
    : t('app.conn.kbps', { n: Math.round(kbps) });
}

function SignalIcon() {
  return (
    <svg className="conn-icon" viewBox="0 0 16 16" aria-hidden="true">
      <rect x="1" y="10" width="3" height="5" rx="1" />
      <rect x="6.5" y="6" width="3" height="9" rx="1" />
      <rect x="12" y="2" width="3" height="13" rx="1" />
    </svg>
  );
}
