import type {
  ClientMessage,
  ReportReason,
  ServerMessage,
  VerificationChallengeInfo,
  VerificationFrame,
  VerificationResultInfo,
  VerificationStatus,
} from '@duet/protocol';
import { DuetApi, type BillingInfo, type ScreenFlag } from './api.js';
import { CallController, type CallEvents } from './callController.js';
import { LocalDevices, type LocalDevicesOptions } from './devices.js';
import { TypedEmitter } from './emitter.js';
import { DuetClientError } from './errors.js';
import type { StartOptions } from './join.js';
import { openCamera } from './media.js';
import { qualityMonitorOf, type CallQuality, type QualityMonitor } from './quality.js';
import { SignalConnection } from './signalConnection.js';
import type { ConnectionInfo } from './stats.js';
import type { BanNotice, CallEnd, CallState, ClientEvents, ConnectionStatus, Presence } from './types.js';

export interface DuetClientOptions {
  /** Origin of the Duet server; defaults to the page's own. */
  baseUrl?: string;
  /** Where the session token is kept; defaults to localStorage. */
  storage?: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  /** Opens camera and microphone; replaceable for tests and custom capture. */
  getMedia?: () => Promise<MediaStream>;
  /** One line per call-state change (`call state: waiting -> connecting`); silent by default. */
  log?: (line: string) => void;
  /**
   * The devices around a call (`client.devices`): keep the screen on during a call and turn the
   * camera off while the page is hidden (both on by default); replaceable browser APIs for tests.
   */
  devices?: Omit<LocalDevicesOptions, 'localStream' | 'peerConnection'>;
}

const TOKEN_KEY = 'duet.token';
const DEVICE_KEY = 'duet.device';

/**
 * The Duet browser SDK: one object per person. It composes three layers — the signaling socket
 * (`SignalConnection`), the queue and calls (`CallController` → `CallEngine` → `PeerSession`) and
 * the HTTP API (`DuetApi`) — keeps who this person is, routes each server message to the layer it
 * concerns, and reports everything as typed events.
 *
 *   const duet = new DuetClient();
 *   duet.on('state', ({ state }) => render(state));
 *   await duet.connect();
 *   await duet.acceptRules();        // once per person
 *   await duet.openMedia();
 *   duet.start({ interests: ['chess'] });
 */
export class DuetClient extends TypedEmitter<ClientEvents> {
  /** Camera switch, speaker choice, the screen kept on during a call, the camera off while hidden. */
  readonly devices: LocalDevices;
  readonly #storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  readonly #getMedia: () => Promise<MediaStream>;
  readonly #api: DuetApi;
  readonly #signal: SignalConnection;
  readonly #calls: CallController;
  #userId: string | null = null;
  #rulesAccepted = false;
  #rulesVersion = 1;
  #localStream: MediaStream | null = null;
  #presence: Presence = { online: 0, waiting: 0, topInterests: [] };
  /** Frames captured for reports, uploaded once the server says the report is filed. */
  readonly #pendingFrames = new Map<string, string>();
  #ban: BanNotice | null = null;
  #cameraReported = false;
  /** The peer connection's quality monitor this client listens to, and how to stop listening. */
  #watched: { monitor: QualityMonitor; off: () => void } | null = null;

