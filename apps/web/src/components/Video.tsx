import { useEffect, useRef } from 'react';

/** A <video> bound to a MediaStream; muted for the local preview so nobody hears themselves. */
export function Video({ stream, muted, testId, className, label }: { stream: MediaStream | null; muted: boolean; testId: string; className: string; label: string }) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (el.srcObject !== stream) el.srcObject = stream;
    if (stream) el.play().catch(() => undefined);
  }, [stream]);
  return <video ref={ref} data-testid={testId} className={stream ? className : `${className} empty`} autoPlay playsInline muted={muted} aria-label={label} />;
}
