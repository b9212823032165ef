import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  DESKTOP,
  expectFitsWidth,
  expectFramesDecoded,
  finish,
  meet,
  PHONE,
  pixelsOf,
  screenshot,
  signInAsStaff,
  status,
  useDuet,
  waitForState,
  type Duet,
  type Person,
  type Viewport,
} from './harness.js';

const ADMIN_EMAIL = 'admin@example.test';
const ADMIN_PASSWORD = 'correct-horse-battery';
const ADMIN_TOKEN = 'e2e-billing-admin-token-0123456789';
const HEARTBEAT_MS = 5_000;
// The console's palette (src/admin/charts.ts): a positive margin is green, a negative one pink.
const GREEN = [0x3d, 0xdc, 0x97] as const;
const PINK = [0xff, 0x5d, 0x73] as const;

interface Billing {
  balanceMicros: number;
  price: { perMinuteMicros: number; rounding: string };
  calls: Array<{ callId: string; at: number; billedMs: number; chargeMicros: number }>;
  credits: Array<{ kind: string; at: number; amountMicros: number }>;
}

/** What the server says about this person's money, with the token the app keeps. */
function serverBilling(page: Page): Promise<Billing> {
  return page.evaluate(async () => {
    const token = localStorage.getItem('duet.token');
    const res = await fetch('/api/me/billing', { headers: { authorization: `Bearer ${token}` } });
    return (await res.json()) as Billing;
  });
}

/** This browser's user id: the session endpoint answers it for the stored token (no new guest). */
function userIdOf(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const token = localStorage.getItem('duet.token');
    const res = await fetch('/api/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    return ((await res.json()) as { userId: string }).userId;
  });
}

/** "2:15 · 2.25 credits" → { ms: 135000, micros: 2250000 } (micros from the text, two decimals). */
function parseMeter(text: string | null): { ms: number; micros: number | null } {
  const m = /^(\d+):(\d{2})(?: · (\d+)\.(\d{2}) credits?)?$/.exec((text ?? '').trim());
  if (!m) throw new Error(`meter text not understood: ${JSON.stringify(text)}`);
  return {
    ms: (Number(m[1]) * 60 + Number(m[2])) * 1000,
    micros: m[3] === undefined ? null : Number(m[3]) * 1_000_000 + Number(m[4]) * 10_000,
  };
}

/** The console at /admin, signed in as the admin. */
async function openConsole(duet: Duet, viewport: Viewport): Promise<Person> {
  const admin = await duet.person({ path: '/admin', viewport, ready: false });
  await signInAsStaff(admin.page, ADMIN_EMAIL, ADMIN_PASSWORD);
  return admin;
}

