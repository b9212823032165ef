import type { InsightsResponse } from '@duet/protocol';
import { useConsoleText } from '../i18n/index.js';
import { dateTime, duration, ms, num, pathKind, pathTag, pct, reasonLabel, type T } from './format.js';
import { TableHead, TableScroll } from './parts.js';

type Row = InsightsResponse['worstCalls'][number];

/** The worst connected calls; a row opens that call's detail. */
export function WorstCalls({ calls, onOpen }: { calls: Row[]; onOpen: (id: string) => void }) {
  const t = useConsoleText();
  return (
    <TableScroll label={t('console.worst.title')}>
      <table className="table calls" data-testid="worst-calls">
        <TableHead
          columns={[
            { label: t('console.worst.penalty'), num: true, title: t('console.worst.penaltyHint') },
            t('console.worst.started'),
            { label: t('console.worst.length'), num: true },
            { label: t('console.call.rtt'), num: true },
            { label: t('console.worst.delay'), num: true, title: t('console.worst.delayHint') },
            { label: t('console.worst.voiceLost'), num: true, title: t('console.worst.voiceLostHint') },
            { label: t('console.call.lossMax'), num: true },
            { label: t('console.worst.freezes'), num: true },
            t('console.worst.path'),
            t('console.worst.ended'),
          ]}
        />
        <tbody>
          {calls.map((c) => {
            const kind = pathTag(t, pathKind(c));
            return (
              <tr key={c.id} className="clickable" data-call-id={c.id} onClick={() => onOpen(c.id)}>
                <td className={`num ${tone(c.score, 3, 1)}`}>
                  {/* The row's one focusable control, so keyboard users can open it too. Named by the
                      number it shows (WCAG 2.5.3: speech users say what they see); what it does is its description. */}
                  <button className="link score" onClick={(e) => (e.stopPropagation(), onOpen(c.id))} aria-describedby={`open-${c.id}`}>
                    {formatScore(t, c.score)}
                  </button>
                  <span id={`open-${c.id}`} hidden>
                    {t('console.worst.open', { score: formatScore(t, c.score), id: c.id })}
                  </span>
                </td>
                <td>{dateTime(t, c.matchedAt)}</td>
                <td className="num">{duration(c.durationMs)}</td>
                <td className={`num ${tone(c.quality.rttMsP50, 300, 150)}`}>{ms(t, c.quality.rttMsP50)}</td>
                <td className={`num ${tone(c.quality.estDelayMsP50, 500, 300)}`}>{ms(t, c.quality.estDelayMsP50)}</td>
                <td className={`num ${tone(c.quality.audioConcealmentMax, 0.05, 0.01)}`}>{pct(t, c.quality.audioConcealmentMax)}</td>
                <td className={`num ${tone(c.quality.packetLossMax, 0.1, 0.03)}`}>{pct(t, c.quality.packetLossMax)}</td>
                <td className={`num ${tone(c.quality.freezeMs, 5000, 1000)}`}>
                  {c.quality.freezeMs === null ? '—' : ms(t, c.quality.freezeMs)}
                </td>
                <td>
                  <span className={`tag ${kind.className}`}>{kind.text}</span>
                </td>
                <td>{reasonLabel(t, c.endReason)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </TableScroll>
  );
}

function formatScore(t: T, score: number): string {
  const digits = score >= 100 ? 0 : score >= 10 ? 1 : 2;
  return num(t, score, { min: digits });
}

/** Colours a value that is bad (≥ bad) or worth a look (≥ meh). */
function tone(v: number | null, bad: number, meh: number): string {
  if (v === null) return '';
  return v >= bad ? 'bad' : v >= meh ? 'meh' : '';
}
