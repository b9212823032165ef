import { useId } from 'react';
import { useLocale } from './I18nProvider.js';
import { LOCALE_NAMES, LOCALES, isLocale } from './locales.js';

/** A select of the languages, each named in itself; `label` is the visible label in the page's language. */
export function LanguageSwitch({ label, className }: { label: string; className?: string }) {
  const { locale, setLocale } = useLocale();
  const id = useId();
  return (
    <span className={className ?? 'language-switch'}>
      <label htmlFor={id}>{label}</label>
      <select id={id} value={locale} onChange={(e) => isLocale(e.target.value) && setLocale(e.target.value)} data-testid="language-switch">
        {LOCALES.map((l) => (
          <option key={l} value={l} lang={l}>
            {LOCALE_NAMES[l]}
          </option>
        ))}
      </select>
    </span>
  );
}
