/**
 * Keyboard only: a person who cannot use a mouse accepts the rules, starts, chats, skips to someone
 * new and reports them, with Tab, Shift+Tab, Enter, Space, Escape and the arrows — never a click,
 * never a focus() from the test. At every step the focused control shows a focus ring (a computed
 * outline or box-shadow) and lies on screen. The people they meet use the mouse.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { runAxe, severe, describeViolations } from './axe.js';
import { finish, PHONE, screenshot, status, useDuet, waitForState } from './harness.js';

// Three people meet here in every combination (the skip lands on whoever waits).
const duet = useDuet({ env: { MATCH_RECENT_PARTNERS: '0' } });

interface Focused {
  testId: string | null;
  tag: string;
  ring: boolean;
  onScreen: boolean;
  text: string;
}

/** What has the keyboard focus now, and whether a person can see it. */
function focused(page: Page): Promise<Focused> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return { testId: null, tag: 'body', ring: false, onScreen: false, text: '' };
    const css = getComputedStyle(el);
    const outline = css.outlineStyle !== 'none' && parseFloat(css.outlineWidth) > 0;
    const shadow = css.boxShadow !== 'none';
    const r = el.getBoundingClientRect();
    return {
      testId: el.getAttribute('data-testid'),
      tag: el.tagName.toLowerCase(),
      ring: outline || shadow,
      onScreen: r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth,
      text: (el.getAttribute('aria-label') ?? el.textContent ?? '').trim().slice(0, 40),
    };
  });
}

/** The focused control shows its ring and is on screen. */
async function expectVisibleFocus(page: Page, what: string): Promise<Focused> {
  const f = await focused(page);
  expect(f.ring, `${what}: the focused ${f.tag} "${f.testId ?? f.text}" shows a focus ring`).toBe(true);
  expect(f.onScreen, `${what}: the focused ${f.tag} "${f.testId ?? f.text}" is on screen`).toBe(true);
  return f;
}

/**
 * Presses `key` (Tab or Shift+Tab) until the focus is on the control `matches` accepts, checking the
 * ring at every stop on the way; fails after `max` presses with the path it took.
 */
async function moveTo(page: Page, matches: (testId: string | null) => boolean, key = 'Tab', max = 40): Promise<Focused> {
  const path: string[] = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(key);
    const f = await focused(page);
    path.push(f.testId ?? `${f.tag}:${f.text}`);
    if (f.tag !== 'body') {
      expect(f.ring, `the focused ${f.tag} "${f.testId ?? f.text}" shows a focus ring`).toBe(true);
    }
    if (matches(f.testId)) return f;
  }
  throw new Error(`${key} never reached the control; the focus went: ${path.join(' → ')}`);
}

const testId = (id: string) => (t: string | null) => t === id;

