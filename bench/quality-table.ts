/**
 * The BEFORE / AFTER table of docs/quality.md from results files of the bad-network lab (one per
 * round, as bench/quality-ab.sh writes them): every figure is the median over the rounds.
 *   npx tsx bench/quality-table.ts --before test-results/quality-before-r{1,2,3}.json --after test-results/quality-after-r{1,2,3}.json
 *   npx tsx bench/quality-table.ts --seconds test-results/quality-after-r1.json capdrop
 * One row per scenario and build; figures are "receiver a / receiver b".
 */
import fs from 'node:fs';
import type { DirectionResult, QualityResult } from '../tests/quality/lab.js';
import { row } from '../tests/quality/report.js';
import { SCENARIOS } from '../tests/quality/scenarios.js';

/**
 * `--seconds FILE ID`: instead, one scenario's call second by second from each sender's side — what
 * its proxy's uplink was offered and held, what the browser says it sent (the candidate pair, video
 * payload and how much of it retransmitted, audio), its estimate and the policy's tier and round
 * trip, and what the partner heard (concealment, audio jitter buffer). How the cap drop was traced.
 */
if (process.argv[2] === '--seconds') {
  const [file, id] = process.argv.slice(3);
  const r = (JSON.parse(fs.readFileSync(file!, 'utf8')) as QualityResult[]).find((x) => x.id === id);
  if (!r) throw new Error(`no ${id} in ${file}`);
  for (const side of ['a', 'b'] as const) {
    const other = side === 'a' ? 'b' : 'a';
    const policy = r.policy[side] as Array<{ s: number; tier?: number; rttMs?: number | null }>;
    const proxy = r.proxySeconds[side] as Array<{ up: { kbps: number; queueMs: number } }>;
    process.stdout.write(`\n${side} sending (load ${r.load.join('–')})\n`);
    process.stdout.write(
      '| s | uplink offered kbps | queue ms | pair kbps | video kbps | of it retransmitted | NACKs/s | audio kbps | estimate kbps | tier | round trip ms | partner: voice concealed | jitter buffer ms |\n',
    );
    process.stdout.write('|---|---|---|---|---|---|---|---|---|---|---|---|---|\n');
    r[side].windows.forEach((w, s) => {
      const x = w.sent;
      const p = policy.find((q) => q.s >= s && q.s < s + 1);
      const heard = r[other].windows[s];
      const cells: Array<number | string | null | undefined> = [
        s,
        proxy[s]?.up.kbps,
        proxy[s]?.up.queueMs,
        x?.pair,
        x?.video,
        x?.videoRtx,
        x?.videoNacks,
        x?.audio,
        x?.available,
        p?.tier,
        p?.rttMs === null || p?.rttMs === undefined ? null : Math.round(p.rttMs),
      ];
      cells.push(heard ? `${(heard.concealment * 100).toFixed(1)} %` : null, heard?.audioJbMs ?? null);
      process.stdout.write(`| ${cells.map((c) => (c === null || c === undefined ? '—' : String(c))).join(' | ')} |\n`);
    });
  }
  process.exit(0);
}

const files: Record<'before' | 'after', string[]> = { before: [], after: [] };
let into: 'before' | 'after' | null = null;
for (const a of process.argv.slice(2)) {
  if (a === '--before' || a === '--after') into = a.slice(2) as 'before' | 'after';
  else if (into) files[into].push(a);
}
if (files.before.length === 0 || files.after.length === 0) throw new Error('usage: quality-table.ts --before F… --after F…');
const read = (list: string[]) => list.flatMap((f) => (fs.existsSync(f) ? (JSON.parse(fs.readFileSync(f, 'utf8')) as QualityResult[]) : []));

/** The median; of an even count, the mean of the middle two. */
const med = (v: Array<number | null>): number | null => {
  const xs = v.filter((x): x is number => x !== null).sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const mid = xs.length / 2;
  return xs.length % 2 === 1 ? xs[Math.floor(mid)]! : (xs[mid - 1]! + xs[mid]!) / 2;
};

/** One result whose every figure is the median over the rounds (heights: the range over all rounds). */
function combine(runs: QualityResult[]): QualityResult {
  const side = (k: 'a' | 'b'): DirectionResult => {
    const d = runs.map((r) => r[k]);
    const heights = d.flatMap((x) => x.windows.filter((w) => w.fps > 0).map((w) => w.height));
    const lo = heights.length ? Math.min(...heights) : 0;
    const hi = heights.length ? Math.max(...heights) : 0;
    const m = (f: (x: DirectionResult) => number | null) => med(d.map(f));
    return {
      ...d[0]!,
      delayP50: m((x) => x.delayP50),
      delayP95: m((x) => x.delayP95),
      audioDelayEstMs: m((x) => x.audioDelayEstMs),
      concealment: m((x) => x.concealment) ?? 0,
      longestGapMs: m((x) => x.longestGapMs) ?? 0,
      fpsMedian: m((x) => x.fpsMedian) ?? 0,
      freezes: m((x) => x.freezes) ?? 0,
      pausedMs: m((x) => x.pausedMs) ?? 0,
      adaptS: m((x) => x.adaptS),
      recoverS: m((x) => x.recoverS),
      heights: heights.length === 0 ? '—' : lo === hi ? `${lo}p` : `${lo}–${hi}p`,
    };
  };
  return { ...runs[0]!, load: [med(runs.map((r) => r.load[0])) ?? 0, 0], a: side('a'), b: side('b') };
}

const before = read(files.before);
const after = read(files.after);
const lines: string[] = [];
lines.push(
  '| network (end to end) | build (rounds) | load | video delay p50 a / b (ms) | p95 a / b (ms) | audio delay est. (ms) | audio concealed | longest audio gap (ms) | video (median fps, heights) | freezes | video paused | adapt / back |',
);
lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const s of SCENARIOS) {
  for (const [label, list] of [
    ['before', before],
    ['after', after],
  ] as const) {
    const runs = list.filter((x) => x.id === s.id);
    if (runs.length === 0) continue;
    // row() starts with "| name | load |": put the build between them.
    const cells = row(combine(runs)).split(' | ');
    cells.splice(1, 0, `${label} (${runs.length})`);
    if (label === 'after') cells[0] = '| ↳';
    lines.push(cells.join(' | '));
  }
}
process.stdout.write(`${lines.join('\n')}\n`);
