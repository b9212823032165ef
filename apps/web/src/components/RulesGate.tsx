import { useRef, type ReactNode } from 'react';
import { LanguageSwitch, useAppText } from '../i18n/index.js';
import { useDialogFocus } from './useDialogFocus.js';

/** The rules, accepted once before anything else (it cannot be dismissed: there is nothing behind it yet). */
export function RulesGate({ onAccept, busy }: { onAccept: () => void; busy: boolean }) {
  const t = useAppText();
  // The focus lands on the title, so a screen reader starts reading the rules from the top.
  const title = useRef<HTMLHeadingElement>(null);
  const ref = useDialogFocus<HTMLDivElement>(undefined, title);
  const strong = (chunks: ReactNode[]) => <strong>{chunks}</strong>;
  return (
    <div ref={ref} className="gate" role="dialog" aria-modal="true" aria-labelledby="gate-title" aria-describedby="gate-lead">
      <div className="gate-card">
        {/* The rules come first, so the language can be chosen here too (the page's own switch is behind this). */}
        <LanguageSwitch label={t('app.language')} className="language-switch gate-language" compact />
        <h1 id="gate-title" ref={title} tabIndex={-1}>
          {t('app.rules.title')}
        </h1>
        <p id="gate-lead">{t('app.rules.lead')}</p>
        <ul>
          <li>{t.rich('app.rules.age', { strong })}</li>
          <li>{t('app.rules.conduct')}</li>
          <li>{t('app.rules.consent')}</li>
          <li>{t.rich('app.rules.tools', { strong })}</li>
        </ul>
        <p className="fine">{t('app.rules.moderation')}</p>
        <button className="btn primary wide" data-testid="accept-rules" onClick={onAccept} disabled={busy}>
          {t('app.rules.accept')}
        </button>
      </div>
    </div>
  );
}
