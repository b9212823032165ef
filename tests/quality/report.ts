/** Markdown rows of the bad-network table, as docs/quality.md quotes them. */
import type { QualityResult } from './lab.js';

const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
const ms = (v: number | null) => (v === null ? '—' : `${Math.round(v)}`);

export const HEADER =
  '| network (end to end) | load | video glass-to-glass p50 a / b (ms) | p95 a / b (ms) | video rVFC p50 a / b (ms) | rVFC p95 a / b (ms) | audio measured p50 a / b (ms) | audio p95 a / b (ms) | audio delay est. (ms) | audio concealed | longest audio gap (ms) | video (median fps, heights) | freezes | video paused | adapt / back |\n' +
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|';

export function row(r: QualityResult): string {
  const { a, b } = r;
  const adapt =
    a.adaptS === null && a.recoverS === null && b.adaptS === null && b.recoverS === null
      ? ''
      : `adapt ${a.adaptS ?? '—'} / ${b.adaptS ?? '—'} s, back ${a.recoverS ?? '—'} / ${b.recoverS ?? '—'} s`;
  return `| ${[
    r.name,
    `${Math.round(r.load[0] * 10) / 10}`,
    `${ms(a.glass?.videoP50 ?? null)} / ${ms(b.glass?.videoP50 ?? null)}`,
    `${ms(a.glass?.videoP95 ?? null)} / ${ms(b.glass?.videoP95 ?? null)}`,
    `${ms(a.delayP50)} / ${ms(b.delayP50)}`,
    `${ms(a.delayP95)} / ${ms(b.delayP95)}`,
    `${ms(a.glass?.audioP50 ?? null)} / ${ms(b.glass?.audioP50 ?? null)}`,
    `${ms(a.glass?.audioP95 ?? null)} / ${ms(b.glass?.audioP95 ?? null)}`,
    `${ms(a.audioDelayEstMs)} / ${ms(b.audioDelayEstMs)}`,
    `${pct(a.concealment)} / ${pct(b.concealment)}`,
    `${Math.round(a.longestGapMs)} / ${Math.round(b.longestGapMs)}`,
    `${a.fpsMedian} / ${b.fpsMedian} fps, ${a.heights} / ${b.heights}`,
    `${a.freezes} / ${b.freezes}`,
    `${(a.pausedMs / 1000).toFixed(1)} / ${(b.pausedMs / 1000).toFixed(1)} s`,
    adapt,
  ].join(' | ')} |`;
}
