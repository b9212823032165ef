import type { InsightsResponse } from '@duet/protocol';
import { dateTime, duration, ms, pathKind, pct, reasonLabel } from './format.js';
import { TableHead } from './parts.js';

type Row = InsightsResponse['worstCalls'][number];

/** The worst connected calls; a row opens that call's detail. */
export function WorstCalls({ calls, onOpen }: { calls: Row[]; onOpen: (id: string) => void }) {
  return (
    <div className="table-wrap">
      <table className="table calls" data-testid="worst-calls">
        <TableHead
          columns={[
            {
              label: 'Penalty',
              num: true,
              title:
                'Higher is worse: a point per 100 ms of delay or of RTT, per 5 % of loss, per second of frozen video, per 1 % of concealed voice',
            },
            'Started',
            { label: 'Length', num: true },
            { label: 'RTT p50', num: true },
            { label: 'Delay p50', num: true, title: 'Estimated camera→screen delay (network + jitter buffer + decode); budget 500 ms' },
            { label: 'Voice lost', num: true, title: 'Concealed audio in the worst 10 s; over 5 % is broken audio' },
            { label: 'Loss max', num: true },
            { label: 'Freezes', num: true },
            'Path',
            'Ended',
          ]}
        />
        <tbody>
          {calls.map((c) => {
            const kind = pathKind(c);
            return (
              <tr key={c.id} className="clickable" data-call-id={c.id} onClick={() => onOpen(c.id)}>
                <td className={`num ${tone(c.score, 3, 1)}`}>
                  {/* The row's one focusable control, so keyboard users can open it too. */}
                  <button className="link score" onClick={(e) => (e.stopPropagation(), onOpen(c.id))} aria-label={`Open call ${c.id}`}>
                    {formatScore(c.score)}
                  </button>
                </td>
                <td>{dateTime(c.matchedAt)}</td>
                <td className="num">{duration(c.durationMs)}</td>
                <td className={`num ${tone(c.quality.rttMsP50, 300, 150)}`}>{ms(c.quality.rttMsP50)}</td>
                <td className={`num ${tone(c.quality.estDelayMsP50, 500, 300)}`}>{ms(c.quality.estDelayMsP50)}</td>
                <td className={`num ${tone(c.quality.audioConcealmentMax, 0.05, 0.01)}`}>{pct(c.quality.audioConcealmentMax)}</td>
                <td className={`num ${tone(c.quality.packetLossMax, 0.1, 0.03)}`}>{pct(c.quality.packetLossMax)}</td>
                <td className={`num ${tone(c.quality.freezeMs, 5000, 1000)}`}>
                  {c.quality.freezeMs === null ? '—' : ms(c.quality.freezeMs)}
                </td>
                <td>
                  <span className={`tag ${kind === 'Relayed' ? 'relay' : kind === 'Direct' ? 'direct' : ''}`}>{kind}</span>
                </td>
                <td>{reasonLabel(c.endReason)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function formatScore(score: number): string {
  return score >= 100 ? score.toFixed(0) : score.toFixed(score >= 10 ? 1 : 2);
}

/** Colours a value that is bad (≥ bad) or worth a look (≥ meh). */
function tone(v: number | null, bad: number, meh: number): string {
  if (v === null) return '';
  return v >= bad ? 'bad' : v >= meh ? 'meh' : '';
}
