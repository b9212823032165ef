/**
 * axe-core in the page: the accessibility checks of the a11y and keyboard e2e tests. The engine is
 * read from node_modules and evaluated in the page (no network), then run over the whole document.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export type Impact = 'minor' | 'moderate' | 'serious' | 'critical';

export interface Violation {
  id: string;
  impact: Impact | null;
  help: string;
  helpUrl: string;
  nodes: Array<{ target: string[]; failureSummary?: string }>;
}

/** Runs axe over the page as it is now and returns its violations (every impact). */
export async function runAxe(page: Page): Promise<Violation[]> {
  // Evaluated through the DevTools protocol: the page's Content-Security-Policy forbids inline scripts.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, o: object) => Promise<{ violations: Violation[] }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target.map(String), failureSummary: n.failureSummary })),
    }));
  });
}

/** Serious and critical: what must be zero. */
export function severe(violations: Violation[]): Violation[] {
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Violations (rules) by impact, and the failing elements (nodes) behind them. */
export function countByImpact(violations: Violation[]): Record<Impact, { rules: number; nodes: number }> {
  const counts: Record<Impact, { rules: number; nodes: number }> = {
    minor: { rules: 0, nodes: 0 },
    moderate: { rules: 0, nodes: 0 },
    serious: { rules: 0, nodes: 0 },
    critical: { rules: 0, nodes: 0 },
  };
  for (const v of violations) {
    const c = counts[v.impact ?? 'minor'];
    c.rules++;
    c.nodes += v.nodes.length;
  }
  return counts;
}

/** One readable line per failing element: rule, impact, where, and what axe says to do. */
export function describeViolations(violations: Violation[]): string {
  return violations
    .flatMap((v) =>
      v.nodes.map(
        (n) =>
          `  [${v.impact}] ${v.id} at ${n.target.join(' ')}: ${v.help}${n.failureSummary ? ` — ${n.failureSummary.replace(/\s+/g, ' ')}` : ''}`,
      ),
    )
    .join('\n');
}
