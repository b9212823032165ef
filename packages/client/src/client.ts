import {
  PROTOCOL_VERSION,
  serverMessageSchema,
  type ClientMessage,
  type ClientMessageOf,
  type ReportReason,
  type ServerMessage,
  type ServerMessageOf,
  type VerificationChallengeInfo,
  type VerificationFrame,
  type VerificationResultInfo,
  type VerificationStatus,
} from '@duet/protocol';
import { TypedEmitter } from './emitter.js';
import { openCamera } from './media.js';
import { PeerSession } from './peer.js';
import { connectionInfoOf, sampleQuality, type ConnectionInfo, type StatsSnapshot } from './stats.js';
import type { BanNotice, CallEnd, CallState, ClientEvents, ConnectionStatus, Presence } from './types.js';

export interface StartOptions {
  interests?: string[];
  /** Language to talk in (e.g. "en"); defaults to the browser's. */
  language?: string;
  region?: string;
  /** One of the server's modes; defaults to the server's first. */
  mode?: string;
  /** IP privacy: media only through the relay, so the partner never learns this person's address. */
  privacy?: boolean;
  /** Meet only people who passed the liveness check. */
  verifiedOnly?: boolean;
}

/** The browser's primary language subtag, when it is one the protocol accepts. */
export function browserLanguage(): string | undefined {
  const tag = (globalThis.navigator?.language ?? '').toLowerCase().split('-')[0] ?? '';
  return /^[a-z]{2,3}$/.test(tag) ? tag : undefined;
}

/** One call on a person's bill: when, how long was billable, what it cost them — never who the partner was. */
export interface BillingCall {
  callId: string;
  /** When the call's first charge was posted (ms since epoch). */
  at: number;
  billedMs: number;
  chargeMicros: number;
}

/** Money in or out of the balance that is not a call: welcome credits, top-ups, adjustments, refunds. */
export interface BillingCredit {
  kind: 'grant' | 'topup' | 'adjustment' | 'refund' | (string & {});
  at: number;
  /** Positive: credit added; negative: taken away. */
  amountMicros: number;
}

/** `GET /api/me/billing`: balance, price and usage history. Money is integer micro-credits (1 credit = 1,000,000). */
export interface BillingInfo {
  balanceMicros: number;
  /** perMinuteMicros 0: calls are free. */
  price: { perMinuteMicros: number; rounding: 'second' | 'minute' };
  /** Free billable time per UTC day, used before any is paid (perDay 0: none); what is left of it today. */
  freeMinutes: { perDay: number; leftTodayMs: number };
  /** Newest first. */
  calls: BillingCall[];
  credits: BillingCredit[];
}

export interface DuetClientOptions {
  /** Origin of the Duet server; defaults to the page's own. */
  baseUrl?: string;
  /** Where the session token is kept; defaults to localStorage. */
  storage?: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  /** Opens camera and microphone; replaceable for tests and custom capture. */
  getMedia?: () => Promise<MediaStream>;
}

const TOKEN_KEY = 'duet.token';
/** How often a connected call tells the server media is still arriving (the meter's evidence). */
export const HEARTBEAT_INTERVAL_MS = 5_000;
const DEVICE_KEY = 'duet.device';
/** How often a call's quality summary is uploaded. */
export const QUALITY_INTERVAL_MS = 10_000;
const RECONNECT_DELAYS_MS = [500, 1000, 2000, 4000, 8000];

/**
 * The Duet browser SDK: one object per person. It keeps the signaling connection, runs the
 * RTCPeerConnection of the current call, and reports everything as typed events.
 *
 *   const duet = new DuetClient();
 *   duet.on('state', ({ state }) => render(state));
 *   await duet.connect();
 *   await duet.acceptRules();        // once per person
 *   await duet.openMedia();
 *   duet.start({ interests: ['chess'] });
 */
