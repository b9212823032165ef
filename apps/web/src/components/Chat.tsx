import { LIMITS } from '@duet/protocol';
import type { ChatMessage } from '@duet/client';
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { useAppText } from '../i18n/index.js';

export function Chat({ messages, enabled, onSend }: { messages: ChatMessage[]; enabled: boolean; onSend: (text: string) => void }) {
  const t = useAppText();
  const id = useId();
  const [draft, setDraft] = useState('');
  const logRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    logRef.current?.scrollTo({ top: logRef.current.scrollHeight });
  }, [messages]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!draft.trim()) return;
    onSend(draft);
    setDraft('');
  };

  return (
    <section className="chat" aria-label={t('app.chat.label')}>
      {/* A log: new messages are read out politely as they arrive, earlier ones are not repeated. */}
      <div
        className="chat-log"
        data-testid="chat-log"
        ref={logRef}
        role="log"
        aria-label={t('app.chat.log')}
        aria-live="polite"
        tabIndex={0}
      >
        {messages.length === 0 && <div className="chat-empty">{enabled ? t('app.chat.sayHi') : t('app.chat.closed')}</div>}
        {messages.map((m) => (
          <div key={`${m.at}-${m.from}-${m.text}`} className={`msg ${m.from}`}>
            <span className="who">{m.from === 'you' ? t('app.chat.you') : t('app.chat.stranger')}</span> <bdi>{m.text}</bdi>
          </div>
        ))}
      </div>
      <form className="chat-form" onSubmit={submit}>
        <label className="sr-only" htmlFor={`${id}-input`}>
          {t('app.chat.input')}
        </label>
        <input
          id={`${id}-input`}
          data-testid="chat-input"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          maxLength={LIMITS.maxChatChars}
          placeholder={enabled ? t('app.chat.placeholder') : t('app.chat.notInCall')}
          disabled={!enabled}
          autoComplete="off"
        />
        <button className="btn" data-testid="chat-send" type="submit" disabled={!enabled || !draft.trim()}>
          {t('app.chat.send')}
        </button>
      </form>
    </section>
  );
}
