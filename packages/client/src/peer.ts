import type { IceServer } from '@duet/protocol';
import { QualityMonitor } from './quality.js';

/**
 * An offer unanswered this long is sent again. A signal sent while the signaling socket is down
 * is lost (the socket comes back, the signal does not), and an offer left unanswered blocks every
 * later negotiation — a paused video's resume, an ICE restart — for the rest of the call.
 */
export const OFFER_RESEND_MS = 3000;

export interface SignalPayload {
  description?: { type: RTCSdpType; sdp?: string };
  candidate?: RTCIceCandidateInit | null;
}

export interface PeerOptions {
  iceServers: IceServer[];
  /** 'relay' keeps every address private: only relay candidates are gathered. */
  iceTransportPolicy?: RTCIceTransportPolicy;
  /** The answerer is the polite peer: it yields when offers collide. */
  polite: boolean;
  localStream: MediaStream;
  sendSignal: (signal: SignalPayload) => void;
  onRemoteStream: (stream: MediaStream) => void;
  onConnectionState: (state: RTCPeerConnectionState) => void;
  onError: (err: unknown) => void;
}

/**
 * One RTCPeerConnection with perfect negotiation and trickle ICE. The offerer sends its tracks at
 * once; the polite answerer adds its own when the first offer arrives, so the first exchange is a
 * single offer and answer, and later renegotiation (ICE restarts) can come from either side.
 */
export class PeerSession {
  readonly pc: RTCPeerConnection;
  /** Audio-first video control and the quality both people see (see quality.ts). */
  readonly quality: QualityMonitor;
  readonly #o: PeerOptions;
  #makingOffer = false;
  #ignoreOffer = false;
  #settingRemoteAnswer = false;
  #tracksAdded = false;
  #closed = false;
  /** Candidate types gathered locally: the diagnosis when a call cannot connect. */
  readonly gathered = new Set<'host' | 'srflx' | 'prflx' | 'relay'>();
  /** Signals are applied one at a time, in the order they arrived. */
  #queue: Promise<void> = Promise.resolve();
  #offerResend: ReturnType<typeof setInterval> | undefined;

