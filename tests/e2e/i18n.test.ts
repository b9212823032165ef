/**
 * The app in every language Duet speaks: each screen a person sees (the rules, ready, waiting, a
 * call, the report menu, the end of a call, the usage history) renders with no missing message and
 * no English left where a translation exists; Arabic reads right to left and the layout mirrors;
 * the language switch works at run time and is remembered; and `join` asks for the language the
 * person reads the app in, so two people reading Spanish are matched whatever their browsers say.
 */
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DESKTOP,
  finish,
  getReady,
  screenshotBothSizes,
  status,
  useDuet,
  waitForState,
  type Person,
  type PersonOptions,
} from './harness.js';

/** The browser language each locale is tried with (as a person's browser would say it). */
const BROWSER: Record<string, string> = { en: 'en-US', es: 'es-ES', pt: 'pt-BR', ar: 'ar-EG', hi: 'hi-IN' };
/** Screens saved as screenshots, at desktop and phone size, in these languages. */
const SHOWN = new Set(['es', 'ar']);

async function missing(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __duetMissingMessages?: string[] }).__duetMissingMessages ?? []);
}

/** No message missing, and the document says which language and direction it is in. */
async function expectLanguage(page: Page, locale: string): Promise<void> {
  await expect.poll(() => page.evaluate(() => document.documentElement.lang)).toBe(locale);
  expect(await page.evaluate(() => document.documentElement.dir)).toBe(locale === 'ar' ? 'rtl' : 'ltr');
  expect(await missing(page)).toEqual([]);
}

const text = async (page: Page, testId: string) => ((await page.getByTestId(testId).first().textContent()) ?? '').trim();

/** The horizontal middle of an element, as a share of the page's width (0 = left edge). */
async function middleOf(page: Page, testId: string): Promise<number> {
  const box = (await page.getByTestId(testId).first().boundingBox())!;
  return (box.x + box.width / 2) / page.viewportSize()!.width;
}

/** Records what the page sends on its sockets, from before the app's first line (to read its `join`). */
const recordSent = () => {
  const w = window as unknown as { __sent: string[] };
  w.__sent = [];
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (this: WebSocket, data: Parameters<WebSocket['send']>[0]) {
    if (typeof data === 'string') w.__sent.push(data);
    return send.call(this, data);
  };
};

/** The `join` messages the page sent, parsed. */
async function joins(page: Page): Promise<Array<Record<string, unknown>>> {
  const sent = await page.evaluate(() => (window as unknown as { __sent: string[] }).__sent);
  return sent.map((m) => JSON.parse(m) as Record<string, unknown>).filter((m) => m.type === 'join');
}