export class DuetClient extends TypedEmitter<ClientEvents> {
  readonly #base: URL;
  readonly #storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  readonly #getMedia: () => Promise<MediaStream>;
  #ws: WebSocket | undefined;
  #token: string | undefined;
  #userId: string | null = null;
  #rulesAccepted = false;
  #rulesVersion = 1;
  #state: CallState = 'idle';
  #callId: string | null = null;
  #peer: PeerSession | undefined;
  #localStream: MediaStream | null = null;
  #remoteStream: MediaStream | null = null;
  #lastEnd: CallEnd | null = null;
  #presence: Presence = { online: 0, waiting: 0, topInterests: [] };
  #connection: ConnectionStatus = 'closed';
  /** True between start() and stop(): after a dropped connection we rejoin the queue. */
  #wantsToMeet = false;
  #criteria: StartOptions = {};
  #closedByUser = false;
  #reconnectAttempt = 0;
  #welcomed: { resolve: () => void; reject: (e: Error) => void } | undefined;
  /** Quality sampling of the current call: started when it connects, a final sample at its end. */
  #quality: { callId: string; timer: ReturnType<typeof setInterval>; snapshot: StatsSnapshot | null } | undefined;
  #heartbeat: { callId: string; timer: ReturnType<typeof setInterval>; seq: number } | undefined;
  #infoSnapshot: StatsSnapshot | null = null;
  /** Pending ICE restart of the current call, and who is waiting for fresh ICE servers. */
  #restartTimer: ReturnType<typeof setTimeout> | undefined;
  #iceServersWaiter: ((servers: RTCIceServer[] | undefined) => void) | undefined;
  #role: 'offerer' | 'answerer' | undefined;
  /** Frames captured for reports, uploaded once the server says the report is filed. */
  readonly #pendingFrames = new Map<string, string>();
  #ban: BanNotice | null = null;
  #partnerVerified = false;
  #cameraReported = false;

  constructor(options: DuetClientOptions = {}) {
    super();
    this.#base = new URL(options.baseUrl ?? globalThis.location.origin);
    this.#storage = options.storage ?? globalThis.localStorage;
    this.#getMedia = options.getMedia ?? openCamera;
  }

  get state(): CallState {
    return this.#state;
  }
  get callId(): string | null {
    return this.#callId;
  }
  get userId(): string | null {
    return this.#userId;
  }
  get rulesAccepted(): boolean {
    return this.#rulesAccepted;
  }
  get presence(): Presence {
    return this.#presence;
  }
  get connection(): ConnectionStatus {
    return this.#connection;
  }
  get localStream(): MediaStream | null {
    return this.#localStream;
  }
  get remoteStream(): MediaStream | null {
    return this.#remoteStream;
  }
  get lastEnd(): CallEnd | null {
    return this.#lastEnd;
  }
  /** Set when the server turned this person away. */
  get ban(): BanNotice | null {
    return this.#ban;
  }
  /** The current call's peer connection, for stats panels and diagnostics. */
  get peerConnection(): RTCPeerConnection | null {
    return this.#peer?.pc ?? null;
  }

