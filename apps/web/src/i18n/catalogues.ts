import type { Locale } from './locales.js';
import appEn from './app/en.json';
import consoleEn from './console/en.json';
import deviceEn from './device/en.json';

/**
 * Message catalogues: ICU MessageFormat strings by id. The people-facing app reads `app` and
 * `device` (the installable app and its devices); the console reads `console`. English ships with
 * each page; the other languages are fetched as small chunks when chosen.
 */
export type Catalogue = 'app' | 'console';
export type Messages = Record<string, string>;

export const ENGLISH: Record<Catalogue, Messages> = {
  app: { ...appEn, ...deviceEn },
  console: consoleEn,
};

export type AppMessageId = keyof typeof appEn | keyof typeof deviceEn;
export type ConsoleMessageId = keyof typeof consoleEn;

const files = {
  app: import.meta.glob<Messages>(['./app/*.json', '!./app/en.json'], { import: 'default' }),
  device: import.meta.glob<Messages>(['./device/*.json', '!./device/en.json'], { import: 'default' }),
  console: import.meta.glob<Messages>(['./console/*.json', '!./console/en.json'], { import: 'default' }),
};

async function read(folder: keyof typeof files, locale: Locale): Promise<Messages> {
  const load = files[folder][`./${folder}/${locale}.json`];
  return load ? load() : {};
}

/** The catalogue in `locale`, and the English ids it lacks (shown in English). */
export async function loadMessages(catalogue: Catalogue, locale: Locale): Promise<{ messages: Messages; missing: string[] }> {
  const english = ENGLISH[catalogue];
  if (locale === 'en') return { messages: english, missing: [] };
  const parts = catalogue === 'app' ? await Promise.all([read('app', locale), read('device', locale)]) : [await read('console', locale)];
  const own: Messages = Object.assign({}, ...parts);
  const missing = Object.keys(english).filter((id) => typeof own[id] !== 'string');
  return { messages: { ...english, ...own }, missing };
}
