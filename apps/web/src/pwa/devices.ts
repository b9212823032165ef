import { ScreenWakeLock } from '@duet/client';
import { useEffect, useRef, useState, useSyncExternalStore } from 'react';

/**
 * Keeps the screen on while `active` (where the browser can), asking again each time the page is
 * shown; returns whether it is held. The SDK already does this during a call (`client.devices`);
 * this is for the app's own moments, e.g. while waiting to be matched.
 */
export function useWakeLock(active: boolean): boolean {
  const [held, setHeld] = useState(false);
  useEffect(() => {
    if (!active) return;
    const lock = new ScreenWakeLock();
    const off = lock.on('change', (e) => setHeld(e.held));
    void lock.hold(true);
    return () => {
      off();
      lock.close();
      setHeld(false);
    };
  }, [active]);
  return held;
}

const subscribeVisibility = (onChange: () => void) => {
  document.addEventListener('visibilitychange', onChange);
  return () => document.removeEventListener('visibilitychange', onChange);
};

/**
 * Whether the page is visible (false while another app, a phone call or a locked screen hides it),
 * and `onChange(visible)` on each change. The SDK already turns the camera off while hidden.
 */
export function usePageVisibility(onChange?: (visible: boolean) => void): boolean {
  const visible = useSyncExternalStore(
    subscribeVisibility,
    () => document.visibilityState === 'visible',
    () => true,
  );
  const callback = useRef(onChange);
  useEffect(() => {
    callback.current = onChange;
  });
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    callback.current?.(visible);
  }, [visible]);
  return visible;
}
