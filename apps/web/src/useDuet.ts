import { DuetClient, MediaAccessError, type CallEnd, type CallState, type ChatMessage, type ConnectionStatus } from '@duet/client';
import { useCallback, useEffect, useRef, useState } from 'react';

export type Phase = 'loading' | 'unreachable' | 'rules' | 'camera' | 'ready';

export interface DuetView {
  phase: Phase;
  state: CallState;
  callId: string | null;
  lastEnd: CallEnd | null;
  online: number;
  waiting: number;
  connection: ConnectionStatus;
  localStream: MediaStream | null;
  remoteStream: MediaStream | null;
  chat: ChatMessage[];
  /** A camera or microphone problem, in words a person can act on. */
  mediaError: string | null;
  /** The latest server or network notice (rate limits, reconnecting, ...). */
  notice: string | null;
}

const initial: DuetView = {
  phase: 'loading',
  state: 'idle',
  callId: null,
  lastEnd: null,
  online: 0,
  waiting: 0,
  connection: 'closed',
  localStream: null,
  remoteStream: null,
  chat: [],
  mediaError: null,
  notice: null,
};

/** One DuetClient for the page, its events folded into a view for React. */
export function useDuet() {
  const clientRef = useRef<DuetClient | null>(null);
  const [view, setView] = useState<DuetView>(initial);
  const patch = useCallback((p: Partial<DuetView>) => setView((v) => ({ ...v, ...p })), []);

  const openCamera = useCallback(async () => {
    const client = clientRef.current;
    if (!client) return;
    patch({ phase: 'camera', mediaError: null });
    try {
      const stream = await client.openMedia();
      patch({ phase: 'ready', localStream: stream });
    } catch (err) {
      patch({ mediaError: err instanceof MediaAccessError ? err.message : 'The camera could not be started.' });
    }
  }, [patch]);

  useEffect(() => {
    const client = new DuetClient();
    clientRef.current = client;
    const off = [
      client.on('state', ({ state, callId, lastEnd }) =>
        setView((v) => ({
          ...v,
          state,
          callId,
          lastEnd,
          // A new call starts with an empty chat; the old one stays readable until then.
          chat: state === 'connecting' && callId !== v.callId ? [] : v.chat,
          notice: null,
        })),
      ),
      client.on('presence', ({ online, waiting }) => patch({ online, waiting })),
      client.on('connection', (connection) => patch({ connection })),
      client.on('remoteStream', (remoteStream) => patch({ remoteStream })),
      client.on('chat', (m) => setView((v) => ({ ...v, chat: [...v.chat, m].slice(-200) }))),
      client.on('error', (e) => patch({ notice: e.message })),
    ];
    let cancelled = false;
    client.connect().then(
      () => {
        if (cancelled) return;
        if (client.rulesAccepted) void openCameraFor(client);
        else patch({ phase: 'rules' });
      },
      () => !cancelled && patch({ phase: 'unreachable' }),
    );
    async function openCameraFor(c: DuetClient) {
      patch({ phase: 'camera' });
      try {
        const stream = await c.openMedia();
        if (!cancelled) patch({ phase: 'ready', localStream: stream });
      } catch (err) {
        if (!cancelled) patch({ mediaError: err instanceof MediaAccessError ? err.message : 'The camera could not be started.' });
      }
    }
    return () => {
      cancelled = true;
      for (const f of off) f();
      client.close();
      clientRef.current = null;
    };
  }, [patch]);

  const acceptRules = useCallback(async () => {
    const client = clientRef.current;
    if (!client) return;
    try {
      await client.acceptRules();
      await openCamera();
    } catch (err) {
      patch({ notice: err instanceof Error ? err.message : 'Could not save that. Try again.' });
    }
  }, [openCamera, patch]);

  const act = useCallback(
    (f: (c: DuetClient) => void) => () => {
      const c = clientRef.current;
      if (c) f(c);
    },
    [],
  );

  // Stable, so a component polling it does not restart its timer on every render.
  const getConnectionInfo = useCallback(() => clientRef.current?.getConnectionInfo() ?? Promise.resolve(null), []);

  return {
    view,
    acceptRules,
    retryCamera: openCamera,
    start: (interests: string[]) => clientRef.current?.start({ interests }),
    next: act((c) => c.next()),
    stop: act((c) => c.stop()),
    block: act((c) => c.block()),
    report: (reason: Parameters<DuetClient['report']>[0]) => clientRef.current?.report(reason),
    sendChat: (text: string) => clientRef.current?.sendChat(text),
    getConnectionInfo,
  };
}
