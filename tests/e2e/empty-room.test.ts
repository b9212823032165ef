import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getReady, launchBrowser, screenshot, startServer, waitForState, type Person, type RunningServer } from './harness.js';

/**
 * The empty room (docs/matchmaking.md): with one person online the app says so plainly, keeps
 * the camera preview, offers an invite link and calls the person back to a background tab; with
 * a short interests wait, widening is announced and popular interests show to the next person.
 */

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const TITLE = 'Duet — meet someone new';

let browser: Browser;
const servers: RunningServer[] = [];

beforeAll(async () => {
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  for (const s of servers) await s.stop();
});

async function serve(env: Record<string, string> = {}): Promise<RunningServer> {
  const s = await startServer(env);
  servers.push(s);
  return s;
}

/** Records the titles of browser notifications the page shows (the real ones stay invisible in headless). */
const recordNotifications = () => {
  const w = window as unknown as { __notifications: string[] };
  w.__notifications = [];
  const Original = window.Notification;
  if (!Original) return;
  window.Notification = class extends Original {
    constructor(title: string, options?: NotificationOptions) {
      super(title, options);
      w.__notifications.push(title);
    }
  } as typeof Notification;
};

/**
 * Like the harness's openPerson, with permissions granted to the context (clipboard for the invite
 * link, notifications for "notify me"), which openPerson's own context does not have.
 */
async function openPersonWith(url: string, viewport: { width: number; height: number }, permissions: string[] = []): Promise<Person> {
  const context = await browser.newContext({ viewport, permissions });
  await context.addInitScript(recordNotifications);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  await page.goto(url);
  return { context, page, errors };
}

/**
 * Headless Chromium keeps every tab "visible" (bringing another tab to front changes nothing), so
 * a hidden tab is simulated the way the page sees one: visibilityState, hidden and the event.
 */
async function setHidden(page: Page, hidden: boolean): Promise<void> {
  await page.evaluate((h) => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (h ? 'hidden' : 'visible') });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

function stageText(page: Page): Promise<string | null> {
  return page.getByTestId('stage-message').textContent();
}

/** Screenshots at desktop and phone size, the page left at desktop size. */
async function bothSizes(page: Page, name: string): Promise<void> {
  await screenshot(page, `desktop-${name}`);
  await page.setViewportSize(PHONE);
  await page.waitForTimeout(150);
  await screenshot(page, `phone-${name}`);
  await page.setViewportSize(DESKTOP);
}

/** Every given element lies inside the viewport, and none overlaps another. */
async function expectLaidOut(page: Page, testIds: string[]): Promise<void> {
  const viewport = page.viewportSize()!;
  const boxes: Array<{ id: string; x: number; y: number; width: number; height: number }> = [];
  for (const id of testIds) {
    const box = await page.getByTestId(id).first().boundingBox();
    expect(box, `${id} is visible`).not.toBeNull();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.y).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width, `${id} right edge`).toBeLessThanOrEqual(viewport.width + 0.5);
    expect(box!.y + box!.height, `${id} bottom edge`).toBeLessThanOrEqual(viewport.height + 0.5);
    boxes.push({ id, ...box! });
  }
  for (const [i, a] of boxes.entries()) {
    for (const b of boxes.slice(i + 1)) {
      const overlap = a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
      expect(overlap, `${a.id} overlaps ${b.id}`).toBe(false);
    }
  }
}

