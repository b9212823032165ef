import { LIMITS } from '@duet/protocol';
import type { ChatMessage } from '@duet/client';
import { useEffect, useRef, useState, type FormEvent } from 'react';

export function Chat({ messages, enabled, onSend }: { messages: ChatMessage[]; enabled: boolean; onSend: (text: string) => void }) {
  const [draft, setDraft] = useState('');
  const logRef = useRef<HTMLOListElement>(null);
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
    <section className="chat" aria-label="Text chat">
      <ol className="chat-log" data-testid="chat-log" ref={logRef} aria-live="polite">
        {messages.length === 0 && <li className="chat-empty">{enabled ? 'Say hi!' : 'Chat opens when you’re matched.'}</li>}
        {messages.map((m) => (
          <li key={`${m.at}-${m.from}-${m.text}`} className={`msg ${m.from}`}>
            <span className="who">{m.from === 'you' ? 'You' : 'Stranger'}</span> {m.text}
          </li>
        ))}
      </ol>
      <form className="chat-form" onSubmit={submit}>
        <input
          data-testid="chat-input"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          maxLength={LIMITS.maxChatChars}
          placeholder={enabled ? 'Type a message' : 'Not in a call'}
          disabled={!enabled}
          aria-label="Chat message"
        />
        <button className="btn" data-testid="chat-send" type="submit" disabled={!enabled || !draft.trim()}>
          Send
        </button>
      </form>
    </section>
  );
}
