import { TypedEmitter } from './emitter.js';
import { VIDEO_CONSTRAINTS } from './media.js';
import { ScreenWakeLock, type VisibilitySource, type WakeLockApi } from './wakeLock.js';

/** Which way a camera looks: at the person (`user`, the selfie camera) or away (`environment`). */
export type Facing = 'user' | 'environment';

export interface CameraChange {
  /** The camera now in use. */
  deviceId: string | null;
  /** Which way it looks, when the browser says (phones do; most desktop webcams do not). */
  facing: Facing | null;
}

export interface AudioOutput {
  deviceId: string;
  /** The browser's name for it (empty before camera/microphone access was granted). */
  label: string;
}

export interface DeviceEvents extends Record<string, unknown> {
  /** The camera was switched (the preview stream and the call now carry the new one). */
  camera: CameraChange;
  /** The partner's sound now plays on this output ('' is the system default). */
  audioOutput: { deviceId: string };
  /** The screen is kept on (during a call) or may sleep again. */
  wakeLock: { held: boolean };
  /**
   * The page was hidden (another app, a phone call, a locked screen) or shown again. While it is
   * hidden the camera is off (`videoPaused`): the partner sees the paused placeholder and keeps
   * hearing this person; the call itself goes on.
   */
  pageHidden: { hidden: boolean; videoPaused: boolean };
}

/** The parts of `navigator.mediaDevices` used here (injectable for tests). */
export type MediaDevicesLike = Pick<MediaDevices, 'getUserMedia' | 'enumerateDevices'>;

export interface LocalDevicesOptions {
  /** The camera and microphone stream the app previews and the call sends. */
  localStream: () => MediaStream | null;
  /** The current call's peer connection, whose video sender gets the new camera. */
  peerConnection: () => RTCPeerConnection | null;
  mediaDevices?: MediaDevicesLike | null;
  wakeLock?: WakeLockApi | null;
  document?: VisibilitySource | null;
  /** Turn the camera off while the page is hidden (default true). */
  pauseVideoWhenHidden?: boolean;
  /** Keep the screen on during a call (default true). */
  keepScreenOn?: boolean;
}

/** A second camera cannot open while the first is held (many phones): release the first, then retry. */
const BUSY = new Set(['NotReadableError', 'AbortError', 'TrackStartError']);

/**
 * This person's devices around a call: which camera (front or back), where the partner's sound
 * plays, keeping the screen on during a call, and the camera off while the page is hidden.
 * Reached as `client.devices`; it never renegotiates the call (a camera switch replaces the track
 * on the same sender).
 */
export class LocalDevices extends TypedEmitter<DeviceEvents> {
  readonly #o: LocalDevicesOptions;
  readonly #media: MediaDevicesLike | null;
  readonly #doc: VisibilitySource | null;
  readonly #wakeLock: ScreenWakeLock;
  #switching: Promise<CameraChange> | null = null;
  #sinkId = '';
  /** Video tracks this object turned off because the page was hidden (only those are turned back on). */
  #pausedByHiding = new Set<MediaStreamTrack>();
  #closed = false;
  readonly #onVisibility = () => this.#visibilityChanged();

