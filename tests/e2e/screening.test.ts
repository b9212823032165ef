import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { expectFitsWidth, meet, PHONE, screenshot, signInAsStaff, status, useDuet } from './harness.js';

// Blur-first screening in real Chromium (docs/safety.md): the partner's video starts hidden
// (`data-screen="checking"`) until the classifier (nsfwjs MobileNetV2 in a worker) clears the first
// frames; a flag hides it at once (`blurred`), files the frame and scores, and shows in the console.
// No explicit picture exists here, so the flag path uses a threshold low enough that a benign frame
// of Chromium's fake camera trips it.

const ADMIN_EMAIL = 'admin@example.test';
const ADMIN_PASSWORD = 'correct-horse-battery';

interface Figures {
  backend: string | null;
  loadMs: number | null;
  resources: { name: string; transferSize: number; bodySize: number }[];
  samples: { ms: number; gapMs: number }[];
  flags: { flagToBlurMs: number; captureToBlurMs: number }[];
  uploads: string[];
  failed: string | null;
}
const figures = (page: Page) => page.evaluate(() => (window as unknown as { __duetScreening?: Figures }).__duetScreening ?? null);
const screenOf = (page: Page) => page.getByTestId('remote-video').getAttribute('data-screen');

describe('blur-first screening with the normal threshold', () => {
  const duet = useDuet({ env: { SCREEN_THRESHOLD: '0.7' } });

  it('starts blurred, clears after the first check, and the model comes from Duet', async () => {
    const [a, b] = await duet.pair();
    const seen: string[] = [];
    const meeting = meet(a, b, 30_000);
    // The first state the remote video shows is `checking`: never a clear picture before a check.
    await a.page.getByTestId('remote-video').and(a.page.locator('[data-screen]')).waitFor({ timeout: 30_000 });
    seen.push((await screenOf(a.page))!);
    await screenshot(a.page, 'screening-checking-desktop');
    await meeting;
    await a.page.locator('[data-testid="remote-video"][data-screen="clear"]').waitFor({ timeout: 30_000 });
    await b.page.locator('[data-testid="remote-video"][data-screen="clear"]').waitFor({ timeout: 30_000 });
    seen.push((await screenOf(a.page))!);
    expect(seen).toEqual(['checking', 'clear']);

    const f = (await figures(a.page))!;
    expect(f.failed).toBeNull();
    expect(f.backend).toMatch(/^(webgl|wasm|cpu)$/);
    expect(f.samples.length).toBeGreaterThanOrEqual(2);
    expect(f.flags).toEqual([]);
    // Sampling continues at 1–3 s once clear.
    await a.page.waitForTimeout(3_500);
    const later = (await figures(a.page))!;
    expect(later.samples.length).toBeGreaterThan(f.samples.length);
    expect(later.samples.at(-1)!.gapMs).toBeGreaterThanOrEqual(1000);
    expect(later.samples.at(-1)!.gapMs).toBeLessThanOrEqual(3000);

    // The classifier's code, weights and WebAssembly come from this origin, nowhere else; a second
    // visit takes them from the browser's cache (immutable assets).
    const origin = new URL(duet.server.url).origin;
    const names = f.resources.map((r) => r.name);
    expect(names.some((n) => /classifier\.worker/.test(n))).toBe(true);
    expect(names.some((n) => /group1-shard/.test(n))).toBe(true);
    for (const n of names) expect(new URL(n).origin).toBe(origin);
    const firstBytes = f.resources.reduce((sum, r) => sum + r.transferSize, 0);
    expect(firstBytes).toBeGreaterThan(1_000_000);
    await a.page.reload();
    await a.page.waitForFunction(() => (window as unknown as { __duetScreening?: Figures }).__duetScreening?.backend, null, {
      timeout: 30_000,
    });
    const again = (await figures(a.page))!;
    const cachedBytes = again.resources.reduce((sum, r) => sum + r.transferSize, 0);
    expect(cachedBytes).toBeLessThan(firstBytes / 10);
    console.log(`screening model bytes: first visit ${firstBytes}, cached visit ${cachedBytes}; backend ${f.backend}, load ${f.loadMs} ms`);
    expect(a.errors).toEqual([]);
    expect(b.errors).toEqual([]);
  });
});

