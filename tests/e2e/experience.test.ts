import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, getReady, launchBrowser, openPerson, screenshot, startServer, waitForState, type RunningServer } from './harness.js';

const PHONE = { width: 390, height: 844 };

let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** Every element must sit fully inside the viewport, and no two may overlap. */
async function expectLaidOut(page: Page, testIds: string[]) {
  const viewport = page.viewportSize()!;
  const boxes = [];
  for (const id of testIds) {
    const box = await page.getByTestId(id).boundingBox();
    expect(box, `${id} is visible`).not.toBeNull();
    expect(box!.x, `${id} left edge`).toBeGreaterThanOrEqual(0);
    expect(box!.y, `${id} top edge`).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width, `${id} right edge`).toBeLessThanOrEqual(viewport.width + 0.5);
    expect(box!.y + box!.height, `${id} bottom edge`).toBeLessThanOrEqual(viewport.height + 0.5);
    boxes.push({ id, ...box! });
  }
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i]!;
      const b = boxes[j]!;
      const overlap = a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
      expect(overlap, `${a.id} overlaps ${b.id}`).toBe(false);
    }
  }
}

describe('the experience around the call', () => {
  it('on a phone: the rules gate, an honest empty room, and a call that fits the screen', async () => {
    const alice = await openPerson(browser, server.url, PHONE);
    await alice.page.getByTestId('accept-rules').waitFor();
    await screenshot(alice.page, 'phone-rules');
    await getReady(alice.page);
    await expectLaidOut(alice.page, ['start', 'interests', 'online-count']);
    await screenshot(alice.page, 'phone-ready');

    // Alone: say so plainly, keep the preview.
    await alice.page.getByTestId('start').click();
    await waitForState(alice.page, 'waiting');
    await expect.poll(() => alice.page.locator('.overlay').textContent()).toContain('Nobody else is online');
    await screenshot(alice.page, 'phone-waiting-alone');

    const bob = await openPerson(browser, server.url, PHONE);
    await getReady(bob.page);
    await bob.page.getByTestId('start').click();
    await Promise.all([waitForState(alice.page, 'connected'), waitForState(bob.page, 'connected')]);
    await expectLaidOut(alice.page, ['next', 'stop', 'report', 'block', 'chat-input', 'chat-send', 'online-count']);
    await screenshot(alice.page, 'phone-connected');

    // Report: a reason in one more tap; the reporter moves on, the other is told only that the call ended.
    await alice.page.getByTestId('report').click();
    await screenshot(alice.page, 'phone-report-menu');
    await alice.page.getByTestId('report-reason-harassment').click();
    await waitForState(alice.page, 'waiting');
    await waitForState(bob.page, 'waiting');
    expect(await bob.page.getByTestId('call-status').getAttribute('data-end-reason')).toBe('reported');
    await expect.poll(() => bob.page.locator('.overlay').textContent()).toContain('Your partner left the call');

    for (const p of [alice, bob]) {
      expect(p.errors).toEqual([]);
      await p.context.close();
    }
  });

  it('says plainly when the camera is blocked, and offers to try again', async () => {
    // No fake-UI flag: the permission prompt is refused, as when a person clicks "Block".
    const args = CHROMIUM_ARGS.filter((a) => a !== '--use-fake-ui-for-media-stream');
    const strict = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args });
    try {
      const context = await strict.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      await page.goto(server.url);
      await page.getByTestId('accept-rules').click();
      await expect.poll(() => page.locator('.overlay').textContent(), { timeout: 10_000 }).toContain('Camera or microphone unavailable');
      expect(await page.locator('.overlay').textContent()).toMatch(/blocked|Allow it/i);
      expect(await page.getByTestId('start').isDisabled()).toBe(true);
      await screenshot(page, 'desktop-camera-denied');
    } finally {
      await strict.close();
    }
  });
});
