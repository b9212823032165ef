import { useEffect, useRef, type RefObject } from 'react';

const FOCUSABLE =
  'button:not([disabled]), [href], input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/**
 * Keyboard behaviour of a dialog drawn as an element (not a native <dialog>): the focus moves in
 * when it opens (to `initial`, else its first control), Tab and Shift+Tab stay inside it, Escape
 * calls `onEscape` (when given), and the focus goes back where it was when it closes.
 */
export function useDialogFocus<T extends HTMLElement>(onEscape?: () => void, initial?: RefObject<HTMLElement | null>): RefObject<T | null> {
  const ref = useRef<T>(null);
  const escape = useRef(onEscape);
  useEffect(() => {
    escape.current = onEscape;
  }, [onEscape]);

  useEffect(() => {
    const box = ref.current;
    if (!box) return;
    const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const controls = () => [...box.querySelectorAll<HTMLElement>(FOCUSABLE)];
    (initial?.current ?? controls()[0] ?? box).focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape' && escape.current) {
        e.preventDefault();
        e.stopPropagation();
        escape.current();
        return;
      }
      if (e.key !== 'Tab') return;
      const all = controls();
      if (all.length === 0) return;
      const first = all[0]!;
      const last = all[all.length - 1]!;
      if (e.shiftKey && (document.activeElement === first || !box.contains(document.activeElement))) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && (document.activeElement === last || !box.contains(document.activeElement))) {
        e.preventDefault();
        first.focus();
      }
    };
    document.addEventListener('keydown', onKey, true);
    return () => {
      document.removeEventListener('keydown', onKey, true);
      // Back where the person was, if that control is still there.
      if (before?.isConnected && box.contains(document.activeElement ?? null)) before.focus();
      else if (before?.isConnected && document.activeElement === document.body) before.focus();
    };
    // Once per opening: the dialog's element is made when it opens and goes when it closes.
  }, [initial]);
  return ref;
}
