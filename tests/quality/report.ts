/** Markdown rows of the bad-network table, as docs/quality.md quotes them. */
import type { QualityResult } from './lab.js';

const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
const ms = (v: number | null) => (v === null ? '—' : `${Math.round(v)}`);

export const HEADER =
  '| network (end to end) | load | video delay p50 a / b (ms) | p95 a / b (ms) | audio delay est. (ms) | audio concealed | longest audio gap (ms) | video (median fps, heights) | freezes | video paused | adapt / back; start (from the first frame) |\n' +
  '|---|---|---|---|---|---|---|---|---|---|---|';

export function row(r: QualityResult): string {
  const { a, b } = r;
  const capped =
    a.adaptS === null && a.recoverS === null && b.adaptS === null && b.recoverS === null
      ? ''
      : `adapt ${a.adaptS ?? '—'} / ${b.adaptS ?? '—'} s, back ${a.recoverS ?? '—'} / ${b.recoverS ?? '—'} s`;
  const s = (x: number | null | undefined) => (x === null || x === undefined ? '—' : `${x}`);
  const start =
    a.start && b.start ? `240p ${s(a.start.to240S)} / ${s(b.start.to240S)} s, 480p ${s(a.start.to480S)} / ${s(b.start.to480S)} s` : '';
  const adapt = [capped, start].filter(Boolean).join('; ');
  return `| ${[
    r.name,
    `${Math.round(r.load[0] * 10) / 10}`,
    `${ms(a.delayP50)} / ${ms(b.delayP50)}`,
    `${ms(a.delayP95)} / ${ms(b.delayP95)}`,
    `${ms(a.audioDelayEstMs)} / ${ms(b.audioDelayEstMs)}`,
    `${pct(a.concealment)} / ${pct(b.concealment)}`,
    `${Math.round(a.longestGapMs)} / ${Math.round(b.longestGapMs)}`,
    `${a.fpsMedian} / ${b.fpsMedian} fps, ${a.heights} / ${b.heights}`,
    `${a.freezes} / ${b.freezes}`,
    `${(a.pausedMs / 1000).toFixed(1)} / ${(b.pausedMs / 1000).toFixed(1)} s`,
    adapt,
  ].join(' | ')} |`;
}

/** Glass-to-glass, measured from the clips (glass.ts), beside the figures it checks. */
export const GLASS_HEADER =
  '| network (end to end) | load | video measured p50 a / b (ms) | p95 a / b (ms) | video rVFC p50 a / b (ms) | rVFC p95 a / b (ms) | audio measured p50 a / b (ms) | audio p95 a / b (ms) | audio est. a / b (ms) | frames matched | tone bursts heard / sent |\n' +
  '|---|---|---|---|---|---|---|---|---|---|---|';

export function glassRow(r: QualityResult): string {
  const { a, b } = r;
  const pair = (x: number | null | undefined, y: number | null | undefined) => `${ms(x ?? null)} / ${ms(y ?? null)}`;
  return `| ${[
    r.name,
    `${Math.round(r.load[0] * 10) / 10}`,
    pair(a.glass?.videoP50, b.glass?.videoP50),
    pair(a.glass?.videoP95, b.glass?.videoP95),
    pair(a.delayP50, b.delayP50),
    pair(a.delayP95, b.delayP95),
    pair(a.glass?.audioP50, b.glass?.audioP50),
    pair(a.glass?.audioP95, b.glass?.audioP95),
    pair(a.audioDelayEstMs, b.audioDelayEstMs),
    `${a.glass?.videoMatched ?? 0}/${a.glass?.videoFrames ?? 0} / ${b.glass?.videoMatched ?? 0}/${b.glass?.videoFrames ?? 0}`,
    `${a.glass?.tonesHeard ?? 0}/${a.glass?.tonesSent ?? 0} / ${b.glass?.tonesHeard ?? 0}/${b.glass?.tonesSent ?? 0}`,
  ].join(' | ')} |`;
}
