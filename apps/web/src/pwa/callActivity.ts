import { useEffect } from 'react';
import { createStore, useStore } from './store.js';

/**
 * Whether the person is in a call or about to be (waiting, connecting, connected, reconnecting).
 * The update flow reads it, so a new version never reloads the page mid-call. It follows the app's
 * `call-status` element (`followCallStatus`, started by main.tsx); the app may also set it itself.
 */
export const callActivity = createStore(false);

export function setInCall(active: boolean): void {
  callActivity.set(active);
}

export function isInCall(): boolean {
  return callActivity.get();
}

export const useInCall = (): boolean => useStore(callActivity);

/** Keeps `callActivity` in step with the app's call (true while `active`, false when unmounted). */
export function useCallActivity(active: boolean): void {
  useEffect(() => {
    setInCall(active);
    return () => setInCall(false);
  }, [active]);
}

const ACTIVE = new Set(['waiting', 'connecting', 'connected', 'reconnecting']);

/**
 * Keeps `callActivity` in step with the page's `[data-testid="call-status"]` and its `data-state`
 * (a stable contract of the app, see PRODUCT.md), so the guarantee holds whatever renders the call.
 */
export function followCallStatus(root: Node = document.body): () => void {
  const read = () => {
    const state = document.querySelector('[data-testid="call-status"]')?.getAttribute('data-state') ?? '';
    setInCall(ACTIVE.has(state));
  };
  const observer = new MutationObserver(read);
  observer.observe(root, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
  read();
  return () => observer.disconnect();
}
