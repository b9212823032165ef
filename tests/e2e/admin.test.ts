import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  expectFitsWidth,
  expectFramesDecoded,
  finish,
  meet,
  overlaps,
  PHONE,
  pixelsOf,
  screenshot,
  useDuet,
  waitForState,
  type Person,
  type Viewport,
} from './harness.js';

const TOKEN = 'e2e-admin-token-0123456789';
const DESKTOP = { width: 1440, height: 900 };
// The console's palette (src/admin/charts.ts): connected is green, person A and "leave" are
// drawn in the app's pink and cyan.
const GREEN = [0x3d, 0xdc, 0x97] as const;
const CYAN = [0x5d, 0xd6, 0xff] as const;
const PINK = [0xff, 0x5d, 0x73] as const;

const duet = useDuet({ env: { ADMIN_TOKEN: TOKEN } });

/** The console at /admin in a browser profile of its own, signed in with `token`. */
async function openConsole(viewport: Viewport, token = TOKEN): Promise<Person> {
  const admin = await duet.person({ path: '/admin', viewport, ready: false });
  await admin.page.getByTestId('admin-token').fill(token);
  await admin.page.getByTestId('admin-login').click();
  return admin;
}

/** "850 kbps" → 850, "1.2 Mbps" → 1200, anything else → NaN. */
function kbpsOf(text: string | null): number {
  const m = /^([\d.]+) ([kM])bps$/.exec(text ?? '');
  return m ? Number(m[1]) * (m[2] === 'M' ? 1000 : 1) : Number.NaN;
}

describe('the insights console', () => {
  it('is closed without the token, empty before any call, then charts a real call and its quality timeline', async () => {
    // A wrong token is refused with a clear message.
    const wrong = await openConsole(DESKTOP, 'not-the-token');
    await expect.poll(() => wrong.page.getByTestId('admin-login-error').textContent()).toContain('not accepted');
    await wrong.close();

    // Signed in before any call: an empty state, not empty axes.
    const empty = await openConsole(DESKTOP);
    await empty.page.getByText('No calls in this range yet').waitFor();
    expect(await empty.page.getByTestId('chart-calls').count()).toBe(0);
    await screenshot(empty.page, 'admin-desktop-empty');
    await finish(empty);

    // One real call between two browsers; Bob is on a phone.
    const [alice, bob] = await duet.pair({}, { viewport: PHONE });
    const { callId } = await meet(alice, bob);
    await Promise.all([expectFramesDecoded(alice.page), expectFramesDecoded(bob.page)]);

    // The connection info panel: real numbers, and never over the call's buttons or the chat.
    for (const person of [alice, bob]) {
      await person.page.getByTestId('connection-info-toggle').click();
      const panel = person.page.getByTestId('connection-info');
      await expect.poll(() => panel.getByTestId('conn-path').textContent(), { timeout: 10_000 }).toMatch(/^(Direct|Relayed)/);
      await expect.poll(() => panel.getByTestId('conn-rtt').textContent(), { timeout: 10_000 }).toMatch(/^\d+ ms$/);
      // A plausible bitrate: video is capped at 640×480, so anything near 100 Mbps is a unit slip.
      await expect.poll(() => panel.getByTestId('conn-in').textContent().then(kbpsOf), { timeout: 10_000 }).toBeGreaterThan(10);
      await expect.poll(() => panel.getByTestId('conn-in').textContent().then(kbpsOf), { timeout: 10_000 }).toBeLessThan(20_000);
      const box = (await panel.boundingBox())!;
      for (const id of ['next', 'stop', 'report', 'block', 'chat-input', 'chat-send']) {
        const other = (await person.page.getByTestId(id).boundingBox())!;
        expect(overlaps(box, other), `connection info overlaps ${id}`).toBe(false);
      }
    }
    await screenshot(alice.page, 'desktop-connection-info');
    await screenshot(bob.page, 'phone-connection-info');

    // Talk past the first periodic quality sample, then Alice leaves.
    await alice.page.waitForTimeout(11_000);
    await alice.page.getByTestId('stop').click();
    await waitForState(bob.page, 'waiting');
    await finish(alice, bob);

    // The console shows the call in every chart.
    const desk = await openConsole(DESKTOP);
    await desk.page.locator(`[data-testid="worst-calls"] tr[data-call-id="${callId}"]`).waitFor({ timeout: 10_000 });
    expect(await desk.page.locator('[data-testid="tile-calls"] .tile-value').textContent()).toBe('1');
    // Minimum pixel counts: the success rate is one dot; the others are bars far larger than
    // a legend swatch (the calls chart's legend has a green dot of its own).
    const minimum = { 'chart-success': 12, 'chart-calls': 400, 'chart-durations': 400, 'chart-reasons': 400 };
    const colour = { 'chart-success': GREEN, 'chart-calls': GREEN, 'chart-durations': CYAN, 'chart-reasons': CYAN };
    for (const [chart, min] of Object.entries(minimum) as Array<[keyof typeof colour, number]>) {
      expect(await pixelsOf(desk.page, chart, colour[chart]), `${chart} drew its data`).toBeGreaterThan(min);
    }
    await screenshot(desk.page, 'admin-desktop');

    // Export: a real file download of this range, with the call in it.
    const [download] = await Promise.all([desk.page.waitForEvent('download'), desk.page.getByTestId('export-csv').click()]);
    expect(download.suggestedFilename()).toMatch(/\.csv$/);
    const csv = fs.readFileSync((await download.path())!, 'utf8');
    expect(csv).toContain(callId);

    // The call's detail: its quality timeline for both sides.
    await desk.page.locator(`[data-testid="worst-calls"] tr[data-call-id="${callId}"]`).click();
    await desk.page.getByTestId('chart-quality').waitFor();
    expect(await pixelsOf(desk.page, 'chart-quality', PINK), 'person A drawn').toBeGreaterThan(100);
    expect(await pixelsOf(desk.page, 'chart-quality', CYAN), 'person B drawn').toBeGreaterThan(100);
    await expect.poll(() => desk.page.getByTestId('call-detail').textContent()).toContain('Person A');
    await screenshot(desk.page, 'admin-call-detail');
    await finish(desk);

    // A phone: everything fits the width, nothing scrolls sideways except the tables.
    const phone = await openConsole(PHONE);
    await phone.page.getByTestId('chart-calls').waitFor();
    await expectFitsWidth(phone.page);
    for (const id of ['range-24h', 'range-7d', 'range-30d', 'export-csv', 'export-json', 'chart-success', 'chart-calls']) {
      const box = (await phone.page.getByTestId(id).boundingBox())!;
      expect(box.x, `${id} left`).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width, `${id} right`).toBeLessThanOrEqual(PHONE.width);
    }
    await phone.page.getByTestId('range-7d').click();
    await phone.page.getByTestId('range-7d').and(phone.page.locator('[aria-pressed="true"]')).waitFor();
    await phone.page.getByTestId('chart-calls').waitFor();
    await screenshot(phone.page, 'admin-phone', { fullPage: true });
    await finish(phone);
  });
});