describe('the empty room', () => {
  it('alone: says so, keeps the camera, copies an invite link, and flashes the hidden tab when someone arrives', async () => {
    const server = await serve();
    const origin = new URL(server.url).origin;
    const alice = await openPersonWith(server.url, DESKTOP, ['clipboard-read', 'clipboard-write', 'notifications']);
    await getReady(alice.page);
    await expect.poll(() => stageText(alice.page)).toContain('You’re the only one here');

    await alice.page.getByTestId('start').click();
    await waitForState(alice.page, 'waiting');
    await expect.poll(() => stageText(alice.page)).toContain('Nobody else is online right now');

    // The camera preview stays, large: it fills the stage while there is no call.
    const preview = alice.page.getByTestId('local-video');
    expect(await preview.isVisible()).toBe(true);
    await expect.poll(() => preview.evaluate((v: HTMLVideoElement) => v.videoWidth)).toBeGreaterThan(0);
    const stage = (await alice.page.locator('.stage').boundingBox())!;
    const video = (await preview.boundingBox())!;
    expect(video.width * video.height).toBeGreaterThan(0.8 * stage.width * stage.height);

    // Invite: the app's address lands on the clipboard.
    await alice.page.getByTestId('invite').click();
    await expect.poll(() => alice.page.getByTestId('invite').textContent()).toContain('Link copied');
    expect(await alice.page.evaluate(() => navigator.clipboard.readText())).toBe(origin);

    // Notify me: permission is asked for on the click (granted in this context), never before.
    await alice.page.getByTestId('notify').click();
    await expect.poll(() => alice.page.getByTestId('notify').textContent()).toContain('Notifications on');
    await expectLaidOut(alice.page, ['invite', 'notify', 'stop', 'next', 'online-count']);
    await bothSizes(alice.page, 'empty-room-alone');
    await alice.page.setViewportSize(PHONE);
    await expectLaidOut(alice.page, ['invite', 'notify', 'stop', 'next', 'online-count']);

    // Without the Clipboard API (a page served over plain HTTP), the link shows selected, to copy by hand.
    await alice.page.evaluate(() => Object.defineProperty(navigator, 'clipboard', { configurable: true, value: undefined }));
    await alice.page.getByTestId('invite').click();
    const field = alice.page.getByTestId('invite-link');
    await field.waitFor();
    expect(await field.inputValue()).toBe(origin);
    await expect.poll(() => field.evaluate((el: HTMLInputElement) => el.selectionEnd! - el.selectionStart!)).toBe(origin.length);
    await expectLaidOut(alice.page, ['invite', 'invite-link', 'notify', 'stop', 'next', 'online-count']);
    await screenshot(alice.page, 'phone-empty-room-invite-fallback');
    await alice.page.setViewportSize(DESKTOP);
    expect(await alice.page.title()).toBe(TITLE);

    // Alice looks away; Bob arrives. Her tab's title flashes and she gets a notification.
    await setHidden(alice.page, true);
    const bob = await openPersonWith(server.url, DESKTOP);
    await getReady(bob.page);
    await expect.poll(() => alice.page.title(), { interval: 100, timeout: 5_000 }).toBe('● Someone’s here — Duet');
    // It flashes: back to the page's own title, then the alert again.
    await expect.poll(() => alice.page.title(), { interval: 100, timeout: 3_000 }).toBe(TITLE);
    await expect.poll(() => alice.page.title(), { interval: 100, timeout: 3_000 }).toBe('● Someone’s here — Duet');
    expect(await alice.page.evaluate(() => (window as unknown as { __notifications: string[] }).__notifications)).toEqual(['Someone’s here']);

    // Bob presses Start: the match lands while Alice is still away.
    await bob.page.getByTestId('start').click();
    await expect.poll(() => alice.page.title(), { interval: 100, timeout: 10_000 }).toBe('● You’re matched — Duet');
    await setHidden(alice.page, false);
    expect(await alice.page.title()).toBe(TITLE);
    await Promise.all([waitForState(alice.page, 'connected'), waitForState(bob.page, 'connected')]);
    // Once she is back the title stays put.
    await alice.page.waitForTimeout(1_200);
    expect(await alice.page.title()).toBe(TITLE);

    // Eve arrives while they talk: not alone, so counts; one match so far is too little for an
    // honest estimate (the server needs three in the last ten minutes), so none is made up.
    const eve = await openPersonWith(server.url, DESKTOP);
    await getReady(eve.page);
    await eve.page.getByTestId('start').click();
    await waitForState(eve.page, 'waiting');
    await expect.poll(() => stageText(eve.page), { timeout: 5_000 }).toContain('3 online · 1 waiting');
    expect(await stageText(eve.page)).toContain('We’ll connect you the moment someone’s free');
    expect(await stageText(eve.page)).not.toMatch(/Usually about/);
    expect(await eve.page.getByTestId('invite').count()).toBe(0);
    await bothSizes(eve.page, 'waiting-with-others');

    await alice.page.getByTestId('stop').click();
    for (const p of [alice, bob, eve]) {
      expect(p.errors).toEqual([]);
      await p.context.close();
    }
  });

  it('announces widening within seconds, and shows popular interests to the next person', async () => {
    const server = await serve({ MATCH_INTERESTS_WAIT_MS: '1000' });
    const carol = await openPersonWith(server.url, DESKTOP);
    await getReady(carol.page);
    await carol.page.getByTestId('interests').fill('chess');
    const pressed = Date.now();
    await carol.page.getByTestId('start').click();
    await waitForState(carol.page, 'waiting');
    await carol.page.getByText('Nobody with #chess right now — matching you with anyone').waitFor({ timeout: 2_500 });
    console.log(`[e2e] Start -> widening shown: ${Date.now() - pressed} ms`);
    expect(await stageText(carol.page)).toContain('Nobody else is online right now');
    // Her own #chess is not shown back to her as if someone else shared it.
    expect(await carol.page.getByTestId('top-interests').count()).toBe(0);
    await bothSizes(carol.page, 'empty-room-widened');

    // Dave opens the app: on his idle screen #chess is popular; one tap adds it.
    const dave = await openPersonWith(server.url, DESKTOP);
    await getReady(dave.page);
    const chess = dave.page.getByTestId('top-interests').getByRole('button', { name: /#chess/ });
    await chess.waitFor({ timeout: 5_000 });
    expect(await chess.textContent()).toMatch(/#chess\s*1/);
    await dave.page.getByTestId('interests').fill('go');
    await chess.click();
    await expect.poll(() => dave.page.locator('.tag').allTextContents()).toEqual(['#go×', '#chess×']);
    expect(await chess.getAttribute('aria-pressed')).toBe('true');
    await expectLaidOut(dave.page, ['start', 'interests', 'top-interests', 'privacy', 'online-count']);
    await bothSizes(dave.page, 'idle-popular-interests');
    await dave.page.setViewportSize(PHONE);
    await expectLaidOut(dave.page, ['start', 'interests', 'top-interests', 'privacy', 'online-count']);
    await dave.page.setViewportSize(DESKTOP);

    // IP privacy on a server without a relay: the server's plain answer, and the box unticks.
    await dave.page.getByTestId('privacy').check();
    await dave.page.getByTestId('start').click();
    await dave.page.getByTestId('privacy-error').waitFor({ timeout: 5_000 });
    expect(await dave.page.getByTestId('privacy-error').textContent()).toContain('needs a relay');
    expect(await dave.page.getByTestId('privacy').isChecked()).toBe(false);
    expect(await dave.page.getByTestId('call-status').getAttribute('data-state')).toBe('idle');
    await screenshot(dave.page, 'desktop-privacy-unavailable');

    // Without it, Dave meets Carol.
    await dave.page.getByTestId('start').click();
    await Promise.all([waitForState(carol.page, 'connected'), waitForState(dave.page, 'connected')]);

    for (const p of [carol, dave]) {
      expect(p.errors).toEqual([]);
      await p.context.close();
    }
  });
});