  /** Gets (or creates) this browser's guest identity and opens the signaling connection. */
  async connect(): Promise<void> {
    this.#closedByUser = false;
    const stored = this.#storage.getItem(TOKEN_KEY) ?? undefined;
    let deviceId = this.#storage.getItem(DEVICE_KEY);
    if (!deviceId) {
      deviceId = crypto.randomUUID();
      this.#storage.setItem(DEVICE_KEY, deviceId);
    }
    const session = await this.#post<{ token: string; userId: string; rulesAccepted: boolean; rulesVersion: number }>(
      '/api/session',
      stored ? { token: stored, deviceId } : { deviceId },
    );
    this.#token = session.token;
    this.#userId = session.userId;
    this.#rulesAccepted = session.rulesAccepted;
    this.#rulesVersion = session.rulesVersion;
    this.#storage.setItem(TOKEN_KEY, session.token);
    await this.#openSocket();
  }

  /** Records that this person is 18 or older and accepts the house rules. */
  async acceptRules(): Promise<void> {
    await this.#post('/api/rules/accept', { adult: true, rulesVersion: this.#rulesVersion }, true);
    this.#rulesAccepted = true;
  }

  /** Opens camera and microphone (once); throws MediaAccessError with a plain message. */
  async openMedia(): Promise<MediaStream> {
    this.#localStream ??= await this.#getMedia();
    this.#reportCamera();
    return this.#localStream;
  }

  /** How the current call's media travels and how it is doing; null outside a connected call. */
  async getConnectionInfo(): Promise<ConnectionInfo | null> {
    const pc = this.#peer?.pc;
    if (!pc || this.#state === 'connecting') return null;
    const { sample, snapshot } = await sampleQuality(pc, this.#infoSnapshot);
    this.#infoSnapshot = snapshot;
    return connectionInfoOf(sample);
  }

  /** Join the queue to meet someone. */
  start(options: StartOptions = {}): void {
    if (!this.#localStream) throw new Error('Call openMedia() before start().');
    this.#wantsToMeet = true;
    this.#criteria = options;
    const message: ClientMessageOf<'join'> = { type: 'join' };
    if (options.interests && options.interests.length > 0) message.interests = options.interests;
    const language = options.language ?? browserLanguage();
    if (language) message.language = language;
    if (options.region) message.region = options.region;
    if (options.mode) message.mode = options.mode;
    if (options.privacy) message.privacy = true;
    if (options.verifiedOnly) message.verifiedOnly = true;
    this.#send(message);
  }

  /** Skip the current person and meet someone new. */
  next(): void {
    this.#wantsToMeet = true;
    this.#closePeer();
    this.#send({ type: 'next' });
  }

  /** Leave the call or the queue. */
  stop(): void {
    this.#wantsToMeet = false;
    this.#closePeer();
    this.#send({ type: 'leave' });
  }

  block(): void {
    if (!this.#callId) return;
    this.#send({ type: 'block', callId: this.#callId });
    this.#closePeer();
  }

  /**
   * Reports the partner: the call ends and they are blocked. `frame` is evidence — a JPEG data URL
   * of the partner's video at this moment (see `captureFrame`); it is uploaded once the server has
   * filed the report. The server attaches the call's chat transcript itself.
   */
  report(reason: ReportReason, options: { comment?: string; frame?: string | null } = {}): void {
    if (!this.#callId) return;
    if (options.frame) this.#pendingFrames.set(this.#callId, options.frame);
    const m: ClientMessageOf<'report'> = { type: 'report', callId: this.#callId, reason };
    if (options.comment) m.comment = options.comment;
    this.#send(m);
    this.#closePeer();
  }

  /** Whether this person is banned, and if so why and until when. */
  async banStatus(): Promise<BanNotice | null> {
    const res = await this.#get<{ banned: boolean } & Partial<BanNotice>>('/api/me/ban');
    return res.banned ? { reason: res.reason!, until: res.until ?? null, appeal: res.appeal! } : null;
  }

  /** This person's balance, the price of a minute, and their usage history (after connect()). */
  async billing(): Promise<BillingInfo> {
    return this.#get<BillingInfo>('/api/me/billing');
  }

  /** Whether this person is verified, whether the server offers or requires it, and attempts left. */
  async verification(): Promise<VerificationStatus> {
    return this.#get<VerificationStatus>('/api/me/verification');
  }

  /** Asks for a liveness challenge: actions to perform, in order, before its deadline. */
  async verificationChallenge(): Promise<VerificationChallengeInfo> {
    return this.#post<VerificationChallengeInfo>('/api/me/verification/challenge', {}, true);
  }

  /** Sends the frames captured while performing a challenge; the server judges them itself. */
  async submitVerification(nonce: string, frames: VerificationFrame[]): Promise<VerificationResultInfo> {
    return this.#post<VerificationResultInfo>('/api/me/verification', { nonce, frames }, true);
  }

  /** Whether the current partner passed the liveness check (false between calls). */
  get partnerVerified(): boolean {
    return this.#partnerVerified;
  }

  /** Sends a banned person's appeal to the moderators. */
  async appeal(message: string): Promise<void> {
    await this.#post('/api/appeals', { message }, true);
  }

  sendChat(text: string): void {
    const trimmed = text.trim();
    if (!this.#callId || trimmed.length === 0) return;
    this.#send({ type: 'chat', callId: this.#callId, text: trimmed });
  }

  /** Ends everything: call, signaling, camera. */
  close(): void {
    this.#closedByUser = true;
    this.#wantsToMeet = false;
    this.#closePeer();
    this.#ws?.close(1000, 'bye');
    for (const t of this.#localStream?.getTracks() ?? []) t.stop();
    this.#localStream = null;
  }

  // ---- signaling connection -------------------------------------------------------------

  #openSocket(): Promise<void> {
    const url = new URL('/ws', this.#base);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    this.#setConnection('connecting');
    const ws = new WebSocket(url);
    this.#ws = ws;
    const welcomed = new Promise<void>((resolve, reject) => {
      this.#welcomed = { resolve, reject };
    });
    ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, token: this.#token }));
    ws.onmessage = (e) => this.#onMessage(e.data);
    ws.onclose = (e) => this.#onSocketClose(ws, e.code);
    return welcomed;
  }

  #onSocketClose(ws: WebSocket, code: number): void {
    if (ws !== this.#ws) return;
    this.#setConnection('closed');
    this.#welcomed?.reject(new Error(`Could not reach the Duet server (code ${code}).`));
    this.#welcomed = undefined;
    if (this.#callId) {
      // Media may still flow peer to peer: keep the call and try to resume it on reconnect.
      this.#setState('reconnecting');
    } else if (this.#state === 'waiting') {
      this.#setState('idle');
    }
    // 4000-4002, 4004: wrong version, invalid token, replaced by another tab, banned: retrying would not help.
    if (this.#closedByUser || (code >= 4000 && code <= 4002) || code === 4004) return;
    const delay = RECONNECT_DELAYS_MS[Math.min(this.#reconnectAttempt++, RECONNECT_DELAYS_MS.length - 1)]!;
    setTimeout(() => {
      if (!this.#closedByUser) this.#openSocket().catch(() => undefined);
    }, delay);
  }

  #onMessage(data: unknown): void {
    if (typeof data !== 'string') return;
    let message: ServerMessage;
    try {
      message = serverMessageSchema.parse(JSON.parse(data));
    } catch {
      this.emit('error', { code: 'network', message: 'Received a message this version of Duet does not understand.' });
      return;
    }
    this.#handle(message);
  }

  #handle(m: ServerMessage): void {
    switch (m.type) {
      case 'welcome':
        this.#userId = m.userId;
        this.#reconnectAttempt = 0;
        this.#setConnection('open');
        this.#setPresence({ ...this.#presence, online: m.online });
        this.#welcomed?.resolve();
        this.#welcomed = undefined;
        if (this.#localStream) this.#reportCamera();
        if (this.#callId && m.callId === this.#callId) {
          this.#resumed();
          return;
        }
        if (this.#callId) this.#endCall({ callId: this.#callId, reason: 'connection_lost', by: 'you' }, 'failed');
        if (this.#wantsToMeet && this.#localStream) this.start(this.#criteria);
        return;
      case 'presence':
        return this.#setPresence({ online: m.online, waiting: m.waiting, topInterests: m.topInterests ?? [] });
      case 'queued':
        this.#setPresence({ ...this.#presence, waiting: m.waiting });
        if (!this.#callId) this.#setState('waiting');
        this.emit('queue', { waiting: m.waiting, estimatedWaitMs: m.estimatedWaitMs ?? null });
        return;
      case 'widened':
        this.emit('widened', { stage: m.stage, interests: m.interests ?? [] });
        return;
      case 'idle':
        if (!this.#callId) this.#setState('idle');
        return;
      case 'matched':
        return this.#onMatched(m);
      case 'signal':
        if (m.callId === this.#callId) {
          const signal: { description?: { type: RTCSdpType; sdp?: string }; candidate?: RTCIceCandidateInit | null } = {};
          if (m.description) signal.description = m.description.sdp === undefined ? { type: m.description.type } : { type: m.description.type, sdp: m.description.sdp };
          if (m.candidate !== undefined) signal.candidate = m.candidate as RTCIceCandidateInit | null;
          this.#peer?.handleSignal(signal);
        }
        return;
      case 'call_connected':
        if (m.callId === this.#callId) {
          clearTimeout(this.#restartTimer);
          this.#setState('connected');
          this.#startQuality(m.callId);
          this.#startHeartbeat(m.callId);
        }
        return;
      case 'call_reconnecting':
        if (m.callId === this.#callId) this.#setState('reconnecting');
        return;
      case 'ice_servers':
        if (m.callId === this.#callId) {
          this.#iceServersWaiter?.(m.iceServers as RTCIceServer[]);
          this.#iceServersWaiter = undefined;
        }
        return;
      case 'call_ended':
        if (m.callId !== this.#callId) return;
        this.#endCall({ callId: m.callId, reason: m.reason, by: m.by }, m.reason === 'ice_failed' ? 'failed' : 'ended');
        if (m.then === 'waiting') this.#setState('waiting');
        else this.#wantsToMeet = false;
        return;
      case 'chat':
        if (m.callId === this.#callId) this.emit('chat', { callId: m.callId, from: m.from, text: m.text, at: m.at });
        return;
      case 'error':
        // A refused join means we are not looking for anyone: do not retry it after a reconnect.
        if (m.ref === 'join') this.#wantsToMeet = false;
        this.emit('error', { code: m.code as ClientEvents['error']['code'], message: m.message, ...(m.ref ? { ref: m.ref } : {}) });
        return;
      case 'pong':
        return;
      case 'report_filed':
        return void this.#uploadEvidence(m.reportId, m.callId);
      case 'banned':
        this.#ban = { reason: m.reason, until: m.until, appeal: m.appeal };
        this.#wantsToMeet = false;
        if (this.#callId) this.#endCall({ callId: this.#callId, reason: 'banned', by: 'server' }, 'ended');
        this.emit('banned', this.#ban);
        return;
      case 'warning':
        this.emit('warning', { message: m.message });
        return;
      case 'billing':
        this.emit('billing', { callId: m.callId, billedMs: m.billedMs, chargedMicros: m.chargedMicros, balanceMicros: m.balanceMicros, freeMs: m.freeMs ?? 0 });
        return;
      case 'credit_low':
        this.emit('creditLow', { callId: m.callId, secondsLeft: m.secondsLeft });
        return;
    }
  }

  #onMatched(m: ServerMessageOf<'matched'>): void {
    this.#closePeer();
    const localStream = this.#localStream;
    if (!localStream) return;
    const callId = m.callId;
    this.#callId = callId;
    this.#lastEnd = null;
    this.#partnerVerified = m.partnerVerified === true;
    this.emit('partner', { callId, verified: this.#partnerVerified });
    this.#peer = new PeerSession({
      iceServers: m.iceServers,
      ...(m.iceTransportPolicy ? { iceTransportPolicy: m.iceTransportPolicy } : {}),
      polite: m.role === 'answerer',
      localStream,
      sendSignal: (s) => {
        if (this.#callId !== callId) return;
        const out: ClientMessage = { type: 'signal', callId };
        if (s.description) out.description = s.description.sdp === undefined ? { type: s.description.type } : { type: s.description.type, sdp: s.description.sdp };
        if (s.candidate !== undefined) out.candidate = s.candidate === null ? null : toCandidate(s.candidate);
        this.#send(out);
      },
      onRemoteStream: (stream) => {
        this.#remoteStream = stream;
        this.emit('remoteStream', stream);
      },
      onConnectionState: (state) => this.#onPeerState(callId, state),
      onError: (err) => this.emit('error', { code: 'network', message: `Call setup problem: ${err instanceof Error ? err.message : String(err)}` }),
    });
    this.#role = m.role;
    this.#setState('connecting');
    if (m.role === 'offerer') this.#peer.start();
  }

  /** The signaling connection came back and the server still holds our call. */
  #resumed(): void {
    const callId = this.#callId!;
    const pc = this.#peer?.pc;
    if (!pc) return;
    if (pc.connectionState === 'connected') this.#send({ type: 'peer_state', callId, state: 'connected' });
    else void this.#restartIce(callId);
  }

  /** Fresh TURN credentials, then an ICE restart; the server keeps the call for its grace window. */
  async #restartIce(callId: string): Promise<void> {
    if (this.#callId !== callId || !this.#peer) return;
    const servers = await new Promise<RTCIceServer[] | undefined>((resolve) => {
      this.#iceServersWaiter = resolve;
      this.#send({ type: 'ice_refresh', callId });
      setTimeout(() => resolve(undefined), 2_000);
    });
    if (this.#callId === callId) this.#peer?.restartIce(servers);
  }

  #onPeerState(callId: string, state: RTCPeerConnectionState): void {
    if (callId !== this.#callId) return;
    if (state === 'connected') {
      clearTimeout(this.#restartTimer);
      this.#send({ type: 'peer_state', callId, state: 'connected' });
    } else if (state === 'failed') {
      this.#send({ type: 'peer_state', callId, state: 'failed' });
      // Before the call was ever up, the server decides (connect timeout); after, try to recover.
      if (this.#state === 'connected' || this.#state === 'reconnecting') void this.#restartIce(callId);
    } else if (state === 'disconnected') {
      this.#send({ type: 'peer_state', callId, state: 'disconnected' });
      if (this.#state === 'connected') this.#setState('reconnecting');
      // Often recovers by itself within a second or two; if not, the offerer restarts ICE.
      clearTimeout(this.#restartTimer);
      if (this.#role === 'offerer') this.#restartTimer = setTimeout(() => void this.#restartIce(callId), 2_000);
    }
  }

  #endCall(end: CallEnd, state: 'ended' | 'failed'): void {
    this.#lastEnd = end;
    this.#closePeer();
    this.#callId = null;
    this.#setState(state);
  }

  /**
   * Stops the media of the current call at once (Next, Stop, Block feel instant); the call itself
   * ends when the server confirms with `call_ended`, which carries the reason.
   */
  #closePeer(): void {
    clearTimeout(this.#restartTimer);
    if (this.#heartbeat) clearInterval(this.#heartbeat.timer);
    this.#heartbeat = undefined;
    this.#iceServersWaiter?.(undefined);
    this.#iceServersWaiter = undefined;
    const peer = this.#peer;
    this.#peer = undefined;
    this.#infoSnapshot = null;
    const quality = this.#quality;
    this.#quality = undefined;
    if (quality) clearInterval(quality.timer);
    const gathered = peer ? [...peer.gathered] : [];
    if (peer && quality) {
      // One last summary of the whole call before the connection goes; then close it.
      sampleQuality(peer.pc, quality.snapshot)
        .then(({ sample }) => this.#send({ type: 'stats', callId: quality.callId, final: true, sample: { ...sample, gathered } }))
        .catch(() => undefined)
        .finally(() => peer.close());
    } else {
      // Never connected: what this side could gather is the diagnosis.
      if (peer && this.#callId) this.#send({ type: 'stats', callId: this.#callId, final: true, sample: { gathered } });
      peer?.close();
    }
    if (this.#remoteStream) {
      this.#remoteStream = null;
      this.emit('remoteStream', null);
    }
  }

  #startQuality(callId: string): void {
    const peer = this.#peer;
    if (!peer || this.#quality) return;
    const quality = { callId, snapshot: null as StatsSnapshot | null, timer: setInterval(() => upload(), QUALITY_INTERVAL_MS) };
    const upload = () =>
      sampleQuality(peer.pc, quality.snapshot)
        .then(({ sample, snapshot }) => {
          if (this.#quality !== quality) return;
          quality.snapshot = snapshot;
          this.#send({ type: 'stats', callId, sample });
        })
        .catch(() => undefined);
    this.#quality = quality;
    void upload(); // the first sample, at once, tells the server how the media travels
  }

  /** The meter's evidence: bytes received so far, from this browser's own counters. */
  #startHeartbeat(callId: string): void {
    const peer = this.#peer;
    if (!peer || this.#heartbeat?.callId === callId) return;
    const hb = { callId, seq: 0, timer: setInterval(() => beat(), HEARTBEAT_INTERVAL_MS) };
    const beat = () =>
      peer.pc
        .getStats()
        .then((report) => {
          if (this.#heartbeat !== hb) return;
          let bytesReceived = 0;
          report.forEach((s: { type: string; bytesReceived?: number }) => {
            if (s.type === 'transport' && typeof s.bytesReceived === 'number') bytesReceived += s.bytesReceived;
          });
          this.#send({ type: 'heartbeat', callId, seq: hb.seq++, bytesReceived });
        })
        .catch(() => undefined);
    this.#heartbeat = hb;
    void beat();
  }

  #reportCamera(): void {
    if (this.#cameraReported || this.#ws?.readyState !== WebSocket.OPEN) return;
    this.#cameraReported = true;
    this.#send({ type: 'funnel', step: 'camera_allowed' });
  }

  // ---- plumbing --------------------------------------------------------------------------

  #send(message: ClientMessage): void {
    if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(message));
    else this.emit('error', { code: 'network', message: 'Not connected to Duet. Reconnecting…' });
  }

  /** One place where state changes: ignores no-op changes, then emits. */
  #setState(state: CallState): void {
    if (state === this.#state) return;
    const previous = this.#state;
    this.#state = state;
    this.emit('state', { state, previous, callId: this.#callId, lastEnd: this.#lastEnd });
  }

  #setConnection(status: ConnectionStatus): void {
    if (status === this.#connection) return;
    this.#connection = status;
    this.emit('connection', status);
  }

  #setPresence(p: Presence): void {
    this.#presence = p;
    this.emit('presence', p);
  }

  async #uploadEvidence(reportId: string, callId: string): Promise<void> {
    const frame = this.#pendingFrames.get(callId);
    this.#pendingFrames.delete(callId);
    if (!frame) {
      this.emit('reported', { reportId, callId, evidence: 'none' });
      return;
    }
    try {
      await this.#post(`/api/reports/${reportId}/evidence`, { frame }, true);
      this.emit('reported', { reportId, callId, evidence: 'uploaded' });
    } catch {
      this.emit('reported', { reportId, callId, evidence: 'failed' });
    }
  }

  async #get<T>(path: string): Promise<T> {
    const res = await fetch(new URL(path, this.#base), { headers: this.#token ? { authorization: `Bearer ${this.#token}` } : {} });
    if (!res.ok) throw new Error(`The server answered ${res.status}.`);
    return (await res.json()) as T;
  }

  async #post<T>(path: string, body: unknown, auth = false): Promise<T> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (auth && this.#token) headers.authorization = `Bearer ${this.#token}`;
    let res: Response;
    try {
      res = await fetch(new URL(path, this.#base), { method: 'POST', headers, body: JSON.stringify(body) });
    } catch {
      throw new Error('Could not reach the Duet server. Check your connection and try again.');
    }
    if (!res.ok) {
      const err = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
      throw new Error(err?.error?.message ?? `The server answered ${res.status}.`);
    }
    return (res.status === 204 ? undefined : await res.json()) as T;
  }
}

function toCandidate(c: RTCIceCandidateInit): { candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null; usernameFragment?: string | null } {
  return { candidate: c.candidate ?? '', sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null, usernameFragment: c.usernameFragment ?? null };
}
