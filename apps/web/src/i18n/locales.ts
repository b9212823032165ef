/**
 * The languages Duet speaks. English is the source: every other catalogue has exactly its keys
 * (i18n.test.ts), and a key missing at run time is reported (see I18nProvider) and shown in English.
 */
export const LOCALES = ['en', 'es', 'pt', 'ar', 'hi'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'en';

/** Each language in its own words, for the switch. */
export const LOCALE_NAMES: Record<Locale, string> = {
  en: 'English',
  es: 'Español',
  pt: 'Português',
  ar: 'العربية',
  hi: 'हिन्दी',
};

const RIGHT_TO_LEFT: ReadonlySet<Locale> = new Set(['ar']);

export function directionOf(locale: Locale): 'ltr' | 'rtl' {
  return RIGHT_TO_LEFT.has(locale) ? 'rtl' : 'ltr';
}

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

/**
 * The language to show: the person's own choice if they made one, else the first of the browser's
 * languages Duet speaks (`pt-BR` → `pt`), else English.
 */
export function pickLocale(chosen: string | null | undefined, preferred: readonly string[]): Locale {
  if (isLocale(chosen)) return chosen;
  for (const tag of preferred) {
    const primary = tag.toLowerCase().split('-')[0];
    if (isLocale(primary)) return primary;
  }
  return DEFAULT_LOCALE;
}

const STORAGE_KEY = 'duet.locale';

export const chosenLocale = {
  get(): string | null {
    try {
      return localStorage.getItem(STORAGE_KEY);
    } catch {
      return null;
    }
  },
  set(locale: Locale): void {
    try {
      localStorage.setItem(STORAGE_KEY, locale);
    } catch {
      // Private mode: the choice lasts for this page only.
    }
  },
};
