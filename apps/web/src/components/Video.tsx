import { useEffect, useRef, type RefObject } from 'react';

/** A <video> bound to a MediaStream; muted for the local preview so nobody hears themselves. */
export function Video({
  stream,
  muted,
  testId,
  className,
  label,
  videoRef,
  screen,
  unblurred,
}: {
  stream: MediaStream | null;
  muted: boolean;
  testId: string;
  className: string;
  label: string;
  /** The <video> element, for whoever needs it (a report's snapshot). */
  videoRef?: RefObject<HTMLVideoElement | null>;
  /** Blur-first screening's state for this picture (`data-screen`); undefined when screening is off. */
  screen?: 'checking' | 'clear' | 'blurred' | null;
  /** The viewer chose to see this call unblurred. */
  unblurred?: boolean;
}) {
  const own = useRef<HTMLVideoElement>(null);
  const ref = videoRef ?? own;
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (el.srcObject !== stream) el.srcObject = stream;
    if (stream) el.play().catch(() => undefined);
  }, [stream, ref]);
  return (
    <video
      ref={ref}
      data-testid={testId}
      className={stream ? className : `${className} empty`}
      autoPlay
      playsInline
      muted={muted}
      aria-label={label}
      data-screen={screen ?? undefined}
      data-unblurred={unblurred ? 'true' : undefined}
    />
  );
}
