/**
 * Summarizes a V8 CPU profile (`node --cpu-prof`): the functions with the most self time, and the
 * ones with the most total time (self plus callees).
 *
 *   npx tsx bench/profile-summary.ts FILE.cpuprofile [--top=15] [--by-library]
 *
 * `--by-library` adds where the busy time goes by owner: each sample counts for the nearest frame
 * on its stack that belongs to a package (node_modules) or to the server's own modules, skipping
 * Node's internals; idle is left out.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { arg, flag } from './lib/machine.js';
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

// The owner of a frame: a package, one of the server's modules, or nothing (Node's internals, natives).
const owner = (n: Node): string | undefined => {
  const url = n.callFrame.url;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  const own = /packages\/server\/(?:dist|src)\/(.*)$/.exec(url);
  if (own) return `server: ${own[1]}`;
  return undefined;
};
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
if (flag('by-library')) {
  const byLibrary = new Map<string, number>();
  let busy = 0;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i + 1] ?? 0;
    const leaf = byId.get(id)!;
    if (leaf.callFrame.functionName === '(idle)') return;
    busy += dt;
    let who: string | undefined;
    for (let cur: number | undefined = id; cur !== undefined && !who; cur = parent.get(cur)) who = owner(byId.get(cur)!);
    who ??= leaf.callFrame.url ? 'node internals' : leaf.callFrame.functionName;
    byLibrary.set(who, (byLibrary.get(who) ?? 0) + dt);
  });
  out();
  out(`By owner (busy time ${fmt(busy / 1000)} ms, idle left out):`);
  out(
    table(
      ['owner', 'ms', 'share of busy'],
      [...byLibrary]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([name, us]) => [name, fmt(us / 1000), `${fmt((100 * us) / busy, 1)} %`]),
    ),
  );
}
