import type { BanNotice } from '@duet/client';
import { useState, type FormEvent } from 'react';

const MIN_APPEAL = 10;
const MAX_APPEAL = 2000;

type Sending = { status: 'idle' } | { status: 'sending' } | { status: 'sent' } | { status: 'error'; message: string };

/** Instead of the app: why this person is banned, until when, and an appeal to the moderators. */
export function BannedScreen({ ban, onAppeal }: { ban: BanNotice; onAppeal: (message: string) => Promise<void> }) {
  const [text, setText] = useState('');
  const [sending, setSending] = useState<Sending>({ status: 'idle' });
  const temporary = ban.until !== null;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const message = text.trim();
    if (message.length < MIN_APPEAL) {
      setSending({ status: 'error', message: `Tell us a little more (${MIN_APPEAL} characters at least).` });
      return;
    }
    setSending({ status: 'sending' });
    try {
      await onAppeal(message);
      setSending({ status: 'sent' });
    } catch (err) {
      setSending({ status: 'error', message: err instanceof Error ? err.message : 'Your appeal could not be sent. Try again.' });
    }
  };

  return (
    <main className="banned" data-testid="banned">
      <div className="banned-card">
        <div className="brand" aria-label="Duet">
          <span className="dot a" />
          <span className="dot b" />
          Duet
        </div>
        <h1>{temporary ? 'Your account is suspended' : 'Your account is banned'}</h1>
        <p className="banned-lead">
          You can’t meet anyone on Duet {temporary ? 'until the suspension ends' : 'any more'}. Our moderators made this decision after
          reviewing what happened.
        </p>
        <dl className="banned-facts">
          <div>
            <dt>Why</dt>
            <dd data-testid="ban-reason">{ban.reason}</dd>
          </div>
          <div>
            <dt>Until</dt>
            <dd data-testid="ban-until">{temporary ? untilText(ban.until!) : 'Permanently'}</dd>
          </div>
        </dl>

        <section className="appeal" aria-labelledby="appeal-title">
          <h2 id="appeal-title">Think this is a mistake?</h2>
          <p className="fine">{ban.appeal}</p>
          {sending.status === 'sent' ? (
            <p className="appeal-result ok" role="status" data-testid="appeal-result">
              Your appeal was sent. A moderator will read it and decide; if the ban is lifted, Duet works again the next time you open it.
            </p>
          ) : (
            <form onSubmit={submit} noValidate>
              <label className="sr-only" htmlFor="appeal-text">
                Your appeal
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
                placeholder="Explain what happened, in your own words."
                aria-invalid={sending.status === 'error'}
                aria-describedby={sending.status === 'error' ? 'appeal-error' : 'appeal-count'}
              />
              <div className="appeal-row">
                <span id="appeal-count" className="fine">
                  {text.trim().length < MIN_APPEAL ? `At least ${MIN_APPEAL} characters` : `${text.length} / ${MAX_APPEAL}`}
                </span>
                <button className="btn primary" data-testid="appeal-send" type="submit" disabled={sending.status === 'sending'}>
                  {sending.status === 'sending' ? 'Sending…' : 'Send appeal'}
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

function untilText(t: number): string {
  return new Intl.DateTimeFormat(undefined, {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  }).format(t);
}
