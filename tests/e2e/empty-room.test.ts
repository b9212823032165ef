import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  DESKTOP,
  expectLaidOut,
  finish,
  PHONE,
  screenshot,
  screenshotBothSizes,
  useDuet,
  waitForState,
  type PersonOptions,
} from './harness.js';

/**
 * The empty room (docs/matchmaking.md): with one person online the app says so plainly, keeps
 * the camera preview, offers an invite link and calls the person back to a background tab; with
 * a short interests wait, widening is announced and popular interests show to the next person.
 */

const TITLE = 'Duet — meet someone new';

// Each test starts a server of its own (with its own matching settings).
const duet = useDuet({ server: false });

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

/** A person on `url` whose notifications are recorded. */
function person(url: string, options: PersonOptions = {}) {
  return duet.person({ url, initScript: recordNotifications, ...options });
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

/** Screenshots named `desktop-<name>` and `phone-<name>`. */
function bothSizes(page: Page, name: string): Promise<void> {
  return screenshotBothSizes(page, (size) => `${size}-${name}`);
}

describe('the empty room', () => {
  it('alone: says so, keeps the camera, copies an invite link, and flashes the hidden tab when someone arrives', async () => {
    const server = await duet.serve();
    const origin = new URL(server.url).origin;
    const alice = await person(server.url, { permissions: ['clipboard-read', 'clipboard-write', 'notifications'] });
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
    const bob = await person(server.url);
    await expect.poll(() => alice.page.title(), { interval: 100, timeout: 5_000 }).toBe('● Someone’s here — Duet');
    // It flashes: back to the page's own title, then the alert again.
    await expect.poll(() => alice.page.title(), { interval: 100, timeout: 3_000 }).toBe(TITLE);
    await expect.poll(() => alice.page.title(), { interval: 100, timeout: 3_000 }).toBe('● Someone’s here — Duet');
    expect(await alice.page.evaluate(() => (window as unknown as { __notifications: string[] }).__notifications)).toEqual([
      'Someone’s here',
    ]);

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
    const eve = await person(server.url);
    await eve.page.getByTestId('start').click();
    await waitForState(eve.page, 'waiting');
    await expect.poll(() => stageText(eve.page), { timeout: 5_000 }).toContain('3 online · 1 waiting');
    expect(await stageText(eve.page)).toContain('We’ll connect you the moment someone’s free');
    expect(await stageText(eve.page)).not.toMatch(/Usually about/);
    expect(await eve.page.getByTestId('invite').count()).toBe(0);
    await bothSizes(eve.page, 'waiting-with-others');

    await alice.page.getByTestId('stop').click();
    await finish(alice, bob, eve);
  });

  it('announces widening within seconds, and shows popular interests to the next person', async () => {
    const server = await duet.serve({ MATCH_INTERESTS_WAIT_MS: '1000' });
    const carol = await person(server.url);
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
    const dave = await person(server.url);
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

    await finish(carol, dave);
  });
});