  constructor(options: DuetClientOptions = {}) {
    super();
    const base = new URL(options.baseUrl ?? globalThis.location.origin);
    this.#storage = options.storage ?? globalThis.localStorage;
    this.#getMedia = options.getMedia ?? openCamera;
    this.#api = new DuetApi(base);
    this.#signal = new SignalConnection({ baseUrl: base, token: () => this.#api.token });
    this.#calls = new CallController({
      send: (m) => this.#send(m),
      localStream: () => this.#localStream,
      ...(options.log ? { log: options.log } : {}),
    });
    // Everything the layers below report, on one screen.
    this.#signal.on('status', (status) => this.emit('connection', status));
    this.#signal.on('message', (m) => this.#handle(m));
    this.#signal.on('closed', () => this.#calls.disconnected());
    this.#signal.on('error', (err) => this.emit('error', err.toEvent()));
    for (const event of ['state', 'partner', 'queue', 'chat', 'remoteStream', 'error'] as const) this.#relay(event);
    // A new peer connection shows up with its remote stream; a call ends through the state.
    this.#calls.on('state', () => this.#watchQuality());
    this.#calls.on('remoteStream', () => this.#watchQuality());
    this.devices = new LocalDevices({
      ...options.devices,
      localStream: () => this.#localStream,
      peerConnection: () => this.peerConnection,
    });
    this.#calls.on('state', ({ state }) =>
      this.devices.callActive(state === 'connecting' || state === 'connected' || state === 'reconnecting'),
    );
  }

  get state(): CallState {
    return this.#calls.state;
  }
  get callId(): string | null {
    return this.#calls.callId;
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
    return this.#signal.status;
  }
  get localStream(): MediaStream | null {
    return this.#localStream;
  }
  get remoteStream(): MediaStream | null {
    return this.#calls.remoteStream;
  }
  get lastEnd(): CallEnd | null {
    return this.#calls.lastEnd;
  }
  /** Set when the server turned this person away. */
  get ban(): BanNotice | null {
    return this.#ban;
  }
  /** The current call's peer connection, for stats panels and diagnostics. */
  get peerConnection(): RTCPeerConnection | null {
    return this.#calls.peerConnection;
  }
  /** How the current call is doing for both people; null outside a connected call. */
  get quality(): CallQuality | null {
    return this.#watched?.monitor.current ?? null;
  }
  /** Whether the current partner passed the liveness check (false between calls). */
  get partnerVerified(): boolean {
    return this.#calls.partnerVerified;
  }

  /** Gets (or creates) this browser's guest identity and opens the signaling connection. */
  async connect(): Promise<void> {
    let deviceId = this.#storage.getItem(DEVICE_KEY);
    if (!deviceId) {
      deviceId = crypto.randomUUID();
      this.#storage.setItem(DEVICE_KEY, deviceId);
    }
    const session = await this.#api.session(this.#storage.getItem(TOKEN_KEY) ?? undefined, deviceId);
    this.#userId = session.userId;
    this.#rulesAccepted = session.rulesAccepted;
    this.#rulesVersion = session.rulesVersion;
    this.#storage.setItem(TOKEN_KEY, session.token);
    await this.#signal.open();
  }

  /** Records that this person is 18 or older and accepts the house rules. */
  async acceptRules(): Promise<void> {
    await this.#api.acceptRules(this.#rulesVersion);
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
    return this.#calls.connectionInfo();
  }

  /** Join the queue to meet someone. */
  start(options: StartOptions = {}): void {
    this.#calls.start(options);
  }

  /** Skip the current person and meet someone new. */
  next(): void {
    this.#calls.next();
  }

  /** Leave the call or the queue. */
  stop(): void {
    this.#calls.stop();
  }

  block(): void {
    this.#calls.block();
  }

  /**
   * Reports the partner: the call ends and they are blocked. `frame` is evidence — a JPEG data URL
   * of the partner's video at this moment (see `captureFrame`); it is uploaded once the server has
   * filed the report. The server attaches the call's chat transcript itself.
   */
  report(reason: ReportReason, options: { comment?: string; frame?: string | null } = {}): void {
    const callId = this.callId;
    if (callId && options.frame) this.#pendingFrames.set(callId, options.frame);
    this.#calls.report(reason, options.comment);
  }

  sendChat(text: string): void {
    this.#calls.sendChat(text);
  }

  /** Whether this person is banned, and if so why and until when. */
  banStatus(): Promise<BanNotice | null> {
    return this.#api.banStatus();
  }

  /** This person's balance, the price of a minute, and their usage history (after connect()). */
  billing(): Promise<BillingInfo> {
    return this.#api.billing();
  }

  /** Whether this person is verified, whether the server offers or requires it, and attempts left. */
  verification(): Promise<VerificationStatus> {
    return this.#api.verification();
  }

  /** Asks for a liveness challenge: actions to perform, in order, before its deadline. */
  verificationChallenge(): Promise<VerificationChallengeInfo> {
    return this.#api.verificationChallenge();
  }

  /** Sends the frames captured while performing a challenge; the server judges them itself. */
  submitVerification(nonce: string, frames: VerificationFrame[]): Promise<VerificationResultInfo> {
    return this.#api.submitVerification(nonce, frames);
  }

  /**
   * Files what this page's screening flagged in the partner's video in `callId` for the moderators
   * (the frame and its scores). Rejects with a DuetClientError when the server refuses it (screening
   * off, not this person's call, scores below every threshold, too many flags).
   */
  flagScreen(callId: string, flag: ScreenFlag): Promise<void> {
    return this.#api.flagScreen(callId, flag);
  }

  /** Sends a banned person's appeal to the moderators. */
  appeal(message: string): Promise<void> {
    return this.#api.appeal(message);
  }

  /** Ends everything: call, signaling, camera. */
  close(): void {
    this.#calls.close();
    this.#signal.close();
    this.devices.close();
    for (const t of this.#localStream?.getTracks() ?? []) t.stop();
    this.#localStream = null;
  }

  // ---- what the server says ---------------------------------------------------------------

  /** Identity, presence and safety are handled here; the queue and calls by the call layer. */
  #handle(m: ServerMessage): void {
    switch (m.type) {
      case 'welcome':
        this.#userId = m.userId;
        this.#setPresence({ ...this.#presence, online: m.online });
        if (this.#localStream) this.#reportCamera();
        return this.#calls.welcomed(m.callId);
      case 'presence':
        return this.#setPresence({ online: m.online, waiting: m.waiting, topInterests: m.topInterests ?? [] });
      case 'queued':
        this.#setPresence({ ...this.#presence, waiting: m.waiting });
        return this.#calls.handle(m);
      case 'widened':
        return this.emit('widened', { stage: m.stage, interests: m.interests ?? [] });
      case 'report_filed':
        return void this.#uploadEvidence(m.reportId, m.callId);
      case 'banned':
        this.#ban = { reason: m.reason, until: m.until, appeal: m.appeal };
        this.#calls.banned();
        return this.emit('banned', this.#ban);
      case 'warning':
        return this.emit('warning', { message: m.message });
      case 'billing':
        return this.emit('billing', {
          callId: m.callId,
          billedMs: m.billedMs,
          chargedMicros: m.chargedMicros,
          balanceMicros: m.balanceMicros,
          freeMs: m.freeMs ?? 0,
        });
      case 'credit_low':
        return this.emit('creditLow', { callId: m.callId, secondsLeft: m.secondsLeft });
      case 'pong':
        return;
      default:
        return this.#calls.handle(m);
    }
  }

  #relay<K extends keyof CallEvents>(event: K): void {
    // CallEvents is a Pick of ClientEvents: the same payload type, which TS cannot see through K.
    this.#calls.on(event, (payload) => this.emit(event, payload as ClientEvents[K]));
  }

  #watchQuality(): void {
    const inCall = this.state === 'connected' || this.state === 'reconnecting';
    const monitor = inCall ? qualityMonitorOf(this.peerConnection) : undefined;
    if (monitor === this.#watched?.monitor) return;
    this.#watched?.off();
    this.#watched = monitor ? { monitor, off: monitor.on('change', (q) => this.emit('quality', q)) } : null;
    this.emit('quality', monitor?.current ?? null);
  }

  #reportCamera(): void {
    if (this.#cameraReported || !this.#signal.isOpen) return;
    this.#cameraReported = true;
    this.#send({ type: 'funnel', step: 'camera_allowed' });
  }

  #send(message: ClientMessage): void {
    if (!this.#signal.send(message)) this.emit('error', DuetClientError.notConnected().toEvent());
  }

  #setPresence(p: Presence): void {
    this.#presence = p;
    this.emit('presence', p);
  }

  async #uploadEvidence(reportId: string, callId: string): Promise<void> {
    const frame = this.#pendingFrames.get(callId);
    this.#pendingFrames.delete(callId);
    if (!frame) return this.emit('reported', { reportId, callId, evidence: 'none' });
    try {
      await this.#api.reportEvidence(reportId, frame);
      this.emit('reported', { reportId, callId, evidence: 'uploaded' });
    } catch {
      this.emit('reported', { reportId, callId, evidence: 'failed' });
    }
  }
}
