/**
 * Accessibility and phone layout of every screen, app and console, in English and in Arabic (right
 * to left): axe-core in real Chromium finds no serious or critical violation at desktop and phone
 * size, nothing scrolls sideways at 360 px or in landscape (844×390), and the main actions are
 * touch targets of at least 44 px on a phone. Each screen is saved as
 * test-results/a11y-<screen>-<lang>-<desktop|phone>.png (and -landscape, 844×390).
 *
 * Measuring another build (the figures in docs/accessibility.md): A11Y_WEB_DIR=<a built apps/web/dist>
 * serves that build, A11Y_REPORT_ONLY=1 records without failing, and the counts per screen are
 * written to test-results/a11y-counts-<A11Y_LABEL or "current">.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { countByImpact, describeViolations, runAxe, severe, type Impact } from './axe.js';
import {
  DESKTOP,
  finish,
  getReady,
  PHONE,
  RESULTS_DIR,
  screenshot,
  signInAsStaff,
  status,
  useDuet,
  waitForState,
  type Viewport,
} from './harness.js';

const ADMIN_EMAIL = 'admin@example.test';
const ADMIN_PASSWORD = 'correct-horse-battery';
const ADMIN_TOKEN = 'e2e-a11y-admin-token-0123456789';
const NARROW: Viewport = { width: 360, height: 740 };
const LANDSCAPE: Viewport = { width: 844, height: 390 };
const REPORT_ONLY = process.env.A11Y_REPORT_ONLY === '1';
const LABEL = process.env.A11Y_LABEL ?? 'current';
/** Ten screens, each judged and photographed at four sizes: minutes on a busy two-core machine. */
const SLOW = 300_000;

const duet = useDuet({
  env: {
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    ADMIN_TOKEN,
    // Priced calls: the wallet, the meter and the history drawer are screens too.
    PRICE_PER_MINUTE: '1',
    WELCOME_CREDITS: '5',
    WELCOME_PER_ADDRESS_PER_DAY: '1000', // everyone here comes from 127.0.0.1
    BILLING_ROUNDING: 'second',
    // The two people of this file meet more than once.
    MATCH_RECENT_PARTNERS: '0',
    ...(process.env.A11Y_WEB_DIR ? { WEB_DIR: process.env.A11Y_WEB_DIR } : {}),
  },
});

type Counts = Record<Impact, { rules: number; nodes: number }> & { rules: string[] };
/** screen → lang → size → counts. */
const measured: Record<string, Record<string, Record<string, Counts>>> = {};
const failures: string[] = [];
/** Every problem of every test, written beside the counts. */
const allFailures: string[] = [];

afterAll(() => {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  fs.writeFileSync(path.join(RESULTS_DIR, `a11y-counts-${LABEL}.json`), `${JSON.stringify(measured, null, 2)}\n`);
  fs.writeFileSync(path.join(RESULTS_DIR, `a11y-problems-${LABEL}.txt`), `${allFailures.join('\n')}\n`);
});

async function resize(page: Page, viewport: Viewport): Promise<void> {
  await page.setViewportSize(viewport);
  // One layout after the resize (and any transition, reduced motion or not).
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  await page.waitForTimeout(100);
}

/**
 * One screen: axe and a screenshot at desktop and phone size, no sideways scroll at 360 px and in
 * landscape; the page is left at desktop size. Serious or critical violations are collected and
 * fail the test at its end, all of them listed.
 */
async function check(page: Page, screen: string, lang: string): Promise<void> {
  const own = page.viewportSize() ?? DESKTOP;
  for (const [size, viewport] of [
    ['desktop', DESKTOP],
    ['phone', PHONE],
  ] as const) {
    await resize(page, viewport);
    const violations = await runAxe(page);
    ((measured[screen] ??= {})[lang] ??= {})[size] = {
      ...countByImpact(violations),
      rules: violations.map((v) => `${v.id} (${v.impact}, ${v.nodes.length})`),
    };
    const bad = severe(violations);
    if (bad.length) failures.push(`${screen} (${lang}, ${size}):\n${describeViolations(bad)}`);
    await screenshot(page, `a11y-${screen}-${lang}-${size}`);
  }
  for (const viewport of [NARROW, LANDSCAPE]) {
    await resize(page, viewport);
    // Charts redraw for the new width on their own schedule (a ResizeObserver, then a frame): on a
    // loaded machine that can take longer than the resize's frame, so the settled width is judged.
    const scrollWidth = () => page.evaluate(() => document.documentElement.scrollWidth);
    let wide = await scrollWidth();
    for (let i = 0; i < 30 && wide > viewport.width; i++) {
      await page.waitForTimeout(100);
      wide = await scrollWidth();
    }
    if (wide > viewport.width)
      failures.push(`${screen} (${lang}): the page is ${wide} px wide at ${viewport.width}×${viewport.height}: ${await overflowing(page)}`);
    if (viewport === LANDSCAPE) await screenshot(page, `a11y-${screen}-${lang}-landscape`);
  }
  await resize(page, own);
}