describe('billing: balance, meter, history and receipts; economics and credits in the console', () => {
  let alice: Person;
  let bob: Person;
  let callId: string;
  // 1.05 credits at 1 credit a minute: 63 s of talk, so the low-credit warning comes within seconds.
  const WELCOME = 1_050_000;

  const duet = useDuet({
    env: { PRICE_PER_MINUTE: '1', WELCOME_CREDITS: '1.05', BILLING_ROUNDING: 'second', ADMIN_EMAIL, ADMIN_PASSWORD },
  });

  it('shows balance and price before Start, then a meter that counts up with the server, and warns when credit runs low', async () => {
    [alice, bob] = await duet.pair({ viewport: DESKTOP }, { viewport: PHONE });

    for (const p of [alice, bob]) {
      await expect.poll(() => p.page.getByTestId('balance').textContent()).toBe('1.05 credits');
      expect(await p.page.getByTestId('price').textContent()).toBe('1 credit / min, billed per second');
      expect(await p.page.getByTestId('balance').getAttribute('data-micros')).toBe(String(WELCOME));
    }
    await screenshot(alice.page, 'billing-desktop-before-start');
    await screenshot(bob.page, 'billing-phone-before-start');
    await expectFitsWidth(bob.page);

    ({ callId } = await meet(alice, bob));
    await Promise.all([expectFramesDecoded(alice.page), expectFramesDecoded(bob.page)]);

    // The meter appears and, after the server's first billed heartbeats, shows a charge.
    const meter = alice.page.getByTestId('meter');
    await meter.waitFor();
    await expect.poll(async () => parseMeter(await meter.textContent()).micros ?? 0, { timeout: 20_000, interval: 250 }).toBeGreaterThan(0);
    // It ticks between the server's updates, never more than one heartbeat past what the server said.
    let last = parseMeter(await meter.textContent()).ms;
    for (let i = 0; i < 6; i++) {
      await alice.page.waitForTimeout(700);
      const [text, billed] = await Promise.all([meter.textContent(), meter.getAttribute('data-billed-ms')]);
      const shown = parseMeter(text).ms;
      expect(shown).toBeGreaterThanOrEqual(last);
      expect(shown).toBeLessThanOrEqual(Number(billed) + HEARTBEAT_MS);
      last = shown;
    }
    expect(last).toBeGreaterThan(0);

    // Less than a minute of credit left: both are warned, in words.
    for (const p of [alice, bob]) {
      const low = p.page.getByTestId('credit-low');
      await low.waitFor({ timeout: 20_000 });
      expect(await low.textContent()).toMatch(/^About (\d+ seconds|a minute) of credit left/);
    }
    await screenshot(alice.page, 'billing-desktop-call');
    await screenshot(bob.page, 'billing-phone-call');
    await expectFitsWidth(bob.page);

    await alice.page.getByTestId('stop').click();
    await waitForState(alice.page, 'ended');
    await waitForState(bob.page, 'waiting');
    await bob.page.getByTestId('stop').click();
    await waitForState(bob.page, 'idle');
    expect(await alice.page.getByTestId('meter').count()).toBe(0);
  }, 120_000);

  it('lists the call in the history with the charge the server made, the balance down by exactly that, and a receipt', async () => {
    for (const [p, name] of [
      [alice, 'desktop'],
      [bob, 'phone'],
    ] as const) {
      // The final charge is posted as the call ends; wait until the server's history has it.
      let billing = await serverBilling(p.page);
      await expect.poll(async () => (billing = await serverBilling(p.page)).calls.length, { timeout: 10_000 }).toBe(1);
      const [line] = billing.calls;
      expect(line!.callId).toBe(callId);
      expect(line!.chargeMicros).toBeGreaterThan(0);
      expect(billing.balanceMicros).toBe(WELCOME - line!.chargeMicros);
      // The charge is the price of the billed seconds, exactly (docs/billing.md).
      expect(line!.chargeMicros).toBe(Math.floor((Math.floor(line!.billedMs / 1000) * 1_000_000) / 60));

      // The balance before Start follows.
      await expect.poll(() => p.page.getByTestId('balance').getAttribute('data-micros')).toBe(String(billing.balanceMicros));

      await p.page.getByTestId('history-toggle').click();
      const history = p.page.getByTestId('history');
      await history.waitFor();
      const calls = history.getByTestId('history-call');
      await expect.poll(() => calls.count()).toBe(1);
      expect(await calls.getAttribute('data-call-id')).toBe(callId);
      expect(await calls.getAttribute('data-charge-micros')).toBe(String(line!.chargeMicros));
      expect(await history.getByTestId('history-balance').getAttribute('data-micros')).toBe(String(billing.balanceMicros));
      expect(await history.locator('[data-testid="history-credit"][data-kind="grant"]').getAttribute('data-amount-micros')).toBe(
        String(WELCOME),
      );
      // Never the partner: neither their id nor anything else about them.
      const partner = await userIdOf((p === alice ? bob : alice).page);
      expect(await history.textContent()).not.toContain(partner);
      await screenshot(p.page, `billing-${name}-history`);
      await expectFitsWidth(p.page);

      await calls.getByTestId('receipt-open').click();
      const receipt = p.page.getByTestId('receipt');
      await receipt.waitFor();
      const text = (await receipt.textContent()) ?? '';
      expect(text).toContain(callId);
      expect(text).toContain('1 credit / min, billed per second');
      expect(text).not.toContain(partner);
      expect(await receipt.getByTestId('receipt-balance').textContent()).toMatch(/credits?$/);
      await screenshot(p.page, `billing-${name}-receipt`);
      // As printed: only the receipt, on white.
      await p.page.emulateMedia({ media: 'print' });
      await screenshot(p.page, `billing-${name}-receipt-print`);
      await p.page.emulateMedia({ media: 'screen' });
      await p.page.getByTestId('receipt-close').click();
      await receipt.waitFor({ state: 'detached' });
      await p.page.getByTestId('history-close').click();
      await history.waitFor({ state: 'detached' });
      expect(p.errors).toEqual([]);
    }
  }, 90_000);

  it('shows admins the economics of the day with a chart, and lets them refund a call and adjust a balance', async () => {
    const aliceId = await userIdOf(alice.page);
    const bobId = await userIdOf(bob.page);
    const before = await serverBilling(alice.page);

    for (const viewport of [DESKTOP, PHONE]) {
      const admin = await openConsole(duet, viewport);
      const name = viewport === PHONE ? 'phone' : 'desktop';
      // Every section tab is in sight, the new one included (nothing hidden past the edge).
      const nav = (await admin.page.getByRole('navigation', { name: 'Console sections' }).boundingBox())!;
      for (const id of ['nav-live', 'nav-insights', 'nav-economics', 'nav-staff']) {
        const box = (await admin.page.getByTestId(id).boundingBox())!;
        expect(box.x + box.width, `${id} in sight`).toBeLessThanOrEqual(Math.min(viewport.width, nav.x + nav.width) + 1);
      }
      await admin.page.getByTestId('nav-economics').click();
      const chart = admin.page.getByTestId('chart-economics');
      await chart.waitFor();
      await expect.poll(() => admin.page.getByTestId('economics-row').count()).toBeGreaterThanOrEqual(1);
      // One short call against a whole day of server cost: the margin is negative, drawn in pink.
      const drawn = (await pixelsOf(admin.page, 'chart-economics', PINK)) + (await pixelsOf(admin.page, 'chart-economics', GREEN));
      expect(drawn, 'the margin chart drew its bar').toBeGreaterThan(100);
      await admin.page.getByTestId('econ-range-30d').click();
      await admin.page.getByTestId('econ-range-30d').and(admin.page.locator('[aria-pressed="true"]')).waitFor();
      await chart.waitFor();
      await screenshot(admin.page, `billing-${name}-console-economics`, { fullPage: true });
      await expectFitsWidth(admin.page);
      if (viewport === PHONE) {
        await finish(admin);
        continue;
      }

      // Refund Alice's call: her balance is whole again; a second refund is refused, in words.
      await admin.page.getByTestId('econ-view-credits').click();
      expect(new URL(admin.page.url()).hash).toBe('#economics/credits');
      await admin.page.getByTestId('refund-user').fill(aliceId);
      await admin.page.getByTestId('refund-call').fill(callId);
      await admin.page.getByTestId('refund-reason').fill('The call had no sound');
      await admin.page.getByTestId('refund-submit').click();
      await expect.poll(() => admin.page.getByTestId('refund-result').textContent()).toContain('Refunded');
      await expect.poll(async () => (await serverBilling(alice.page)).balanceMicros).toBe(WELCOME);
      await admin.page.getByTestId('refund-call').fill(callId);
      await admin.page.getByTestId('refund-reason').fill('Again, by mistake');
      await admin.page.getByTestId('refund-submit').click();
      await expect.poll(() => admin.page.getByTestId('refund-error').textContent()).toContain('already refunded');

      // Two credits for Bob; a bad amount is caught before it is sent.
      await admin.page.getByTestId('adjust-user').fill(bobId);
      await admin.page.getByTestId('adjust-credits').fill('0');
      await admin.page.getByTestId('adjust-reason').fill('Goodwill');
      await admin.page.getByTestId('adjust-submit').click();
      await admin.page.getByTestId('adjust-error').waitFor();
      await admin.page.getByTestId('adjust-credits').fill('2');
      expect(await admin.page.getByTestId('adjust-submit').textContent()).toBe('Add 2.00 credits');
      const bobBefore = (await serverBilling(bob.page)).balanceMicros;
      await admin.page.getByTestId('adjust-submit').click();
      await expect.poll(() => admin.page.getByTestId('adjust-result').textContent()).toContain('balance is now');
      expect((await serverBilling(bob.page)).balanceMicros).toBe(bobBefore + 2_000_000);
      await screenshot(admin.page, 'billing-desktop-console-credits', { fullPage: true });
      // The refused second refund is the only error the browser logged (its 409).
      expect(admin.errors.filter((e) => !/status of 409/.test(e))).toEqual([]);
      await admin.close();
    }

    // Alice's history now shows the refund next to the call.
    expect(before.balanceMicros).toBeLessThan(WELCOME);
    await alice.page.getByTestId('history-toggle').click();
    await alice.page.locator('[data-testid="history-credit"][data-kind="refund"]').waitFor();
    await expect.poll(() => alice.page.getByTestId('history-balance').getAttribute('data-micros')).toBe(String(WELCOME));
    await alice.page.getByTestId('history-close').click();
    await finish(alice, bob);
  }, 120_000);
});

