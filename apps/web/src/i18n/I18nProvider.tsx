import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { IntlProvider, useIntl, type IntlShape } from 'react-intl';
import { ENGLISH, loadMessages, type AppMessageId, type Catalogue, type ConsoleMessageId, type Messages } from './catalogues.js';
import { chosenLocale, directionOf, pickLocale, type Locale } from './locales.js';

interface LocaleChoice {
  /** The language chosen (the page shows it once its messages have loaded, a moment later at most). */
  locale: Locale;
  /** Shows the page in `locale` from now on, and remembers it for this browser. */
  setLocale: (locale: Locale) => void;
}

const LocaleContext = createContext<LocaleChoice>({ locale: 'en', setLocale: () => {} });

declare global {
  interface Window {
    /** Message ids a page asked for that its language lacks (read by the e2e tests). */
    __duetMissingMessages?: string[];
  }
}

function reportMissing(locale: Locale, ids: readonly string[]): void {
  if (ids.length === 0) return;
  (window.__duetMissingMessages ??= []).push(...ids.map((id) => `${locale}:${id}`));
  console.error(`[i18n] ${ids.length} message(s) missing in ${locale}: ${ids.join(', ')}`);
}

/**
 * The page's language: the person's choice, else the browser's, else English. It sets the
 * document's `lang` and `dir` (Arabic reads right to left), and loads the catalogue's messages in
 * that language; until they arrive the page keeps showing the language it had.
 */
export function I18nProvider({ catalogue, children }: { catalogue: Catalogue; children: ReactNode }) {
  const [locale, setLocaleState] = useState<Locale>(() => pickLocale(chosenLocale.get(), navigator.languages ?? [navigator.language]));
  const [shown, setShown] = useState<{ locale: Locale; messages: Messages }>({ locale: 'en', messages: ENGLISH[catalogue] });

  useEffect(() => {
    let cancelled = false;
    void loadMessages(catalogue, locale).then(({ messages, missing }) => {
      if (cancelled) return;
      reportMissing(locale, missing);
      setShown({ locale, messages });
    });
    return () => {
      cancelled = true;
    };
  }, [catalogue, locale]);

  useEffect(() => {
    document.documentElement.lang = shown.locale;
    document.documentElement.dir = directionOf(shown.locale);
  }, [shown.locale]);

  const setLocale = useCallback((next: Locale) => {
    chosenLocale.set(next);
    setLocaleState(next);
  }, []);
  // The language asked for, even before its messages arrive: a Start pressed right after switching matches by it.
  const choice = useMemo(() => ({ locale, setLocale }), [locale, setLocale]);

  return (
    <LocaleContext.Provider value={choice}>
      <IntlProvider
        locale={shown.locale}
        defaultLocale="en"
        messages={shown.messages}
        onError={(err) => {
          if (err.code === 'MISSING_TRANSLATION')
            reportMissing(shown.locale, [String((err as { descriptor?: { id?: unknown } }).descriptor?.id)]);
          else console.error('[i18n]', err.message);
        }}
      >
        {children}
      </IntlProvider>
    </LocaleContext.Provider>
  );
}

export function useLocale(): LocaleChoice {
  return useContext(LocaleContext);
}

type Values = Record<string, string | number | Date | null | undefined>;
type RichValues = Record<string, ReactNode | ((chunks: ReactNode[]) => ReactNode)>;

export interface Text<Id extends string> {
  /** The message as plain text (for attributes, titles and aria labels too). */
  (id: Id, values?: Values): string;
  /** The message with elements in it: `<b>…</b>` in the message calls `values.b(chunks)`. */
  rich: (id: Id, values: RichValues) => ReactNode;
  intl: IntlShape;
}

function useText<Id extends string>(): Text<Id> {
  const intl = useIntl();
  return useMemo(() => {
    const t = ((id: Id, values?: Values) => intl.formatMessage({ id }, values as Record<string, string | number | Date>)) as Text<Id>;
    t.rich = (id, values) => intl.formatMessage({ id }, values as Record<string, ReactNode>) as ReactNode;
    t.intl = intl;
    return t;
  }, [intl]);
}

/** The people-facing app's messages (ids typed from `app/en.json` and `device/en.json`). */
export const useAppText = (): Text<AppMessageId> => useText<AppMessageId>();
/** The console's messages (ids typed from `console/en.json`). */
export const useConsoleText = (): Text<ConsoleMessageId> => useText<ConsoleMessageId>();