describe('languages: every screen in English, Spanish, Portuguese, Arabic and Hindi', () => {
  // Calls are priced, so the wallet, the call meter and the history show money in each language.
  const duet = useDuet({
    env: {
      PRICE_PER_MINUTE: '1',
      WELCOME_CREDITS: '5',
      BILLING_ROUNDING: 'second',
      SESSION_RATE_LIMIT: '1000',
      WELCOME_PER_ADDRESS_PER_DAY: '1000',
    },
  });
  // Whoever a failed test left open leaves with it, so the next language starts alone.
  const open: Person[] = [];
  const person = async (options: PersonOptions) => {
    const p = await duet.person(options);
    open.push(p);
    return p;
  };
  afterEach(async () => {
    for (const p of open.splice(0)) await p.close().catch(() => undefined);
  });
  /** English wording of the controls compared across languages, read from the English page. */
  const english: Record<string, string> = {};
  /** Where the online count sits in English (right of the middle), to compare with Arabic. */
  let englishOnline = 0;

  for (const locale of ['en', 'es', 'pt', 'ar', 'hi']) {
    it(`${locale}: the rules, ready, waiting, a call, the report menu, its end and the history`, async () => {
      const as: PersonOptions = { locale: BROWSER[locale]!, viewport: DESKTOP, initScript: recordSent };
      const shoot = async (page: Page, screen: string) => {
        if (SHOWN.has(locale)) await screenshotBothSizes(page, (size) => `i18n-${locale}-${size}-${screen}`);
      };
      const alice = await person({ ...as, ready: false });
      const page = alice.page;

      // The rules gate, before anything else.
      await page
        .getByTestId('accept-rules')
        .waitFor()
        .catch(async (err: unknown) => {
          await page.screenshot({ path: `test-results/i18n-debug-${locale}.png` });
          throw new Error(`${String(err)}: ${await page.locator('body').innerText()} ${JSON.stringify(alice.errors)}`);
        });
      await expectLanguage(page, locale);
      await shoot(page, 'rules');
      const accept = await text(page, 'accept-rules');
      await getReady(page);

      // Ready, alone.
      await expectLanguage(page, locale);
      await page.getByTestId('stage-message').waitFor();
      const start = await text(page, 'start');
      if (locale === 'en') {
        Object.assign(english, { accept, start, stage: await text(page, 'stage-message'), balance: await text(page, 'balance') });
        englishOnline = await middleOf(page, 'online-count');
        expect(start).toBe('Start');
        expect(englishOnline).toBeGreaterThan(0.5);
      } else {
        // Translated: none of these reads as the English page did.
        expect(accept).not.toBe(english.accept);
        expect(start).not.toBe(english.start);
        expect(await text(page, 'stage-message')).not.toBe(english.stage);
        expect(await text(page, 'balance')).not.toBe(english.balance);
      }
      await expect.poll(() => text(page, 'online-count')).toContain('1');
      // The tab's title too.
      const title = await page.title();
      if (locale === 'en') expect(title).toBe('Duet — meet someone new');
      else expect(title).not.toBe('Duet — meet someone new');
      if (locale === 'ar') {
        // Mirrored: the online count sits on the other side from English, Start's group too.
        expect(await middleOf(page, 'online-count')).toBeLessThan(0.5);
        expect(1 - (await middleOf(page, 'online-count'))).toBeCloseTo(englishOnline, 1);
      }
      await shoot(page, 'ready');

      // Waiting, alone.
      await page.getByTestId('start').click();
      await waitForState(page, 'waiting');
      expect((await joins(page)).map((m) => m.language)).toEqual([locale]);
      await expectLanguage(page, locale);
      await shoot(page, 'waiting');

      // A call with a second person reading the same language.
      const bob = await person({ ...as, initScript: recordSent });
      await bob.page.getByTestId('start').click();
      await Promise.all([waitForState(page, 'connected'), waitForState(bob.page, 'connected')]).catch(async (err: unknown) => {
        const said = [await joins(page), await joins(bob.page), await bob.page.locator('body').innerText()];
        throw new Error(`${String(err)}; joins and states: ${JSON.stringify(said)}`);
      });
      await bob.page.getByTestId('chat-input').fill('¡hola! مرحبا नमस्ते');
      await bob.page.getByTestId('chat-send').click();
      await page.getByTestId('chat-log').getByText('नमस्ते').waitFor();
      await page.getByTestId('meter').waitFor();
      await expectLanguage(page, locale);
      await shoot(page, 'call');

      // The report menu: a dialog that takes the focus, and gives it back to Report on Escape.
      await page.getByTestId('report').click();
      const menu = page.getByRole('dialog');
      await menu.waitFor();
      expect(await menu.getAttribute('aria-modal')).toBe('true');
      expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toMatch(/^report-reason-/);
      if (locale !== 'en') expect(await text(page, 'report-reason-other')).not.toBe('Something else');
      await expectLanguage(page, locale);
      await shoot(page, 'report-menu');
      await page.keyboard.press('Escape');
      await menu.waitFor({ state: 'detached' });
      expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('report');

      // The end of the call, said in the person's language, once the server has billed some of it.
      await expect
        .poll(() => page.getByTestId('meter').getAttribute('data-charged-micros').then(Number), { timeout: 20_000 })
        .toBeGreaterThan(0);
      await page.getByTestId('stop').click();
      await waitForState(page, 'ended');
      expect(await status(page).getAttribute('data-end-reason')).toBe('leave');
      await expectLanguage(page, locale);
      await shoot(page, 'ended');

      // The usage history: the welcome credits' line, with its money and date in the person's locale.
      await page.getByTestId('history-toggle').click();
      await page.getByTestId('history-credit').first().waitFor();
      await expectLanguage(page, locale);
      if (locale !== 'en') expect(await text(page, 'history-balance')).not.toMatch(/credits?$/);
      await shoot(page, 'history');
      await page.keyboard.press('Escape');
      await page.getByTestId('history').waitFor({ state: 'detached' });

      await finish(alice, bob);
    });
  }

  it('the switch changes the language at once, is remembered, and join asks for the chosen language', async () => {
    // Alice's browser says English; she switches to Spanish. Bob's browser says Spanish.
    const alice = await person({ locale: 'en-US', initScript: recordSent });
    expect(await text(alice.page, 'start')).toBe('Start');
    await alice.page.getByTestId('language-switch').selectOption('es');
    await expect.poll(() => text(alice.page, 'start')).toBe('Empezar');
    await expectLanguage(alice.page, 'es');
    expect(await alice.page.getByTestId('language-switch').inputValue()).toBe('es');

    // Remembered across a reload.
    await alice.page.reload();
    await alice.page.getByTestId('start').and(alice.page.locator(':enabled')).waitFor({ timeout: 15_000 });
    await expect.poll(() => text(alice.page, 'start')).toBe('Empezar');
    await expectLanguage(alice.page, 'es');

    // Switching to Arabic mirrors the page at once.
    await alice.page.getByTestId('language-switch').selectOption('ar');
    await expect.poll(() => alice.page.evaluate(() => document.documentElement.dir)).toBe('rtl');
    await expect.poll(() => middleOf(alice.page, 'online-count')).toBeLessThan(0.5);
    await alice.page.getByTestId('language-switch').selectOption('es');
    await expect.poll(() => alice.page.evaluate(() => document.documentElement.dir)).toBe('ltr');

    // join carries Spanish, not the browser's English: she is matched with Bob, whose browser is Spanish.
    const bob = await person({ locale: 'es-ES' });
    await alice.page.getByTestId('start').click();
    await waitForState(alice.page, 'waiting').catch(async (err: unknown) => {
      throw new Error(`${String(err)}: ${await alice.page.locator('body').innerText()}`);
    });
    await bob.page.getByTestId('start').click();
    await Promise.all([waitForState(alice.page, 'connected'), waitForState(bob.page, 'connected')]);
    expect((await joins(alice.page)).map((m) => m.language)).toEqual(['es']);
    expect(await status(alice.page).getAttribute('data-call-id')).toBe(await status(bob.page).getAttribute('data-call-id'));
    await finish(alice, bob);
  });
});