describe('without credit', () => {
  const duet = useDuet({ env: { PRICE_PER_MINUTE: '1', WELCOME_CREDITS: '0', BILLING_ROUNDING: 'second', ADMIN_TOKEN } });

  const adjust = async (userId: string, credits: number) => {
    const res = await fetch(`${duet.server.url}/api/admin/credits/adjust`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ userId, credits, reason: 'e2e test credit' }),
    });
    expect(res.status).toBe(201);
  };

  it('says plainly that there is not enough credit and how to top up; a call ends when the credit runs out', async () => {
    const [carol, dave] = await duet.pair({ viewport: DESKTOP }, { viewport: PHONE });
    for (const p of [carol, dave]) {
      await expect.poll(() => p.page.getByTestId('balance').textContent()).toBe('0.00 credits');
      await p.page.getByTestId('start').click();
      const card = p.page.getByTestId('no-credit');
      await card.waitFor();
      expect(await card.textContent()).toContain('Not enough credit');
      expect(await card.textContent()).toContain('Top-ups are sold by this service’s operator');
      await waitForState(p.page, 'idle');
    }
    await screenshot(carol.page, 'billing-desktop-no-credit');
    await screenshot(dave.page, 'billing-phone-no-credit');
    await expectFitsWidth(dave.page);

    // Credit arrives (here from an admin): "check again" brings back Start with the new balance.
    // Carol gets 9 seconds' worth, Dave a minute: Carol's runs out first.
    await adjust(await userIdOf(carol.page), 0.15);
    await adjust(await userIdOf(dave.page), 1);
    for (const p of [carol, dave]) {
      await p.page.getByTestId('no-credit').getByRole('button').click();
      await p.page.getByTestId('no-credit').waitFor({ state: 'detached' });
    }
    await expect.poll(() => carol.page.getByTestId('balance').textContent()).toBe('0.15 credits');

    await carol.page.getByTestId('start').click();
    await waitForState(carol.page, 'waiting');
    await dave.page.getByTestId('start').click();
    await Promise.all([waitForState(carol.page, 'connected'), waitForState(dave.page, 'connected')]);
    await carol.page.getByTestId('credit-low').waitFor({ timeout: 20_000 });
    // The server ends the call when Carol's credit cannot pay for the next heartbeat.
    await waitForState(carol.page, 'ended', 40_000);
    expect(await status(carol.page).getAttribute('data-end-reason')).toBe('insufficient_credits');
    const ranOut = carol.page.getByTestId('credit-ran-out');
    await ranOut.waitFor();
    expect(await ranOut.textContent()).toContain('Your credit ran out');
    await screenshot(carol.page, 'billing-desktop-credit-ran-out');
    // Dave did nothing wrong: he is told the call ended, not that his credit did.
    await expect.poll(() => dave.page.getByTestId('stage-message').textContent()).toContain('Your partner had to leave');
    expect(await dave.page.getByTestId('credit-ran-out').count()).toBe(0);

    await finish(carol, dave);
  }, 120_000);
});
