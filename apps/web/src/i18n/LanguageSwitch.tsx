import { useId } from 'react';
import { useLocale } from './I18nProvider.js';
import { LOCALE_NAMES, LOCALES, isLocale } from './locales.js';

/**
 * A select of the languages, each named in itself; `label` is the visible label in the page's language.
 * `compact`: on a narrow screen the label is for screen readers only (the select names the language to the eye).
 */
export function LanguageSwitch({ label, className, compact = false }: { label: string; className?: string; compact?: boolean }) {
  const { locale, setLocale } = useLocale();
  const id = useId();
  return (
    <span className={className ?? 'language-switch'}>
      <label htmlFor={id} className={compact ? 'sr-only-narrow' : undefined}>
        {label}
      </label>
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