/** The innermost elements that stick out of the viewport sideways, for the failure message. */
function overflowing(page: Page): Promise<string> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const out = [...document.querySelectorAll('body *')].filter((el) => {
      const r = el.getBoundingClientRect();
      return r.width > 0 && (r.right > width + 0.5 || r.left < -0.5);
    });
    return out
      .filter((el) => !out.some((o) => o !== el && el.contains(o)))
      .slice(0, 5)
      .map((el) => {
        const r = el.getBoundingClientRect();
        return `${el.tagName.toLowerCase()}${el.className && typeof el.className === 'string' ? `.${el.className.trim().split(/\s+/).join('.')}` : ''} [${Math.round(r.left)}, ${Math.round(r.right)}]`;
      })
      .join(', ');
  });
}

/** At phone size, each named control is at least 44×44 px. */
async function expectTouchTargets(page: Page, testIds: string[], lang: string): Promise<void> {
  const own = page.viewportSize() ?? DESKTOP;
  await resize(page, PHONE);
  for (const id of testIds) {
    const box = await page.getByTestId(id).first().boundingBox();
    expect(box, `${id} is on screen`).not.toBeNull();
    if (box!.width < 44 || box!.height < 44)
      failures.push(`touch target ${id} (${lang}) is ${Math.round(box!.width)}×${Math.round(box!.height)} px at phone size`);
  }
  await resize(page, own);
}

function expectNoFailures(): void {
  allFailures.push(...failures);
  if (REPORT_ONLY) return;
  expect(failures, `accessibility problems:\n${failures.join('\n')}`).toEqual([]);
}

