import {
  DuetClient,
  MediaAccessError,
  type BanNotice,
  type BillingInfo,
  type CallEnd,
  type CallQuality,
  type CallState,
  type ChatMessage,
  type ClientEvents,
  type ConnectionStatus,
  type LocalDevices,
  type MediaProblem,
  type ScreenFlag,
  type VerificationFrame,
  type VerificationStatus,
} from '@duet/client';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useAppText, useLocale } from './i18n/index.js';

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
  /** A camera or microphone problem (the app says it in words a person can act on). */
  mediaError: MediaProblem | null;
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
  /** Balance, price and usage history as the server last said; null until known. */
  billing: BillingInfo | null;
  /** The current call's meter; null before the first call. */
  meter: MeterReading | null;
  /** Credit runs out soon in the current call. */
  creditLow: CreditLow | null;
  /** Start was refused: not enough credit to queue. */
  noCredit: boolean;
  /** Whether verification is offered, and this person's standing; null until known (or not offered by this server). */
  verification: VerificationStatus | null;
  /** Meet only verified people (asked for on the next Start). */
  verifiedOnly: boolean;
  /** The current partner passed the liveness check, as the server said when matching (this call's id). */
  partnerVerified: { callId: string; verified: boolean } | null;
  /** The server refused Start until this person is verified, in its words; null otherwise. */
  verificationRequired: string | null;
  /** How the call is doing for both people (quality indicator, video-paused placeholder); null outside a call. */
  quality: CallQuality | null;
}

/**
 * The meter of the current call: the server's latest word (billable time and its cost to this
 * person) and when it arrived, on the page's monotonic clock, so the counter can tick between
 * updates without ever running ahead of the server by more than one heartbeat.
 */
export interface MeterReading {
  callId: string;
  billedMs: number;
  chargedMicros: number;
  /** This person's free time for the call (daily free minutes): nothing is charged for it. */
  freeMs: number;
  /** performance.now() when this reading arrived, or when the call (re)connected. */
  at: number;
}

export interface CreditLow {
  callId: string;
  secondsLeft: number;
  /** performance.now() when the warning arrived. */
  at: number;
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
  billing: null,
  meter: null,
  creditLow: null,
  noCredit: false,
  verification: null,
  verifiedOnly: false,
  partnerVerified: null,
  verificationRequired: null,
  quality: null,
};

/** Server error codes a person may see, said in their language (the server's English otherwise). */
const TRANSLATED_CODES = [
  'rate_limited',
  'relay_unavailable',
  'verification_required',
  'verification_unavailable',
  'session_replaced',
  'server_busy',
  'rules_not_accepted',
  'out_of_turn',
  'stale_call',
  'internal',
] as const;
const isTranslatedCode = (code: string): code is (typeof TRANSLATED_CODES)[number] =>
  (TRANSLATED_CODES as readonly string[]).includes(code);

