import { useEffect } from 'react';
import { createStore, useStore } from './store.js';

/**
 * Whether the person is in a call or about to be (waiting, connecting, connected, reconnecting).
 * The app sets it; the update flow reads it, so a new version never reloads the page mid-call.
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
