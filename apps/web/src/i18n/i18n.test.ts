import { readFileSync } from 'node:fs';
import { TYPE, parse, type MessageFormatElement } from '@formatjs/icu-messageformat-parser';
import { VERIFICATION_REASONS } from '@duet/protocol';
import { describe, expect, it } from 'vitest';
import { LOCALES, pickLocale } from './locales.js';

const FOLDERS = ['app', 'device', 'console'] as const;
const read = (folder: string, locale: string): Record<string, string> =>
  JSON.parse(readFileSync(new URL(`./${folder}/${locale}.json`, import.meta.url), 'utf8')) as Record<string, string>;

/** The argument names a message uses (`{name}`, `{n, plural, …}`, `<b>…</b>`), nested ones too. */
function argumentsOf(elements: MessageFormatElement[], into = new Set<string>()): Set<string> {
  for (const e of elements) {
    if (e.type === TYPE.literal || e.type === TYPE.pound) continue;
    into.add(e.value);
    if (e.type === TYPE.tag) argumentsOf(e.children, into);
    if (e.type === TYPE.plural || e.type === TYPE.select) for (const option of Object.values(e.options)) argumentsOf(option.value, into);
  }
  return into;
}

describe('message catalogues', () => {
  for (const folder of FOLDERS) {
    const english = read(folder, 'en');
    describe(folder, () => {
      it('English ids are namespaced and every message parses', () => {
        const prefix = folder === 'console' ? 'console.' : folder === 'device' ? 'device.' : 'app.';
        for (const [id, message] of Object.entries(english)) {
          expect(id.startsWith(prefix), id).toBe(true);
          expect(() => parse(message), id).not.toThrow();
        }
      });
      for (const locale of LOCALES.filter((l) => l !== 'en')) {
        it(`${locale} has exactly the English ids, each parsing, with the same arguments`, () => {
          const own = read(folder, locale);
          expect(Object.keys(own).sort()).toEqual(Object.keys(english).sort());
          for (const [id, message] of Object.entries(own)) {
            let parsed: MessageFormatElement[] = [];
            expect(() => (parsed = parse(message)), `${locale} ${id}`).not.toThrow();
            expect([...argumentsOf(parsed)].sort(), `${locale} ${id}`).toEqual([...argumentsOf(parse(english[id]!))].sort());
          }
        });
      }
    });
  }
});

describe('pickLocale', () => {
  it('takes the choice, else the first browser language Duet speaks, else English', () => {
    expect(pickLocale('ar', ['es-ES'])).toBe('ar');
    expect(pickLocale('xx', ['fr-FR', 'pt-BR', 'es'])).toBe('pt');
    expect(pickLocale(null, ['HI-in'])).toBe('hi');
    expect(pickLocale(null, ['fr', 'de'])).toBe('en');
    expect(pickLocale(undefined, [])).toBe('en');
  });
});

describe('the server’s codes', () => {
  it('every reason a liveness check can fail for has a sentence for the person', () => {
    const english = read('app', 'en');
    for (const code of VERIFICATION_REASONS) expect(english[`app.verify.reason.${code}`], code).toBeTypeOf('string');
  });
});
