import type { BanNotice } from '@duet/client';
import { useState, type FormEvent } from 'react';
import { LanguageSwitch, useAppText, type AppMessageId, type Text } from '../i18n/index.js';

const MIN_APPEAL = 10;
const MAX_APPEAL = 2000;

type Sending = { status: 'idle' } | { status: 'sending' } | { status: 'sent' } | { status: 'error'; message: string };

/** Instead of the app: why this person is banned, until when, and an appeal to the moderators. */
export function BannedScreen({ ban, onAppeal }: { ban: BanNotice; onAppeal: (message: string) => Promise<void> }) {
  const t = useAppText();
  const [text, setText] = useState('');
  const [sending, setSending] = useState<Sending>({ status: 'idle' });
  const temporary = ban.until !== null;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const message = text.trim();
    if (message.length < MIN_APPEAL) {
      setSending({ status: 'error', message: t('app.banned.tooShort', { min: MIN_APPEAL }) });
      return;
    }
    setSending({ status: 'sending' });
    try {
      await onAppeal(message);
      setSending({ status: 'sent' });
    } catch (err) {
      setSending({ status: 'error', message: err instanceof Error ? err.message : t('app.banned.sendFailed') });
    }
  };

  return (
    <main className="banned" data-testid="banned">
      <div className="banned-card">
        <div className="brand">
          <span className="dot a" aria-hidden="true" />
          <span className="dot b" aria-hidden="true" />
          Duet
        </div>
        <LanguageSwitch label={t('app.language')} compact />
        <h1>{temporary ? t('app.banned.suspendedTitle') : t('app.banned.bannedTitle')}</h1>
        <p className="banned-lead">{temporary ? t('app.banned.suspendedLead') : t('app.banned.bannedLead')}</p>
        <dl className="banned-facts">
          <div>
            <dt>{t('app.banned.why')}</dt>
            <dd data-testid="ban-reason">{ban.reason}</dd>
          </div>
          <div>
            <dt>{t('app.banned.until')}</dt>
            <dd data-testid="ban-until">{temporary ? untilText(t, ban.until!) : t('app.banned.permanently')}</dd>
          </div>
        </dl>

        <section className="appeal" aria-labelledby="appeal-title">
          <h2 id="appeal-title">{t('app.banned.appealTitle')}</h2>
          {/* The server's `appeal` is the same sentence in English: said here in the page's language. */}
          <p className="fine">{t('app.banned.appealHint')}</p>
          {sending.status === 'sent' ? (
            <p className="appeal-result ok" role="status" data-testid="appeal-result">
              {t('app.banned.appealSent')}
            </p>
          ) : (
            <form onSubmit={submit} noValidate>
              <label className="sr-only" htmlFor="appeal-text">
                {t('app.banned.appealLabel')}
              </label>
              <textarea
                id="appeal-text"
                data-testid="appeal-text"
                value={text}
                onChange={(e) => {
                  setText(e.target.value);
                  if (sending.status === 'error') setSending({ status: 'idle' });
                }}
                maxLength={MAX_APPEAL}
                rows={5}
                placeholder={t('app.banned.appealPlaceholder')}
                aria-invalid={sending.status === 'error'}
                aria-describedby={sending.status === 'error' ? 'appeal-error' : 'appeal-count'}
              />
              <div className="appeal-row">
                <span id="appeal-count" className="fine">
                  {text.trim().length < MIN_APPEAL
                    ? t('app.banned.atLeast', { min: MIN_APPEAL })
                    : t('app.banned.count', { n: text.length, max: MAX_APPEAL })}
                </span>
                <button className="btn primary" data-testid="appeal-send" type="submit" disabled={sending.status === 'sending'}>
                  {sending.status === 'sending' ? t('app.banned.sending') : t('app.banned.send')}
                </button>
              </div>
              {sending.status === 'error' && (
                <p id="appeal-error" className="appeal-result bad" role="alert" data-testid="appeal-result">
                  {sending.message}
                </p>
              )}
            </form>
          )}
        </section>
      </div>
    </main>
  );
}

function untilText(t: Text<AppMessageId>, at: number): string {
  return t.intl.formatDate(at, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit' });
}
