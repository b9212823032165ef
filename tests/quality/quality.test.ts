/**
 * The bad-network lab (tests/quality/lab.ts): relay-only calls between two real Chromiums through
 * the managed coturn, with a UDP impairment proxy on each side. In CI a subset (CI_SCENARIOS) runs
 * with the targets as assertions; `npm run lab:quality` runs the whole table (QUALITY_SCENARIOS=all),
 * QUALITY_BUILD names the results file, QUALITY_WEB_DIR / QUALITY_SERVER_MAIN pick other builds of
 * the web app and the server (e.g. main's, for the BEFORE column), QUALITY_SCREENSHOTS=<dir> saves
 * what both pages show at the end of each scenario at desktop and phone sizes.
 * Needs root, iptables, coturn and Chromium, like the NAT lab.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../netlab/lab.js';
import { runQualityScenario, type QualityResult } from './lab.js';
import { GLASS_HEADER, glassRow, HEADER, row } from './report.js';
import { CI_SCENARIOS, SCENARIOS } from './scenarios.js';

const wanted = process.env.QUALITY_SCENARIOS ?? CI_SCENARIOS.join(',');
const ids = wanted === 'all' ? SCENARIOS.map((s) => s.id) : wanted.split(',').map((s) => s.trim());
const build = process.env.QUALITY_BUILD ?? 'ci';
const webDir = process.env.QUALITY_WEB_DIR;
const serverMain = process.env.QUALITY_SERVER_MAIN;
const screenshots = process.env.QUALITY_SCREENSHOTS;
/** Assert the targets (off when measuring main's build for the BEFORE column). */
const assertTargets = process.env.QUALITY_ASSERT !== '0';
const results: QualityResult[] = [];
const out = path.join(ROOT, 'test-results', `quality-${build}`);

afterAll(() => {
  // Merged into what earlier runs of this build wrote: the table can be filled a scenario at a time.
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const earlier = fs.existsSync(`${out}.json`) ? (JSON.parse(fs.readFileSync(`${out}.json`, 'utf8')) as QualityResult[]) : [];
  const all = [...earlier.filter((r) => !results.some((x) => x.id === r.id)), ...results];
  all.sort((x, y) => SCENARIOS.findIndex((s) => s.id === x.id) - SCENARIOS.findIndex((s) => s.id === y.id));
  fs.writeFileSync(`${out}.json`, JSON.stringify(all, null, 1));
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`;
  const tables = `${HEADER}\n${all.map(row).join('\n')}\n\n${GLASS_HEADER}\n${all.map(glassRow).join('\n')}\n`;
  fs.writeFileSync(`${out}.md`, `build: ${build}; machine: ${machine}\n\n${tables}`);
});

/** The lab measures networks, not a CPU still busy with what ran before it (the NAT lab in CI). */
const SETTLED_LOAD = 3;
/** QUALITY_SETTLE_WAIT_S=0 skips the wait: repeated A/B rounds on a busy machine note the load instead. */
const SETTLE_WAIT_MS = Number(process.env.QUALITY_SETTLE_WAIT_S ?? 90) * 1000;

beforeAll(async () => {
  const started = Date.now();
  while (os.loadavg()[0]! >= SETTLED_LOAD && Date.now() - started < SETTLE_WAIT_MS) await new Promise((r) => setTimeout(r, 2000));
  console.log(
    `[quality] 1-minute load ${os.loadavg()[0]!.toFixed(1)} after waiting ${Math.round((Date.now() - started) / 1000)} s for it to settle`,
  );
}, SETTLE_WAIT_MS + 10_000);

describe('bad-network lab', () => {
  for (const s of SCENARIOS.filter((x) => ids.includes(x.id))) {
    it(s.name, async () => {
      const r = await runQualityScenario(s, {
        ...(webDir ? { webDir } : {}),
        ...(serverMain ? { serverMain } : {}),
        ...(screenshots ? { screenshots } : {}),
        build,
      });
      results.push(r);
      console.log(glassRow(r));
      console.log(`${row(r)}  levels ${r.levels.a.join(',')} / ${r.levels.b.join(',')}, codec ${r.a.audioCodec}`);
      // Media flowed both ways in every scenario.
      expect(r.a.frames + r.a.pausedMs).toBeGreaterThan(0);
      expect(r.b.frames + r.b.pausedMs).toBeGreaterThan(0);
      if (!assertTargets) return;
      expect(r.audioSettings).toEqual({ echoCancellation: true, noiseSuppression: true, autoGainControl: true });
      // Asserted: the targets the lab meets run after run. On a clean link that is the half-second
      // budget: the 150 ms target is a measurement (docs/quality.md), not an assertion — the lab's
      // first call on a quiet machine here ranged from 62 to 254 ms p95 in six runs (this build and the
      // one before it, alike). Recovery ≤ 10 s and the 300 ms gap after a cap drop are measured in
      // docs/quality.md and missed there, so not asserted either.
      for (const d of [r.a, r.b]) {
        if (s.id === 'clean') {
          expect(d.delayP95).not.toBeNull();
          expect(d.delayP95!).toBeLessThan(500);
          // The clips read back on both sides: glass-to-glass is measured (its figures, like the
          // delay's 150 ms target, are docs/quality.md's, not assertions).
          expect(d.glass?.videoMatched).toBeGreaterThan(0);
          expect(d.glass?.tonesHeard).toBeGreaterThan(0);
        }
        if (['loss10', 'cap150'].includes(s.id)) {
          expect(d.concealment).toBeLessThan(0.05);
          expect(d.longestGapMs).toBeLessThanOrEqual(300);
        }
        if (s.id === 'capdrop') {
          // The voice through a cap drop: 0.3–2.4 % concealed since a pause stops the retransmissions
          // (session 7, five calls at loads 4–9); up to 7.1 % before, and 8.7 % once in CI (docs/quality.md).
          expect(d.concealment).toBeLessThan(0.08);
          expect(d.adaptS).not.toBeNull();
          expect(d.adaptS!).toBeLessThanOrEqual(5);
        }
      }
      // Every call shows a quality level on both pages.
      expect(r.levels.a.some((l) => ['good', 'fair', 'poor'].includes(l))).toBe(true);
      expect(r.levels.b.some((l) => ['good', 'fair', 'poor'].includes(l))).toBe(true);
    });
  }
});