describe('a flag, via a threshold a benign frame trips', () => {
  const duet = useDuet({
    env: { SCREEN_THRESHOLD: '0.00001', ADMIN_EMAIL, ADMIN_PASSWORD, SCREEN_HOLD_VIEWERS: '0', MATCH_RECENT_PARTNERS: '0' },
  });

  it('blurs at once, files the frame and scores, shows in the console; unblur works for this call only', async () => {
    const [a, b] = await duet.pair();
    const { callId } = await meet(a, b, 30_000);
    await a.page.locator('[data-testid="remote-video"][data-screen="blurred"]').waitFor({ timeout: 30_000 });
    await a.page.getByTestId('screen-unblur').waitFor();
    await expect.poll(async () => (await figures(a.page))?.uploads ?? [], { timeout: 15_000 }).toContain('filed');
    await expect.poll(async () => (await figures(a.page))?.flags.length ?? 0, { timeout: 5_000 }).toBeGreaterThanOrEqual(1);
    const f = (await figures(a.page))!;
    // A flag hides the picture on the first frame painted after the classifier's result: median
    // 318 ms in bench/screening.ts on this loaded machine (its bare two-frame wait: 204 ms); here
    // two browsers load the model and start a call on two shared cores, so the bound is looser.
    console.log(`screening flag: flag→blur ${f.flags[0]!.flagToBlurMs} ms, capture→blur ${f.flags[0]!.captureToBlurMs} ms`);
    expect(f.flags[0]!.flagToBlurMs).toBeLessThan(1500);

    await screenshot(a.page, 'screening-blurred-desktop');
    await a.page.setViewportSize(PHONE);
    await a.page.waitForTimeout(200);
    await expectFitsWidth(a.page, 'the blurred call on a phone');
    await screenshot(a.page, 'screening-blurred-phone');

    // The console: the call is raised in the live view, and the report holds this frame and its scores.
    const mod = await duet.person({ path: '/admin', ready: false });
    await signInAsStaff(mod.page, ADMIN_EMAIL, ADMIN_PASSWORD);
    await mod.page.getByTestId('nav-live').click();
    const row = mod.page.locator(`[data-testid="live-call"][data-call-id="${callId}"]`);
    await row.waitFor({ timeout: 10_000 });
    expect(await row.getAttribute('data-flags')).not.toBe('0');
    await screenshot(mod.page, 'screening-console-live-desktop');
    await mod.page.setViewportSize(PHONE);
    await mod.page.waitForTimeout(200);
    await expectFitsWidth(mod.page, 'the live view on a phone');
    await screenshot(mod.page, 'screening-console-live-phone');
    await mod.page.setViewportSize({ width: 1280, height: 800 });
    await mod.page.getByTestId('nav-reports').click();
    const flagRow = mod.page.locator('[data-testid="report-row"][data-reason="screening"]').first();
    await flagRow.waitFor({ timeout: 10_000 });
    await flagRow.click();
    await mod.page.getByTestId('screen-scores').waitFor({ timeout: 10_000 });
    expect(await mod.page.getByTestId('evidence-frame').getAttribute('src')).toMatch(/^data:image\/jpeg;base64,/);
    await screenshot(mod.page, 'screening-console-report-desktop');
    await mod.page.setViewportSize(PHONE);
    await mod.page.waitForTimeout(200);
    await screenshot(mod.page, 'screening-console-report-phone');

    // Unblur for this call: the picture shows, and stays shown though the classifier keeps flagging.
    await a.page.setViewportSize({ width: 1280, height: 800 });
    await a.page.getByTestId('screen-unblur').click();
    await a.page.locator('[data-testid="remote-video"][data-screen="clear"][data-unblurred="true"]').waitFor({ timeout: 5_000 });
    await a.page.waitForTimeout(3_500);
    expect(await screenOf(a.page)).toBe('clear');
    // The next call starts hidden again.
    await a.page.getByTestId('next').click();
    await a.page.locator('[data-testid="remote-video"][data-screen="blurred"]').waitFor({ timeout: 30_000 });
    expect(await a.page.getByTestId('remote-video').getAttribute('data-unblurred')).toBeNull();
    // One tap on Report over the hidden picture: a nudity report with the flagged frame; the call ends.
    await a.page.getByTestId('screen-report').waitFor({ timeout: 10_000 });
    await a.page.getByTestId('screen-report').click();
    await expect.poll(() => status(a.page).getAttribute('data-end-reason'), { timeout: 10_000 }).toBe('reported');
    expect(a.errors).toEqual([]);
    expect(b.errors).toEqual([]);
  });
});
