import type { ClientMessage, ServerMessageOf } from '@duet/protocol';
import { TypedEmitter } from './emitter.js';
import { DuetClientError } from './errors.js';
import { PeerSession, type SignalPayload } from './peer.js';
import { connectionInfoOf, sampleQuality, type ConnectionInfo, type StatsSnapshot } from './stats.js';

/** How often a connected call tells the server media is still arriving (the meter's evidence). */
export const HEARTBEAT_INTERVAL_MS = 5_000;
/** How often a call's quality summary is uploaded. */
export const QUALITY_INTERVAL_MS = 10_000;
/** How long a disconnected peer connection gets to recover by itself before the offerer restarts ICE. */
const RESTART_AFTER_MS = 2_000;
/** How long an ICE restart waits for fresh TURN credentials before using the ones it has. */
const ICE_SERVERS_WAIT_MS = 2_000;

export interface EngineEvents extends Record<string, unknown> {
  remoteStream: MediaStream | null;
  /** The peer connection dropped in a call that was up: the call is reconnecting. */
  interrupted: { callId: string };
  error: DuetClientError;
}

export interface EngineOptions {
  /** Sends to the server over the signaling connection. */
  send: (message: ClientMessage) => void;
  /** Whether the current call has been up (connected, or reconnecting after that). */
  wasUp: () => boolean;
}

/**
 * The media side of the current call: its RTCPeerConnection, the signals it trades, ICE restarts,
 * and the quality samples and heartbeats it uploads. The call's id outlives its media: Next closes
 * the peer at once, and the id stays until the server says the call has ended.
 */
export class CallEngine extends TypedEmitter<EngineEvents> {
  readonly #o: EngineOptions;
  #callId: string | null = null;
  #role: 'offerer' | 'answerer' | undefined;
  #peer: PeerSession | undefined;
  #remoteStream: MediaStream | null = null;
  /** Quality sampling of the current call: started when it connects, a final sample at its end. */
  #quality: { callId: string; timer: ReturnType<typeof setInterval>; snapshot: StatsSnapshot | null } | undefined;
  #heartbeat: { callId: string; timer: ReturnType<typeof setInterval>; seq: number } | undefined;
  #infoSnapshot: StatsSnapshot | null = null;
  /** Pending ICE restart of the current call, and who is waiting for fresh ICE servers. */
  #restartTimer: ReturnType<typeof setTimeout> | undefined;
  #iceServersWaiter: ((servers: RTCIceServer[] | undefined) => void) | undefined;

  constructor(options: EngineOptions) {
    super();
    this.#o = options;
  }

  get callId(): string | null {
    return this.#callId;
  }
  get remoteStream(): MediaStream | null {
    return this.#remoteStream;
  }
  get peerConnection(): RTCPeerConnection | null {
    return this.#peer?.pc ?? null;
  }

