import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { DESKTOP, finish, meet, screenshot, screenshotBothSizes, useDuet, type Person, type Viewport } from './harness.js';

// The console in every language it speaks: each section renders with no message missing, Spanish
// reads differently from English, Arabic is right to left and mirrored, and the language switch
// changes the language and keeps it after a reload.

const TOKEN = 'e2e-console-i18n-token-0123456789';
const LOCALES = [
  { locale: 'en', browser: 'en-US' },
  { locale: 'es', browser: 'es-ES' },
  { locale: 'pt', browser: 'pt-BR' },
  { locale: 'ar', browser: 'ar-EG' },
  { locale: 'hi', browser: 'hi-IN' },
] as const;
// The operator's token sees every section (admins' Economics and Staff included).
const SECTIONS = ['live', 'reports', 'age', 'bans', 'appeals', 'audit', 'insights', 'economics', 'staff'] as const;

const duet = useDuet({ env: { ADMIN_TOKEN: TOKEN } });

/** The console signed in with the operator's token, in a browser set to `browserLocale`. */
async function openConsole(browserLocale: string, viewport: Viewport = DESKTOP): Promise<Person> {
  const admin = await duet.person({ path: '/admin', viewport, ready: false, locale: browserLocale });
  await admin.page.getByTestId('admin-token').fill(TOKEN);
  await admin.page.getByTestId('admin-login').click();
  await admin.page.getByTestId('whoami').waitFor();
  return admin;
}

const missing = (page: Page) =>
  page.evaluate(() => (window as unknown as { __duetMissingMessages?: string[] }).__duetMissingMessages ?? []);
const docLang = (page: Page) => page.evaluate(() => ({ lang: document.documentElement.lang, dir: document.documentElement.dir }));

/** Opens a section and waits until it has loaded (no spinner left). */
async function visit(page: Page, section: (typeof SECTIONS)[number]): Promise<void> {
  await page.getByTestId(`nav-${section}`).click();
  await page.getByTestId(`section-${section}`).waitFor();
  await expect.poll(() => page.locator('main .loading').count(), { timeout: 10_000 }).toBe(0);
}

/** Each tab's label, by section (the badge's count and its screen-reader words left out). */
function tabLabels(page: Page): Promise<Record<string, string>> {
  return page.evaluate(
    (sections) => {
      const out: Record<string, string> = {};
      for (const s of sections) {
        const tab = document.querySelector(`[data-testid="nav-${s}"]`);
        out[s] = [...(tab?.childNodes ?? [])]
          .filter((n) => n.nodeType === Node.TEXT_NODE)
          .map((n) => n.textContent)
          .join('')
          .trim();
      }
      return out;
    },
    SECTIONS as unknown as string[],
  );
}

describe('the console in five languages', () => {
  it('renders every section in each language with no missing message; Arabic is right to left and mirrored', async () => {
    // Something to show: a real call (the dashboard's charts and tiles), a ban (a table with a row) and its audit entry.
    const [alice, bob] = await duet.pair();
    await meet(alice, bob);
    await alice.page.getByTestId('stop').click();
    await finish(alice, bob);
    const banned = await fetch(`${duet.server.url}/api/admin/bans`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ userId: randomUUID(), reason: 'Spam links in the chat', days: 7 }),
    });
    expect(banned.ok, `ban: ${banned.status}`).toBe(true);

    const labels: Record<string, Record<string, string>> = {};
    const brandSide: Record<string, 'left' | 'right'> = {};
    for (const { locale, browser } of LOCALES) {
      const admin = await openConsole(browser);
      const page = admin.page;
      await expect.poll(() => docLang(page)).toEqual({ lang: locale, dir: locale === 'ar' ? 'rtl' : 'ltr' });
      for (const section of SECTIONS) await visit(page, section);
      expect(await missing(page), `${locale}: missing messages`).toEqual([]);
      labels[locale] = await tabLabels(page);

      // Mirrored: the brand starts the header row, on the left in English and on the right in Arabic.
      const brand = (await page.locator('.bar .brand').boundingBox())!;
      brandSide[locale] = brand.x + brand.width / 2 < DESKTOP.width / 2 ? 'left' : 'right';

      if (locale === 'es' || locale === 'ar') {
        await visit(page, 'insights');
        await page.getByTestId('chart-calls').waitFor();
        await screenshotBothSizes(page, (size) => `console-${locale}-insights-${size}`, { fullPage: true });

        // The call's detail is a labelled modal dialog: focus moves into it, Escape closes it, focus comes back.
        const open = page.locator('[data-testid="worst-calls"] button.score').first();
        await open.focus();
        await page.keyboard.press('Enter');
        const dialog = page.getByRole('dialog', { name: locale === 'es' ? 'Llamada' : 'المكالمة' });
        await dialog.waitFor();
        expect(await dialog.evaluate((d) => d.contains(document.activeElement))).toBe(true);
        await screenshot(page, `console-${locale}-call-detail-desktop`);
        await page.keyboard.press('Escape');
        await dialog.waitFor({ state: 'hidden' });
        expect(await open.evaluate((b) => b === document.activeElement)).toBe(true);
        await visit(page, 'bans');
        await page.getByTestId('ban-row').first().waitFor();
        await screenshotBothSizes(page, (size) => `console-${locale}-bans-${size}`, { fullPage: true });
      }
      await finish(admin);
    }

    for (const section of SECTIONS) {
      expect(labels.es![section], `the ${section} tab in Spanish`).not.toBe(labels.en![section]);
      expect(labels.ar![section], `the ${section} tab in Arabic`).not.toBe(labels.en![section]);
    }
    expect(labels.en!.insights).toBe('Insights');
    expect(brandSide).toMatchObject({ en: 'left', es: 'left', ar: 'right' });
  });

  it('the switch changes the language, on the sign-in screen too, and keeps it after a reload', async () => {
    const admin = await duet.person({ path: '/admin', ready: false });
    const page = admin.page;
    // Signed out: the switch is on the sign-in screen.
    await page.getByTestId('language-switch').selectOption('pt');
    await expect.poll(() => page.getByTestId('admin-login').textContent()).toBe('Entrar com token');
    await page.getByTestId('admin-token').fill(TOKEN);
    await page.getByTestId('admin-login').click();
    await page.getByTestId('whoami').waitFor();
    expect(await page.getByTestId('nav-insights').textContent()).toBe('Métricas');

    // Signed in: to Arabic, right to left; then a reload keeps it.
    await page.getByTestId('language-switch').selectOption('ar');
    await expect.poll(() => docLang(page)).toEqual({ lang: 'ar', dir: 'rtl' });
    await expect.poll(() => page.getByTestId('sign-out').textContent()).toBe('تسجيل الخروج');
    await page.reload();
    await page.getByTestId('whoami').waitFor();
    await expect.poll(() => page.getByTestId('sign-out').textContent()).toBe('تسجيل الخروج');
    expect(await docLang(page)).toEqual({ lang: 'ar', dir: 'rtl' });
    expect(await page.getByTestId('language-switch').inputValue()).toBe('ar');

    // And back to English, word for word as before.
    await page.getByTestId('language-switch').selectOption('en');
    await expect.poll(() => page.getByTestId('sign-out').textContent()).toBe('Sign out');
    expect(await docLang(page)).toEqual({ lang: 'en', dir: 'ltr' });
    expect(await missing(page)).toEqual([]);
    await finish(admin);
  });
});
