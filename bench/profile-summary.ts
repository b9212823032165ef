/**
 * Summarizes a V8 CPU profile (`node --cpu-prof`): the functions with the most self time, and the
 * ones with the most total time (self plus callees).
 *
 *   npx tsx bench/profile-summary.ts FILE.cpuprofile [--top=15]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { arg } from './lib/machine.js';
import { fmt, out, table } from './lib/stats.js';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const file = process.argv.slice(2).find((a) => !a.startsWith('--'));
if (!file) throw new Error('usage: profile-summary FILE.cpuprofile');
const top = Number(arg('top', '15'));
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;

const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const label = (n: Node) => {
  const { functionName, url, lineNumber } = n.callFrame;
  const where = url ? `${path.basename(url.replace(/^file:\/\//, ''))}:${lineNumber + 1}` : '';
  return `${functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
};

// Time per sample: the delta to the next sample.
const self = new Map<string, number>();
const total = new Map<string, number>();
let all = 0;
p.samples.forEach((id, i) => {
  const dt = p.timeDeltas[i + 1] ?? 0;
  all += dt;
  const n = byId.get(id)!;
  self.set(label(n), (self.get(label(n)) ?? 0) + dt);
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const l = label(byId.get(cur)!);
    if (seen.has(l)) continue;
    seen.add(l);
    total.set(l, (total.get(l) ?? 0) + dt);
  }
});

const rows = (m: Map<string, number>) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => [name, fmt(us / 1000), `${fmt((100 * us) / all, 1)} %`]);
out(`${file}: ${fmt(all / 1000)} ms sampled`);
out();
out('Self time:');
out(table(['function', 'ms', 'share'], rows(self)));
out();
out('Total time (self + callees):');
out(table(['function', 'ms', 'share'], rows(total)));