/** One DuetClient for the page, its events folded into a view for React. */
export function useDuet() {
  const { locale } = useLocale();
  const t = useAppText();
  // The latest text, for words said from callbacks made once (errors the app shows).
  const text = useRef(t);
  useEffect(() => {
    text.current = t;
  }, [t]);
  const clientRef = useRef<DuetClient | null>(null);
  const [view, setView] = useState<DuetView>(initial);
  /** The camera switch, speaker choice and screen lock of this page's client (null before it exists). */
  const [devices, setDevices] = useState<LocalDevices | null>(null);
  const refreshRef = useRef<() => Promise<BillingInfo | null>>(() => Promise.resolve(null));
  const verificationRef = useRef<() => Promise<VerificationStatus | null>>(() => Promise.resolve(null));
  const patch = useCallback((p: Partial<DuetView>) => setView((v) => ({ ...v, ...p })), []);

  const openCamera = useCallback(async () => {
    const client = clientRef.current;
    if (!client) return;
    patch({ phase: 'camera', mediaError: null });
    try {
      const stream = await client.openMedia();
      patch({ phase: 'ready', localStream: stream });
    } catch (err) {
      patch({ mediaError: err instanceof MediaAccessError ? err.problem : 'unknown' });
    }
  }, [patch]);

  useEffect(() => {
    const client = new DuetClient();
    clientRef.current = client;
    setDevices(client.devices);
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
    /** The server's words in the person's language when the app knows the code, else as the server said them. */
    const serverText = (code: string, message: string): string =>
      isTranslatedCode(code) ? text.current(`app.serverError.${code}`) : message;
    let wasOpen = false;
    const off = [
      client.on('state', ({ state, callId, lastEnd }) =>
        setView((v) => {
          const waiting = state === 'waiting';
          const newWait = waiting && v.state !== 'waiting';
          const now = performance.now();
          // A new call starts its meter at zero; a call that (re)connects ticks from now, so a gap
          // spent reconnecting is never counted ahead of the server.
          let meter = v.meter;
          // Until the server says, the call's free time is what was left of today's (daily free minutes).
          if (callId && meter?.callId !== callId)
            meter = { callId, billedMs: 0, chargedMicros: 0, freeMs: v.billing?.freeMinutes?.leftTodayMs ?? 0, at: now };
          else if (state === 'connected' && meter) meter = { ...meter, at: now };
          return {
            ...v,
            state,
            callId,
            lastEnd,
            meter,
            creditLow: callId && v.creditLow?.callId === callId ? v.creditLow : null,
            noCredit: waiting ? false : v.noCredit,
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
      client.on('billing', (b) => {
        setView((v) => {
          const billing = v.billing && v.billing.price.perMinuteMicros > 0 ? { ...v.billing, balanceMicros: b.balanceMicros } : v.billing;
          const meter =
            v.meter?.callId === b.callId && b.billedMs >= v.meter.billedMs
              ? { callId: b.callId, billedMs: b.billedMs, chargedMicros: b.chargedMicros, freeMs: b.freeMs, at: performance.now() }
              : v.meter;
          return { ...v, billing, meter };
        });
        // The final charge of a call that has ended: its line in the history is complete now.
        if (b.callId !== client.callId) void refreshBilling();
      }),
      client.on('partner', (partnerVerified) => patch({ partnerVerified })),
      client.on('quality', (quality) => patch({ quality })),
      client.on('creditLow', ({ callId, secondsLeft }) => patch({ creditLow: { callId, secondsLeft, at: performance.now() } })),
      client.on('chat', (m) => setView((v) => ({ ...v, chat: [...v.chat, m].slice(-200) }))),
      client.on('error', (e) => {
        if (e.code === 'insufficient_credits') {
          // Said on the stage with the balance and how to top up, not as a passing toast.
          patch({ noCredit: true });
          void refreshBilling();
          return;
        }
        if (e.code === 'verification_required') {
          // Said in the verification dialog, which opens with it; this Start is forgotten.
          patch({ verificationRequired: serverText(e.code, e.message) });
          client.stop();
          return;
        }
        if (e.code === 'relay_unavailable') {
          // No relay, so no IP privacy: say why, untick it, and forget this Start so that a
          // reconnect does not silently try again with privacy on.
          patch({ privacy: false, privacyError: serverText(e.code, e.message) });
          client.stop();
          return;
        }
        patch({ notice: serverText(e.code, e.message) });
      }),
    ];
    /** Balance, price and history; a failure keeps what was known (money UI stays hidden until known). */
    async function refreshBilling(): Promise<BillingInfo | null> {
      try {
        const billing = await client.billing();
        if (!cancelled) patch({ billing });
        return billing;
      } catch {
        // Not fatal: the call works without the money panel.
        return null;
      }
    }
    refreshRef.current = refreshBilling;
    /** Verification status; a failure (or a server without verification) leaves the entry point hidden. */
    async function refreshVerification(): Promise<VerificationStatus | null> {
      try {
        const verification = await client.verification();
        if (!cancelled) patch({ verification });
        return verification;
      } catch {
        return null;
      }
    }
    verificationRef.current = refreshVerification;
    client.connect().then(
      () => {
        if (cancelled) return;
        void refreshBilling();
        void refreshVerification();
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
        if (!cancelled) patch({ mediaError: err instanceof MediaAccessError ? err.problem : 'unknown' });
      }
    }
    return () => {
      cancelled = true;
      for (const f of off) f();
      client.close();
      clientRef.current = null;
      setDevices(null);
      refreshRef.current = () => Promise.resolve(null);
      verificationRef.current = () => Promise.resolve(null);
    };
  }, [patch]);

  const acceptRules = useCallback(async () => {
    const client = clientRef.current;
    if (!client) return;
    try {
      await client.acceptRules();
      await openCamera();
    } catch (err) {
      patch({ notice: err instanceof Error ? err.message : text.current('app.error.notSaved') });
    }
  }, [openCamera, patch]);

  const act = useCallback(
    (f: (c: DuetClient) => void) => () => {
      const c = clientRef.current;
      if (c) f(c);
    },
    [],
  );

  const refreshBilling = useCallback(() => refreshRef.current(), []);
  const refreshVerification = useCallback(() => verificationRef.current(), []);
  /** The SDK's verification calls for the dialog; the status it reads also updates the view. */
  const verificationApi = useMemo(
    () => ({
      status: async () => {
        const s = await verificationRef.current();
        if (!s) throw new Error(text.current('app.error.noVerification'));
        return s;
      },
      challenge: () => {
        const c = clientRef.current;
        return c ? c.verificationChallenge() : Promise.reject(new Error(text.current('app.error.reload')));
      },
      submit: (nonce: string, frames: VerificationFrame[]) => {
        const c = clientRef.current;
        return c ? c.submitVerification(nonce, frames) : Promise.reject(new Error(text.current('app.error.reload')));
      },
    }),
    [],
  );

  // Stable, so a component polling it does not restart its timer on every render.
  const getConnectionInfo = useCallback(() => clientRef.current?.getConnectionInfo() ?? Promise.resolve(null), []);
  // Stable too: the screening loop that files flags runs once per call.
  const flagScreen = useCallback(
    (callId: string, flag: ScreenFlag) => clientRef.current?.flagScreen(callId, flag) ?? Promise.reject(new Error('no client yet')),
    [],
  );

  return {
    view,
    devices,
    acceptRules,
    retryCamera: openCamera,
    start: ({ interests }: StartChoices) => {
      // Matching by language: the language the person reads the app in (chosen, or the browser's).
      const language = locale;
      patch({ noCredit: false });
      patch({ verificationRequired: null });
      clientRef.current?.start({
        interests,
        privacy: view.privacy,
        ...(view.verifiedOnly ? { verifiedOnly: true } : {}),
        language,
      });
    },
    setVerifiedOnly: (verifiedOnly: boolean) => patch({ verifiedOnly }),
    refreshVerification,
    verificationApi,
    dismissVerificationRequired: () => patch({ verificationRequired: null }),
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
      if (!c) throw new Error(text.current('app.error.reload'));
      await c.appeal(message);
    },
    dismissWarning: () => patch({ warning: null }),
    dismissReportSent: () => patch({ reportSent: null }),
    sendChat: (text: string) => clientRef.current?.sendChat(text),
    getConnectionInfo,
    /** Files what screening flagged in the partner's video for the moderators. */
    flagScreen,
    /** Fetches balance, price and history again (opening the history, after a top-up). */
    refreshBilling,
    /** This person's account id, for receipts and support. */
    userId: () => clientRef.current?.userId ?? null,
    dismissNoCredit: () => patch({ noCredit: false }),
  };
}