describe('keyboard only', () => {
  it('accepts the rules, starts, chats, skips and reports without a mouse', async () => {
    const alice = await duet.person({ ready: false });
    const { page } = alice;
    await page.getByTestId('accept-rules').waitFor();
    await expect.poll(() => page.evaluate(() => !!document.activeElement?.closest('[role="dialog"]'))).toBe(true);

    // The rules: the dialog takes the focus; Tab reaches the button, Enter accepts.
    await moveTo(page, testId('accept-rules'));
    await expectVisibleFocus(page, 'accept the rules');
    await page.keyboard.press('Enter');
    await page.getByTestId('start').and(page.locator(':enabled')).waitFor({ timeout: 15_000 });

    // Start, with Space this time.
    await moveTo(page, testId('start'));
    await expectVisibleFocus(page, 'Start');
    await page.keyboard.press('Space');
    await waitForState(page, 'waiting');

    // Bob (with a mouse) arrives; the call connects.
    const bob = await duet.person();
    await bob.page.getByTestId('start').click();
    await Promise.all([waitForState(page, 'connected'), waitForState(bob.page, 'connected')]);
    const firstCall = await status(page).getAttribute('data-call-id');

    // Chat: type and send with Enter; Bob reads it.
    await moveTo(page, testId('chat-input'));
    await expectVisibleFocus(page, 'the chat input');
    await page.keyboard.type('hello from the keyboard');
    await page.keyboard.press('Enter');
    await bob.page.getByTestId('chat-log').getByText('hello from the keyboard').waitFor({ timeout: 10_000 });
    // The send button is reachable too: one Tab on from the input.
    await page.keyboard.type('and again');
    await moveTo(page, testId('chat-send'), 'Tab', 3);
    await expectVisibleFocus(page, 'Send');
    await page.keyboard.press('Enter');
    await bob.page.getByTestId('chat-log').getByText('and again').waitFor({ timeout: 10_000 });
    await screenshot(page, 'keyboard-chat-send');

    // Next: Carol (mouse) is waiting, so the skip lands on her; Shift+Tab walks back to it.
    const carol = await duet.person();
    await carol.page.getByTestId('start').click();
    await waitForState(carol.page, 'waiting');
    await moveTo(page, testId('next'), 'Shift+Tab');
    await expectVisibleFocus(page, 'Next');
    await page.keyboard.press('Enter');
    // The skip has landed when Alice is connected in another call. Until the server's answer reaches
    // her page it still shows the first call connected: waiting for 'connected' alone could pass
    // before the Next did anything, and the call and the partner were then read mid-change.
    const call = () => status(page).evaluate((el) => ({ state: el.getAttribute('data-state'), id: el.getAttribute('data-call-id') }));
    await expect
      .poll(
        async () => {
          const now = await call();
          return { state: now.state, newCall: now.id !== null && now.id !== firstCall };
        },
        { timeout: 20_000 },
      )
      .toEqual({ state: 'connected', newCall: true });
    const secondCall = (await call()).id;
    // Carol was waiting, and Bob rejoins the queue only once his page has seen the skip: she is the
    // partner, the one whose page must show the report's end.
    await expect.poll(() => status(carol.page).getAttribute('data-call-id')).toBe(secondCall);

    // Report: the menu opens with the focus in it; Escape closes it and gives the focus back.
    await moveTo(page, testId('report'));
    await expectVisibleFocus(page, 'Report');
    await page.keyboard.press('Enter');
    await page.getByTestId('report-menu').waitFor();
    const inMenu = await expectVisibleFocus(page, 'the report menu opened');
    expect(
      await page.evaluate(() => !!document.activeElement?.closest('[data-testid="report-menu"]')),
      `the focus (${inMenu.testId}) is in the menu`,
    ).toBe(true);
    await page.keyboard.press('Escape');
    await page.getByTestId('report-menu').waitFor({ state: 'detached' });
    expect((await expectVisibleFocus(page, 'the report menu closed')).testId).toBe('report');

    // Again, and this time a reason: the arrows move between reasons, Enter files the report.
    await page.keyboard.press('Enter');
    await page.getByTestId('report-menu').waitFor();
    const reason = (t: string | null) => t?.startsWith('report-reason-') ?? false;
    if (!reason((await focused(page)).testId)) await moveTo(page, reason);
    await page.keyboard.press('ArrowDown');
    let chosen = await focused(page);
    // Reasons without arrow keys are plain buttons in the tab order: Tab picks the next one.
    if (!reason(chosen.testId)) chosen = await moveTo(page, reason);
    await expectVisibleFocus(page, 'a report reason');
    await screenshot(page, 'keyboard-report-reason');
    const axe = severe(await runAxe(page));
    expect(axe, describeViolations(axe)).toEqual([]);
    // Every end the partner's page shows: they may be matched again at once (the third person is
    // waiting), after which the status no longer names the report's end.
    await carol.page.evaluate(() => {
      const el = document.querySelector('[data-testid="call-status"]')!;
      const seen: string[] = [];
      (window as unknown as { __endReasons: string[] }).__endReasons = seen;
      new MutationObserver(() => {
        const reason = el.getAttribute('data-end-reason');
        if (reason) seen.push(reason);
      }).observe(el, { attributes: true, attributeFilter: ['data-end-reason'] });
    });
    await page.keyboard.press('Enter');
    await page.getByTestId('report-sent').waitFor({ timeout: 10_000 });
    await expect
      .poll(() => carol.page.evaluate(() => (window as unknown as { __endReasons: string[] }).__endReasons))
      .toContain('reported');
    expect(chosen.testId).toMatch(/^report-reason-/);

    await finish(alice, bob, carol);
  });

  it('on a phone-sized page the same controls are reachable and ringed', async () => {
    const dan = await duet.person({ ready: false, viewport: PHONE });
    // The gate (a modal dialog) has taken the focus before the first key.
    await dan.page.getByTestId('accept-rules').waitFor();
    await expect.poll(() => dan.page.evaluate(() => !!document.activeElement?.closest('[role="dialog"]'))).toBe(true);
    await moveTo(dan.page, testId('accept-rules'));
    await dan.page.keyboard.press('Enter');
    await dan.page.getByTestId('start').and(dan.page.locator(':enabled')).waitFor({ timeout: 15_000 });
    await moveTo(dan.page, testId('start'));
    await expectVisibleFocus(dan.page, 'Start on a phone');
    await screenshot(dan.page, 'keyboard-start-phone');
    await finish(dan);
  });
});
