import { DuetClient, MediaAccessError, browserLanguage, type BanNotice, type CallEnd, type CallState, type ChatMessage, type ClientEvents, type ConnectionStatus } from '@duet/client';
import { useCallback, useEffect, useRef, useState } from 'react';

export type Phase = 'loading' | 'unreachable' | 'rules' | 'camera' | 'ready';

export type QueueInfo = ClientEvents['queue'];
export type Widening = ClientEvents['widened'];
export type TopInterest = ClientEvents['presence']['topInterests'][number];

export interface DuetView {
  phase: Phase;
  state: CallState;
  callId: string | null;
  lastEnd: CallEnd | null;
  online: number;
  waiting: number;
  /** The most common interests among people waiting, as the server counts them (yours included). */
  topInterests: TopInterest[];
  /** The latest queue answer while waiting (its honest wait estimate); null outside the queue. */
  queue: QueueInfo | null;
  /** The latest widening of this wait ("nobody with #chess"); null when none, or outside the queue. */
  widened: Widening | null;
  /** When the current wait began (ms since epoch), for the wait clock; null outside the queue. */
  waitingSince: number | null;
  connection: ConnectionStatus;
  localStream: MediaStream | null;
  remoteStream: MediaStream | null;
  chat: ChatMessage[];
  /** A camera or microphone problem, in words a person can act on. */
  mediaError: string | null;
  /** The latest server or network notice (rate limits, reconnecting, ...). */
  notice: string | null;
  /** IP privacy (relay only) asked for on the next Start. */
  privacy: boolean;
  /** Why IP privacy was turned off (the server has no relay), in the server's words. */
  privacyError: string | null;
  /** Set when this person is banned: the app gives way to the ban screen. */
  ban: BanNotice | null;
  /** A moderator's warning, shown until the person dismisses it. */
  warning: string | null;
  /** The latest report this person filed, once the server has it (and whether the snapshot went with it). */
  reportSent: ClientEvents['reported'] | null;
}

export interface StartChoices {
  interests: string[];
}

const initial: DuetView = {
  phase: 'loading',
  state: 'idle',
  callId: null,
  lastEnd: null,
  online: 0,
  waiting: 0,
  topInterests: [],
  queue: null,
  widened: null,
  waitingSince: null,
  connection: 'closed',
  localStream: null,
  remoteStream: null,
  chat: [],
  mediaError: null,
  notice: null,
  privacy: false,
  privacyError: null,
  ban: null,
  warning: null,
  reportSent: null,
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
    let cancelled = false;
    let banned = false;
    const onBanned = (ban: BanNotice) => {
      if (cancelled || banned) return;
      banned = true;
      // Nothing more to do here: stop the camera and the connection; appeals go over HTTP.
      client.close();
      patch({ ban, localStream: null, remoteStream: null });
    };
    /**
     * The server says `banned` before it closes the socket, but a connection that failed or closed
     * for no stated reason is checked once more over HTTP, so a ban is never mistaken for a network
     * problem. Resolves true when banned.
     */
    const checkBan = async (): Promise<boolean> => {
      if (banned) return true;
      try {
        const ban = await client.banStatus();
        if (ban) onBanned(ban);
        return ban !== null;
      } catch {
        return false;
      }
    };
    let wasOpen = false;
    const off = [
      client.on('state', ({ state, callId, lastEnd }) =>
        setView((v) => {
          const waiting = state === 'waiting';
          const newWait = waiting && v.state !== 'waiting';
          return {
            ...v,
            state,
            callId,
            lastEnd,
            // A new call starts with an empty chat; the old one stays readable until then.
            chat: state === 'connecting' && callId !== v.callId ? [] : v.chat,
            notice: null,
            // Estimates and widening belong to one wait: a new wait starts without them.
            queue: waiting && !newWait ? v.queue : null,
            widened: waiting && !newWait ? v.widened : null,
            waitingSince: !waiting ? null : newWait ? Date.now() : v.waitingSince,
          };
        }),
      ),
      client.on('presence', ({ online, waiting, topInterests }) => patch({ online, waiting, topInterests })),
      client.on('queue', (queue) => patch({ queue })),
      client.on('widened', (widened) => patch({ widened })),
      client.on('connection', (connection) => {
        patch({ connection });
        // An open connection that closed (not each failed reconnect attempt): was it a ban?
        if (connection === 'closed' && wasOpen && !cancelled) void checkBan();
        wasOpen = connection === 'open';
      }),
      client.on('banned', onBanned),
      client.on('warning', ({ message }) => patch({ warning: message })),
      client.on('reported', (reportSent) => patch({ reportSent })),
      client.on('remoteStream', (remoteStream) => patch({ remoteStream })),
      client.on('chat', (m) => setView((v) => ({ ...v, chat: [...v.chat, m].slice(-200) }))),
      client.on('error', (e) => {
        if (e.code === 'relay_unavailable') {
          // No relay, so no IP privacy: say why, untick it, and forget this Start so that a
          // reconnect does not silently try again with privacy on.
          patch({ privacy: false, privacyError: e.message });
          client.stop();
          return;
        }
        patch({ notice: e.message });
      }),
    ];
    client.connect().then(
      () => {
        if (cancelled) return;
        if (client.rulesAccepted) void openCameraFor(client);
        else patch({ phase: 'rules' });
      },
      async () => {
        if (cancelled || (await checkBan())) return;
        if (!cancelled) patch({ phase: 'unreachable' });
      },
    );
    async function openCameraFor(c: DuetClient) {
      patch({ phase: 'camera' });
      try {
        const stream = await c.openMedia();
        if (!cancelled && !banned) patch({ phase: 'ready', localStream: stream });
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
    start: ({ interests }: StartChoices) => {
      const language = browserLanguage();
      clientRef.current?.start({ interests, privacy: view.privacy, ...(language ? { language } : {}) });
    },
    setPrivacy: (privacy: boolean) => patch({ privacy, privacyError: null }),
    next: act((c) => c.next()),
    stop: act((c) => c.stop()),
    block: act((c) => c.block()),
    /** Reports the partner; `frame` is the snapshot of their video (see captureFrame), `comment` optional words. */
    report: (reason: Parameters<DuetClient['report']>[0], evidence: { frame: string | null; comment?: string }) => {
      patch({ reportSent: null });
      clientRef.current?.report(reason, { frame: evidence.frame, ...(evidence.comment ? { comment: evidence.comment } : {}) });
    },
    /** Sends a banned person's appeal; throws with the server's words when it is refused. */
    appeal: async (message: string) => {
      const c = clientRef.current;
      if (!c) throw new Error('Reload the page and try again.');
      await c.appeal(message);
    },
    dismissWarning: () => patch({ warning: null }),
    dismissReportSent: () => patch({ reportSent: null }),
    sendChat: (text: string) => clientRef.current?.sendChat(text),
    getConnectionInfo,
  };
}
