import { describe, expect, it } from 'vitest';
import { expectLaidOut, finish, getReady, PHONE, screenshot, useDuet, waitForState } from './harness.js';

const duet = useDuet();

describe('the experience around the call', () => {
  it('on a phone: the rules gate, an honest empty room, and a call that fits the screen', async () => {
    const alice = await duet.person({ viewport: PHONE, ready: false });
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

    const bob = await duet.person({ viewport: PHONE });
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

    await finish(alice, bob);
  });

  it('says plainly when the camera is blocked, and offers to try again', async () => {
    const strict = await duet.launch([], { denyCamera: true });
    const { page } = await duet.person({ browser: strict, ready: false });
    await page.getByTestId('accept-rules').click();
    await expect.poll(() => page.locator('.overlay').textContent(), { timeout: 10_000 }).toContain('Camera or microphone unavailable');
    expect(await page.locator('.overlay').textContent()).toMatch(/blocked|Allow it/i);
    expect(await page.getByTestId('start').isDisabled()).toBe(true);
    await screenshot(page, 'desktop-camera-denied');
    await strict.close();
  });
});