  constructor(options: PeerOptions) {
    this.#o = options;
    this.pc = new RTCPeerConnection({
      iceServers: options.iceServers,
      iceTransportPolicy: options.iceTransportPolicy ?? 'all',
      bundlePolicy: 'max-bundle',
    });
    this.quality = new QualityMonitor(this.pc);
    this.pc.onnegotiationneeded = () => void this.#negotiate();
    this.pc.onicecandidate = ({ candidate }) => {
      if (!candidate) return;
      if (candidate.type) this.gathered.add(candidate.type);
      this.#o.sendSignal({ candidate: candidate.toJSON() });
    };
    this.pc.ontrack = ({ track, streams }) => {
      const stream = streams[0] ?? new MediaStream([track]);
      this.#o.onRemoteStream(stream);
    };
    this.pc.onsignalingstatechange = () => {
      if (this.pc.signalingState !== 'stable') return;
      clearInterval(this.#offerResend);
      this.quality.negotiated();
    };
    this.pc.onconnectionstatechange = () => {
      if (this.pc.connectionState === 'connected') {
        // One after the other: both change the video sender's parameters.
        void this.#applySenderPolicy().finally(() => this.quality.start());
      }
      this.#o.onConnectionState(this.pc.connectionState);
    };
  }

  /** The offerer starts negotiation by adding its tracks. */
  start(): void {
    this.#addTracks();
  }

  /**
   * Restarts ICE (a network change, a dropped path), first taking fresh ICE servers when given:
   * TURN credentials are checked when a relay allocation is created, so a restart needs valid ones.
   */
  restartIce(iceServers?: RTCIceServer[]): void {
    if (this.#closed) return;
    if (iceServers) this.pc.setConfiguration({ ...this.pc.getConfiguration(), iceServers });
    this.pc.restartIce();
  }

  /**
   * Sends this side's offer again if it is still unanswered: the signaling connection came back,
   * and what was sent while it was down is lost.
   */
  resendOffer(): void {
    const d = this.pc.localDescription;
    if (this.#closed || this.pc.signalingState !== 'have-local-offer' || !d) return;
    this.#o.sendSignal({ description: { type: d.type, sdp: d.sdp } });
  }

  handleSignal(signal: SignalPayload): void {
    this.#queue = this.#queue
      .then(() => this.#apply(signal))
      .catch((err: unknown) => {
        if (!this.#closed) this.#o.onError(err);
      });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#offerResend);
    this.quality.close();
    this.pc.onnegotiationneeded = null;
    this.pc.onicecandidate = null;
    this.pc.ontrack = null;
    this.pc.onconnectionstatechange = null;
    this.pc.onsignalingstatechange = null;
    this.pc.close();
  }

  #addTracks(): void {
    if (this.#tracksAdded) return;
    this.#tracksAdded = true;
    // Both sides open the quality channel with the same id, so neither waits for the other's offer.
    // Unordered and never retransmitted: a report a second, the newest is the only one that counts.
    this.quality.attachChannel(this.pc.createDataChannel('duet-quality', { negotiated: true, id: 1, ordered: false, maxRetransmits: 0 }));
    for (const track of this.#o.localStream.getTracks()) this.pc.addTrack(track, this.#o.localStream);
    preferRedundantAudio(this.pc);
  }

  async #negotiate(): Promise<void> {
    try {
      this.#makingOffer = true;
      await this.pc.setLocalDescription();
      const d = this.pc.localDescription;
      if (d && !this.#closed) this.#o.sendSignal({ description: { type: d.type, sdp: d.sdp } });
      clearInterval(this.#offerResend);
      if (!this.#closed && this.pc.signalingState === 'have-local-offer')
        this.#offerResend = setInterval(() => this.resendOffer(), OFFER_RESEND_MS);
    } catch (err) {
      if (!this.#closed) this.#o.onError(err);
    } finally {
      this.#makingOffer = false;
    }
  }

  async #apply({ description, candidate }: SignalPayload): Promise<void> {
    if (this.#closed) return;
    if (description) {
      const readyForOffer = !this.#makingOffer && (this.pc.signalingState === 'stable' || this.#settingRemoteAnswer);
      // An answer to an offer sent twice comes twice: the second finds the negotiation over.
      if (description.type === 'answer' && this.pc.signalingState !== 'have-local-offer') return;
      const collision = description.type === 'offer' && !readyForOffer;
      this.#ignoreOffer = !this.#o.polite && collision;
      if (this.#ignoreOffer) return;
      this.#settingRemoteAnswer = description.type === 'answer';
      await this.pc.setRemoteDescription(description.sdp ? { type: description.type, sdp: opusForVoice(description.sdp) } : description);
      this.#settingRemoteAnswer = false;
      if (description.type === 'offer') {
        this.#addTracks();
        await this.pc.setLocalDescription();
        const d = this.pc.localDescription;
        if (d) this.#o.sendSignal({ description: { type: d.type, sdp: d.sdp } });
      }
    } else if (candidate) {
      try {
        await this.pc.addIceCandidate(candidate);
      } catch (err) {
        if (!this.#ignoreOffer) throw err;
      }
    }
  }

  /**
   * A bad network should cost picture before voice: audio gets high send and network priority.
   * The video sender's (low priority, its frame rate kept while its resolution drops) are set by
   * the quality monitor with each tier: a resume renegotiates, and the new send stream starts from
   * the browser's defaults.
   */
  async #applySenderPolicy(): Promise<void> {
    for (const sender of this.pc.getSenders()) {
      if (sender.track?.kind !== 'audio') continue;
      const params = sender.getParameters();
      for (const e of params.encodings ?? []) {
        const enc = e as RTCRtpEncodingParameters & { priority?: string; networkPriority?: string };
        enc.priority = 'high';
        enc.networkPriority = 'high';
      }
      try {
        await sender.setParameters(params);
      } catch {
        // Older browsers reject some of these fields; the call works without them.
      }
    }
  }
}

/**
 * Opus as this side should send it, set on the partner's description (whose Opus parameters are
 * what this side's encoder follows): in-band FEC (a lost packet is rebuilt from the next one) and
 * DTX (silence costs almost nothing, leaving room for speech). Other codecs are untouched.
 */
export function opusForVoice(sdp: string): string {
  const opus = /^a=rtpmap:(\d+) opus\/48000/im.exec(sdp)?.[1];
  if (!opus) return sdp;
  return sdp.replace(new RegExp(`^a=fmtp:${opus} (.*)$`, 'gm'), (_line, params: string) => {
    const p = params
      .trim()
      .split(';')
      .map((x) => x.trim())
      .filter((x) => x && !/^(useinbandfec|usedtx)=/.test(x));
    return `a=fmtp:${opus} ${[...p, 'useinbandfec=1', 'usedtx=1'].join(';')}`;
  });
}

/**
 * RED (RFC 2198) before plain Opus where the browser offers it: each packet also carries the
 * previous frame, so a single lost packet costs no audio at all.
 */
function preferRedundantAudio(pc: RTCPeerConnection): void {
  const codecs = typeof RTCRtpReceiver.getCapabilities === 'function' ? RTCRtpReceiver.getCapabilities('audio')?.codecs : undefined;
  if (!codecs) return;
  const rank = (c: RTCRtpCodec) => (/audio\/red/i.test(c.mimeType) ? 0 : /audio\/opus/i.test(c.mimeType) ? 1 : 2);
  const ordered = [...codecs].sort((a, b) => rank(a) - rank(b));
  for (const t of pc.getTransceivers()) {
    if (t.sender.track?.kind !== 'audio' || typeof t.setCodecPreferences !== 'function') continue;
    try {
      t.setCodecPreferences(ordered);
    } catch {
      // A browser that rejects the list keeps its own order.
    }
  }
}
