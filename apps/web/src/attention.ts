import { useEffect, useRef, useState } from 'react';
import { useAppText } from './i18n/index.js';
import type { DuetView } from './useDuet.js';

const FLASH_MS = 1000;

/**
 * Draws a person back to a tab they left in the background: the title flashes until the tab is
 * visible again, and a browser notification shows if they allowed them. Nothing happens while
 * the tab is visible: they can already see what changed.
 */
export class TabAttention {
  #timer: ReturnType<typeof setInterval> | undefined;
  #title: string | null = null;
  #notification: Notification | undefined;

  constructor() {
    document.addEventListener('visibilitychange', this.#onVisibility);
  }

  static get hidden(): boolean {
    return document.visibilityState === 'hidden';
  }

  /**
   * Flashes `flashTitle` (`● <message> — Duet`) in the title and notifies with `message` and
   * `body`; false (and nothing) if the tab is visible.
   */
  alert(message: string, body: string, flashTitle = `● ${message} — Duet`): boolean {
    if (!TabAttention.hidden) return false;
    this.#flash(flashTitle);
    this.#notify(message, body);
    return true;
  }

  /** Back to normal: the page's own title, no notification. */
  clear(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#title !== null) document.title = this.#title;
    this.#title = null;
    this.#notification?.close();
    this.#notification = undefined;
  }

  dispose(): void {
    this.clear();
    document.removeEventListener('visibilitychange', this.#onVisibility);
  }

  #flash(alertTitle: string): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#title ??= document.title;
    const original = this.#title;
    let on = true;
    document.title = alertTitle;
    this.#timer = setInterval(() => {
      on = !on;
      document.title = on ? alertTitle : original;
    }, FLASH_MS);
  }

  #notify(title: string, body: string): void {
    if (notificationPermission() !== 'granted') return;
    try {
      this.#notification?.close();
      const n = new Notification(title, { body, tag: 'duet-attention', icon: '/icon.svg' });
      n.onclick = () => {
        window.focus();
        n.close();
      };
      this.#notification = n;
    } catch {
      // Some mobile browsers allow notifications only from a service worker; the title still flashes.
    }
  }

  #onVisibility = () => {
    if (!TabAttention.hidden) this.clear();
  };
}

export type NotifyPermission = NotificationPermission | 'unsupported';

export function notificationPermission(): NotifyPermission {
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
}

/**
 * "Notify me": asks for notification permission only when the person clicks (never on load), and
 * wires the alerts to what happens while the tab is hidden:
 * - a match lands while waiting: always;
 * - someone arrives when this person was alone: while waiting, or while idle if they asked.
 */
export function useAttention(view: Pick<DuetView, 'phase' | 'state' | 'online'>) {
  const t = useAppText();
  const attention = useRef<TabAttention | null>(null);
  const [wanted, setWanted] = useState(false);
  const [permission, setPermission] = useState<NotifyPermission>(notificationPermission);
  const previous = useRef({ state: view.state, online: view.online });

  useEffect(() => {
    const a = new TabAttention();
    attention.current = a;
    return () => {
      a.dispose();
      attention.current = null;
    };
  }, []);

  useEffect(() => {
    const before = previous.current;
    previous.current = { state: view.state, online: view.online };
    const a = attention.current;
    if (!a || view.phase !== 'ready') return;
    const alert = (message: string, body: string) => a.alert(message, body, t('app.attention.flash', { message }));
    if (before.state === 'waiting' && view.state === 'connecting') {
      alert(t('app.attention.matched'), t('app.attention.matchedBody'));
    } else if (before.online <= 1 && view.online > 1 && (view.state === 'waiting' || (view.state === 'idle' && wanted))) {
      alert(
        t('app.attention.someoneHere'),
        view.state === 'waiting' ? t('app.attention.someoneHereWaiting') : t('app.attention.someoneHereIdle'),
      );
    }
  }, [view.phase, view.state, view.online, wanted, t]);

  const request = async () => {
    setWanted(true);
    if (typeof Notification === 'undefined') return;
    if (Notification.permission === 'default') {
      try {
        setPermission(await Notification.requestPermission());
      } catch {
        setPermission(Notification.permission);
      }
    } else {
      setPermission(Notification.permission);
    }
  };

  return { wanted, permission, request };
}
