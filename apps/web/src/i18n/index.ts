export { I18nProvider, useAppText, useConsoleText, useLocale, type Text } from './I18nProvider.js';
export { LanguageSwitch } from './LanguageSwitch.js';
export { DEFAULT_LOCALE, LOCALE_NAMES, LOCALES, directionOf, isLocale, pickLocale, type Locale } from './locales.js';
export type { AppMessageId, ConsoleMessageId } from './catalogues.js';