describe.each(['en', 'ar'])('accessibility and phone layout in %s', (lang) => {
  const locale = lang === 'en' ? 'en-US' : 'ar';

  it(
    'the app: every screen from the rules to a ban',
    async () => {
      failures.length = 0;
      // The people of the other language have left (closed tabs leave the queue) before these come.
      await expect
        .poll(async () => (await fetch(`${duet.server.url}/healthz`).then((r) => r.json())) as { waiting: number; calls: number }, {
          timeout: 30_000,
        })
        .toMatchObject({ waiting: 0, calls: 0 });
      const alice = await duet.person({ locale, ready: false });
      await alice.page.getByTestId('accept-rules').waitFor();
      if (lang === 'ar') await expect.poll(() => alice.page.evaluate(() => document.documentElement.dir)).toBe('rtl');
      await check(alice.page, 'rules', lang);

      await getReady(alice.page);
      await check(alice.page, 'ready', lang);
      await expectTouchTargets(alice.page, ['start'], lang);

      await alice.page.getByTestId('start').click();
      await waitForState(alice.page, 'waiting');
      await check(alice.page, 'waiting', lang);
      // Reduced motion: the waiting spinner and every transition stand still.
      await alice.page.emulateMedia({ reducedMotion: 'reduce' });
      expect(
        await alice.page.evaluate(
          () => [...document.querySelectorAll('*')].filter((el) => getComputedStyle(el).animationName !== 'none').length,
        ),
      ).toBe(0);
      expect(
        await alice.page
          .getByTestId('start')
          .or(alice.page.getByTestId('next'))
          .first()
          .evaluate((el) => getComputedStyle(el).transitionDuration),
      ).toBe('0s');
      await alice.page.emulateMedia({ reducedMotion: null });

      const bob = await duet.person({ locale });
      await bob.page.getByTestId('start').click();
      await Promise.all([waitForState(alice.page, 'connected'), waitForState(bob.page, 'connected')]);
      await alice.page.getByTestId('chat-input').fill('Hi! Where are you calling from?');
      await alice.page.getByTestId('chat-send').click();
      await bob.page.getByTestId('chat-log').getByText('Where are you calling from').waitFor();
      await bob.page.getByTestId('chat-input').fill('Lisbon, and you?');
      await bob.page.getByTestId('chat-send').click();
      await alice.page.getByTestId('chat-log').getByText('Lisbon').waitFor();
      await alice.page.getByTestId('chat-input').fill('typing');
      await check(alice.page, 'call', lang);
      // Right to left mirrors the call: the brand and the call state at the right, your own picture at the left.
      const half = DESKTOP.width / 2;
      const x = async (selector: string) => {
        const box = await alice.page.locator(selector).first().boundingBox();
        return box!.x + box!.width / 2;
      };
      const sides = {
        brand: (await x('.brand')) > half,
        state: (await x('[data-testid="call-status"]')) > half,
        own: (await x('[data-testid="local-video"]')) > half,
      };
      expect(sides).toEqual(lang === 'ar' ? { brand: true, state: true, own: false } : { brand: false, state: false, own: true });
      await expectTouchTargets(alice.page, ['next', 'stop', 'report', 'block', 'chat-send'], lang);

      await alice.page.getByTestId('report').click();
      await alice.page.getByTestId('report-reason-spam').waitFor();
      await check(alice.page, 'report-menu', lang);
      await alice.page.getByTestId('report').click(); // closes the menu again

      await alice.page.getByTestId('stop').click();
      await waitForState(alice.page, 'ended');
      await check(alice.page, 'ended', lang);

      await alice.page.getByTestId('history-toggle').click();
      await alice.page.getByTestId('history').waitFor();
      await check(alice.page, 'history', lang);
      await alice.page.getByTestId('history-close').click();
      await alice.page.getByTestId('history').waitFor({ state: 'detached' });

      await alice.page.getByTestId('verify-open').click();
      // The check's face detector is a large chunk, loaded on first open: slow on a busy machine.
      await alice.page.getByTestId('verify-dialog').waitFor({ timeout: 90_000 });
      await check(alice.page, 'verify', lang);
      await alice.page.getByTestId('verify-close').click();
      await alice.page.getByTestId('verify-dialog').waitFor({ state: 'detached' });

      // Met again, then reported: the confirmation on the stage.
      // Bob went back to waiting when Alice stopped (or, if not, presses Start himself).
      await expect.poll(() => status(bob.page).getAttribute('data-state')).toMatch(/^(waiting|ended|idle)$/);
      if ((await status(bob.page).getAttribute('data-state')) !== 'waiting') await bob.page.getByTestId('start').click();
      await alice.page.getByTestId('start').click();
      await Promise.all([waitForState(alice.page, 'connected'), waitForState(bob.page, 'connected')]);
      await alice.page.getByTestId('report').click();
      await alice.page.getByTestId('report-reason-spam').click();
      await alice.page.getByTestId('report-sent').waitFor({ timeout: 10_000 });
      await check(alice.page, 'report-sent', lang);

      // Banned: the whole page is the ban and the appeal.
      const deviceId = await bob.page.evaluate(() => localStorage.getItem('duet.device'));
      const res = await fetch(`${duet.server.url}/api/admin/bans`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ deviceId, reason: 'Spam links in the chat', days: 7 }),
      });
      expect(res.status).toBe(201);
      await bob.page.getByTestId('banned').waitFor({ timeout: 10_000 });
      await check(bob.page, 'banned', lang);

      await finish(alice, bob);
      expectNoFailures();
    },
    SLOW,
  );

  it(
    'the console: sign-in and every section',
    async () => {
      failures.length = 0;
      const mod = await duet.person({ locale, path: '/admin', ready: false });
      await mod.page.getByTestId('staff-email').waitFor();
      await check(mod.page, 'console-signin', lang);
      await signInAsStaff(mod.page, ADMIN_EMAIL, ADMIN_PASSWORD);
      const sections = await mod.page
        .locator('[data-testid^="nav-"]')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')!.slice(4)));
      expect(sections.length).toBeGreaterThanOrEqual(9);
      for (const key of sections) {
        await mod.page.getByTestId(`nav-${key}`).click();
        await mod.page.getByTestId(`section-${key}`).waitFor();
        // The section's data has loaded (no "Loading…" left) before it is judged.
        await mod.page.waitForLoadState('networkidle', { timeout: 5_000 }).catch(() => undefined);
        await check(mod.page, `console-${key}`, lang);
      }
      await finish(mod);
      expectNoFailures();
    },
    SLOW,
  );
});
