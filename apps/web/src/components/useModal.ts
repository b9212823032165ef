import { useEffect, useRef, type MouseEvent } from 'react';

/**
 * A modal <dialog> that opens when mounted and reports Escape, the close button and backdrop
 * clicks to `onClose`. `dismissable` says whether a backdrop click may close it right now (not
 * while something must not be interrupted).
 */
export function useModal(onClose: () => void, dismissable: () => boolean = () => true) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (!d.open) d.showModal();
    const closed = () => onClose();
    d.addEventListener('close', closed);
    return () => d.removeEventListener('close', closed);
  }, [onClose]);
  const onClick = (e: MouseEvent<HTMLDialogElement>) => {
    // A click on the backdrop lands on the dialog itself, outside its inner box.
    if (e.target === e.currentTarget && dismissable()) ref.current?.close();
  };
  return { ref, onClick, close: () => ref.current?.close() };
}