  constructor(options: LocalDevicesOptions) {
    super();
    this.#o = options;
    this.#media =
      options.mediaDevices === undefined
        ? typeof navigator === 'undefined'
          ? null
          : (navigator.mediaDevices ?? null)
        : options.mediaDevices;
    this.#doc = options.document === undefined ? (typeof document === 'undefined' ? null : document) : options.document;
    this.#wakeLock = new ScreenWakeLock({
      ...(options.wakeLock !== undefined ? { wakeLock: options.wakeLock } : {}),
      document: this.#doc,
    });
    this.#wakeLock.on('change', (e) => this.emit('wakeLock', e));
    if (options.pauseVideoWhenHidden !== false) this.#doc?.addEventListener('visibilitychange', this.#onVisibility);
  }

  // ---- the camera ------------------------------------------------------------------------------

  /** The camera in use now, and which way it looks when the browser says. */
  get camera(): CameraChange {
    const track = this.#videoTrack();
    const settings = track?.getSettings?.() ?? {};
    return { deviceId: settings.deviceId ?? null, facing: facingOf(settings.facingMode) };
  }

  /** The cameras this browser lists (with names once camera access was granted). */
  async cameras(): Promise<Array<{ deviceId: string; label: string }>> {
    const all = (await this.#media?.enumerateDevices().catch(() => [])) ?? [];
    return all.filter((d) => d.kind === 'videoinput').map((d) => ({ deviceId: d.deviceId, label: d.label }));
  }

  /**
   * Whether a camera switch makes sense: two cameras or more (phones list front and back), or a
   * camera that says which way it looks (a phone whose cameras are listed as one).
   */
  async canSwitchCamera(): Promise<boolean> {
    if (!this.#media) return false;
    if ((await this.cameras()).length >= 2) return true;
    const capabilities = this.#videoTrack()?.getCapabilities?.() as { facingMode?: string[] } | undefined;
    return (capabilities?.facingMode?.length ?? 0) > 0 && this.camera.facing !== null;
  }

  /**
   * Switches to the other camera — the back one from the front one and back again, or the next one
   * listed when the cameras do not say which way they look — or to the one asked for. The new track
   * replaces the old on the call's video sender (no renegotiation: the partner keeps receiving on the
   * same stream) and in the local stream the preview shows. The old camera is stopped. On failure the
   * camera in use is kept and the error is thrown (a MediaAccessError-like DOMException).
   */
  switchCamera(to?: Facing | { deviceId: string }): Promise<CameraChange> {
    this.#switching ??= this.#switch(to).finally(() => (this.#switching = null));
    return this.#switching;
  }

  async #switch(to: Facing | { deviceId: string } | undefined): Promise<CameraChange> {
    const stream = this.#o.localStream();
    const old = this.#videoTrack();
    if (!stream || !old || !this.#media) throw new DOMException('No camera is open.', 'InvalidStateError');
    const target = to ?? (await this.#nextCamera(old));
    const video = constraintsFor(target);
    let fresh: MediaStreamTrack;
    try {
      fresh = await this.#open(video);
    } catch (err) {
      if (!(err instanceof DOMException) || !BUSY.has(err.name)) throw err;
      // This phone holds one camera at a time: let go of the old one, then open the new one.
      const oldDevice = old.getSettings().deviceId;
      old.stop();
      try {
        fresh = await this.#open(video);
      } catch (again) {
        // Put the camera that was working back, so the call keeps its picture.
        const restored = await this.#open(oldDevice ? constraintsFor({ deviceId: oldDevice }) : VIDEO_CONSTRAINTS);
        await this.#install(stream, old, restored);
        throw again;
      }
    }
    await this.#install(stream, old, fresh);
    const change = this.camera;
    this.emit('camera', change);
    return change;
  }

  async #open(video: MediaTrackConstraints): Promise<MediaStreamTrack> {
    const s = await this.#media!.getUserMedia({ video, audio: false });
    const track = s.getVideoTracks()[0];
    if (!track) throw new DOMException('The camera gave no picture.', 'NotReadableError');
    return track;
  }

  /** The new track on the call's video sender and in the preview stream, in the old one's state. */
  async #install(stream: MediaStream, old: MediaStreamTrack, fresh: MediaStreamTrack): Promise<void> {
    fresh.enabled = old.enabled;
    if (this.#pausedByHiding.delete(old)) this.#pausedByHiding.add(fresh);
    for (const sender of videoSenders(this.#o.peerConnection())) await sender.replaceTrack(fresh);
    stream.removeTrack(old);
    stream.addTrack(fresh);
    old.stop();
  }

  /** The other way from the camera in use, else the next camera listed after it. */
  async #nextCamera(current: MediaStreamTrack): Promise<Facing | { deviceId: string }> {
    const settings = current.getSettings();
    const facing = facingOf(settings.facingMode);
    if (facing) return facing === 'user' ? 'environment' : 'user';
    const cameras = await this.cameras();
    const i = cameras.findIndex((c) => c.deviceId === settings.deviceId);
    const next = cameras[(i + 1) % Math.max(1, cameras.length)];
    if (!next || next.deviceId === settings.deviceId) throw new DOMException('There is no other camera.', 'NotFoundError');
    return { deviceId: next.deviceId };
  }

  #videoTrack(): MediaStreamTrack | undefined {
    return this.#o.localStream()?.getVideoTracks()[0];
  }

  // ---- where the partner's sound plays -----------------------------------------------------------

  /** Whether this browser lets a page choose the speaker (`HTMLMediaElement.setSinkId`). */
  get canChooseAudioOutput(): boolean {
    return typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;
  }

  /** The chosen output ('' is the system default). */
  get audioOutput(): string {
    return this.#sinkId;
  }

  /** The speakers and headsets this browser lists; empty where the output cannot be chosen. */
  async audioOutputs(): Promise<AudioOutput[]> {
    if (!this.canChooseAudioOutput) return [];
    const all = (await this.#media?.enumerateDevices().catch(() => [])) ?? [];
    return all.filter((d) => d.kind === 'audiooutput').map((d) => ({ deviceId: d.deviceId, label: d.label }));
  }

  /**
   * Plays the partner's sound (the given media elements: the remote <video>) on `deviceId`, and
   * remembers the choice for `applyAudioOutput`. Throws, keeping the previous output, if refused.
   */
  async setAudioOutput(deviceId: string, elements: Iterable<HTMLMediaElement | null | undefined>): Promise<void> {
    const targets = [...elements].filter((e): e is HTMLMediaElement => !!e && typeof e.setSinkId === 'function');
    const before = this.#sinkId;
    try {
      for (const el of targets) await el.setSinkId(deviceId);
    } catch (err) {
      for (const el of targets) await el.setSinkId(before).catch(() => undefined);
      throw err;
    }
    this.#sinkId = deviceId;
    this.emit('audioOutput', { deviceId });
  }

  /** Applies the chosen output to an element that appeared since (a new <video>). */
  async applyAudioOutput(element: HTMLMediaElement | null | undefined): Promise<void> {
    if (!element || typeof element.setSinkId !== 'function' || element.sinkId === this.#sinkId) return;
    await element.setSinkId(this.#sinkId).catch(() => undefined);
  }

  // ---- the screen, and a hidden page -------------------------------------------------------------

  /** Whether the screen is being kept on right now. */
  get wakeLockHeld(): boolean {
    return this.#wakeLock.held;
  }
  get wakeLockSupported(): boolean {
    return this.#wakeLock.supported;
  }

  /** Told by the client: a call is in progress (connecting, connected, reconnecting) or not. */
  callActive(active: boolean): void {
    if (this.#o.keepScreenOn === false) return;
    void this.#wakeLock.hold(active);
  }

  /** Whether the camera is off because the page is hidden. */
  get videoPausedByHiding(): boolean {
    return this.#pausedByHiding.size > 0;
  }

  #visibilityChanged(): void {
    if (this.#closed || !this.#doc) return;
    const hidden = this.#doc.visibilityState === 'hidden';
    if (hidden) {
      for (const track of this.#o.localStream()?.getVideoTracks() ?? []) {
        if (!track.enabled || track.readyState === 'ended') continue;
        // A disabled track sends black frames at a trickle and, in most browsers, turns the camera light off.
        track.enabled = false;
        this.#pausedByHiding.add(track);
      }
    } else {
      for (const track of this.#pausedByHiding) track.enabled = true;
      this.#pausedByHiding.clear();
    }
    this.emit('pageHidden', { hidden, videoPaused: this.#pausedByHiding.size > 0 });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#wakeLock.close();
    this.#doc?.removeEventListener('visibilitychange', this.#onVisibility);
    for (const track of this.#pausedByHiding) track.enabled = true;
    this.#pausedByHiding.clear();
  }
}

function facingOf(value: unknown): Facing | null {
  return value === 'user' || value === 'environment' ? value : null;
}

function constraintsFor(target: Facing | { deviceId: string }): MediaTrackConstraints {
  const { facingMode: _facing, ...rest } = VIDEO_CONSTRAINTS;
  return typeof target === 'string' ? { ...rest, facingMode: { exact: target } } : { ...rest, deviceId: { exact: target.deviceId } };
}

/** The call's video senders: by their transceiver's kind, so a sender whose track was replaced is found too. */
function videoSenders(pc: RTCPeerConnection | null): RTCRtpSender[] {
  if (!pc || pc.signalingState === 'closed') return [];
  return pc
    .getTransceivers()
    .filter((t) => t.receiver.track?.kind === 'video' && t.direction !== 'stopped')
    .map((t) => t.sender);
}