  /** A new call: its peer connection, not yet negotiating (see `start`). */
  begin(m: ServerMessageOf<'matched'>, localStream: MediaStream): void {
    this.closePeer();
    const callId = m.callId;
    this.#callId = callId;
    this.#role = m.role;
    this.#peer = new PeerSession({
      iceServers: m.iceServers,
      ...(m.iceTransportPolicy ? { iceTransportPolicy: m.iceTransportPolicy } : {}),
      polite: m.role === 'answerer',
      localStream,
      sendSignal: (s) => {
        if (this.#callId === callId) this.#o.send(signalMessage(callId, s));
      },
      onRemoteStream: (stream) => {
        this.#remoteStream = stream;
        this.emit('remoteStream', stream);
      },
      onConnectionState: (state) => this.#onPeerState(callId, state),
      onError: (err) => this.emit('error', DuetClientError.callSetup(err)),
    });
  }

  /** The offerer opens negotiation; the answerer waits for its offer. */
  start(): void {
    if (this.#role === 'offerer') this.#peer?.start();
  }

  signal(m: ServerMessageOf<'signal'>): void {
    if (m.callId !== this.#callId) return;
    const signal: SignalPayload = {};
    if (m.description)
      signal.description =
        m.description.sdp === undefined ? { type: m.description.type } : { type: m.description.type, sdp: m.description.sdp };
    if (m.candidate !== undefined) signal.candidate = m.candidate as RTCIceCandidateInit | null;
    this.#peer?.handleSignal(signal);
  }

  /** The server saw both sides connected: start the quality samples and the meter's heartbeats. */
  connected(callId: string): void {
    clearTimeout(this.#restartTimer);
    this.#startQuality(callId);
    this.#startHeartbeat(callId);
  }

  iceServers(m: ServerMessageOf<'ice_servers'>): void {
    if (m.callId !== this.#callId) return;
    this.#iceServersWaiter?.(m.iceServers as RTCIceServer[]);
    this.#iceServersWaiter = undefined;
  }

  /** The signaling connection came back and the server still holds our call. */
  resume(): void {
    const callId = this.#callId;
    const pc = this.#peer?.pc;
    if (!callId || !pc) return;
    this.#peer?.resendOffer();
    if (pc.connectionState === 'connected') this.#o.send({ type: 'peer_state', callId, state: 'connected' });
    else void this.#restartIce(callId);
  }

  /** How the media travels and how it is doing; null without a peer connection. */
  async connectionInfo(): Promise<ConnectionInfo | null> {
    const pc = this.#peer?.pc;
    if (!pc) return null;
    const { sample, snapshot } = await sampleQuality(pc, this.#infoSnapshot);
    this.#infoSnapshot = snapshot;
    return connectionInfoOf(sample);
  }

  /** The call is over: its media and its id. */
  end(): void {
    this.closePeer();
    this.#callId = null;
  }

  /**
   * Stops the media of the current call at once (Next, Stop, Block feel instant); the call itself
   * ends when the server confirms with `call_ended`, which carries the reason.
   */
  closePeer(): void {
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
        .then(({ sample }) => this.#o.send({ type: 'stats', callId: quality.callId, final: true, sample: { ...sample, gathered } }))
        .catch(() => undefined)
        .finally(() => peer.close());
    } else {
      // Never connected: what this side could gather is the diagnosis.
      if (peer && this.#callId) this.#o.send({ type: 'stats', callId: this.#callId, final: true, sample: { gathered } });
      peer?.close();
    }
    if (this.#remoteStream) {
      this.#remoteStream = null;
      this.emit('remoteStream', null);
    }
  }

  /** Fresh TURN credentials, then an ICE restart; the server keeps the call for its grace window. */
  async #restartIce(callId: string): Promise<void> {
    if (this.#callId !== callId || !this.#peer) return;
    const servers = await new Promise<RTCIceServer[] | undefined>((resolve) => {
      this.#iceServersWaiter = resolve;
      this.#o.send({ type: 'ice_refresh', callId });
      setTimeout(() => resolve(undefined), ICE_SERVERS_WAIT_MS);
    });
    if (this.#callId === callId) this.#peer?.restartIce(servers);
  }

  #onPeerState(callId: string, state: RTCPeerConnectionState): void {
    if (callId !== this.#callId) return;
    if (state === 'connected') {
      clearTimeout(this.#restartTimer);
      this.#o.send({ type: 'peer_state', callId, state: 'connected' });
    } else if (state === 'failed') {
      this.#o.send({ type: 'peer_state', callId, state: 'failed' });
      // Before the call was ever up, the server decides (connect timeout); after, try to recover.
      if (this.#o.wasUp()) void this.#restartIce(callId);
    } else if (state === 'disconnected') {
      this.#o.send({ type: 'peer_state', callId, state: 'disconnected' });
      this.emit('interrupted', { callId });
      // Often recovers by itself within a second or two; if not, the offerer restarts ICE.
      clearTimeout(this.#restartTimer);
      if (this.#role === 'offerer') this.#restartTimer = setTimeout(() => void this.#restartIce(callId), RESTART_AFTER_MS);
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
          this.#o.send({ type: 'stats', callId, sample });
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
          this.#o.send({ type: 'heartbeat', callId, seq: hb.seq++, bytesReceived });
        })
        .catch(() => undefined);
    this.#heartbeat = hb;
    void beat();
  }
}

function signalMessage(callId: string, s: SignalPayload): ClientMessage {
  const out: ClientMessage = { type: 'signal', callId };
  if (s.description)
    out.description = s.description.sdp === undefined ? { type: s.description.type } : { type: s.description.type, sdp: s.description.sdp };
  if (s.candidate !== undefined) out.candidate = s.candidate === null ? null : toCandidate(s.candidate);
  return out;
}

function toCandidate(c: RTCIceCandidateInit): {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
} {
  return {
    candidate: c.candidate ?? '',
    sdpMid: c.sdpMid ?? null,
    sdpMLineIndex: c.sdpMLineIndex ?? null,
    usernameFragment: c.usernameFragment ?? null,
  };
}
