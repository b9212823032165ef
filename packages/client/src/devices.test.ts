import { describe, expect, it } from 'vitest';
import { LocalDevices, type MediaDevicesLike } from './devices.js';
import type { VisibilitySource } from './wakeLock.js';

/** A camera track as far as LocalDevices reads it. */
class FakeTrack {
  enabled = true;
  readyState: MediaStreamTrackState = 'live';
  constructor(
    readonly kind: 'video' | 'audio',
    readonly deviceId: string,
    readonly facingMode?: 'user' | 'environment',
  ) {}
  getSettings(): MediaTrackSettings {
    return { deviceId: this.deviceId, ...(this.facingMode ? { facingMode: this.facingMode } : {}) };
  }
  getCapabilities(): MediaTrackCapabilities {
    return this.facingMode ? { facingMode: [this.facingMode] } : {};
  }
  stop() {
    this.readyState = 'ended';
  }
}

class FakeStream {
  constructor(public tracks: FakeTrack[]) {}
  getVideoTracks() {
    return this.tracks.filter((t) => t.kind === 'video');
  }
  getTracks() {
    return this.tracks;
  }
  removeTrack(t: FakeTrack) {
    this.tracks = this.tracks.filter((x) => x !== t);
  }
  addTrack(t: FakeTrack) {
    this.tracks.push(t);
  }
}

class FakeDocument implements VisibilitySource {
  visibilityState: DocumentVisibilityState = 'visible';
  readonly #listeners = new Set<() => void>();
  addEventListener(_t: 'visibilitychange', l: () => void) {
    this.#listeners.add(l);
  }
  removeEventListener(_t: 'visibilitychange', l: () => void) {
    this.#listeners.delete(l);
  }
  show(state: DocumentVisibilityState) {
    this.visibilityState = state;
    for (const l of this.#listeners) l();
  }
}

interface Camera {
  deviceId: string;
  facing?: 'user' | 'environment';
}

/** Cameras that open by facing or by id; `oneAtATime` refuses a second camera while one is live. */
function fakeMedia(cameras: Camera[], { oneAtATime = false } = {}) {
  const opened: FakeTrack[] = [];
  const asked: MediaTrackConstraints[] = [];
  const media: MediaDevicesLike = {
    async enumerateDevices() {
      return cameras.map((c) => ({ kind: 'videoinput', deviceId: c.deviceId, label: c.deviceId, groupId: '' }) as MediaDeviceInfo);
    },
    async getUserMedia(constraints?: MediaStreamConstraints) {
      const video = constraints?.video as MediaTrackConstraints;
      asked.push(video);
      const facing = (video.facingMode as { exact?: string } | undefined)?.exact;
      const id = (video.deviceId as { exact?: string } | undefined)?.exact;
      const camera = cameras.find((c) => (facing ? c.facing === facing : id ? c.deviceId === id : true));
      if (!camera) throw new DOMException('no such camera', 'OverconstrainedError');
      if (oneAtATime && opened.some((t) => t.readyState === 'live')) throw new DOMException('camera busy', 'NotReadableError');
      const track = new FakeTrack('video', camera.deviceId, camera.facing);
      opened.push(track);
      return new FakeStream([track]) as unknown as MediaStream;
    },
  };
  return { media, opened, asked };
}

/** A peer connection with one video transceiver whose sender records replaceTrack. */
function fakePeer() {
  const sender = { track: null as FakeTrack | null, replaced: 0 };
  const replaceTrack = async (t: FakeTrack) => {
    sender.track = t;
    sender.replaced++;
  };
  const pc = {
    signalingState: 'stable',
    getTransceivers: () => [
      { receiver: { track: { kind: 'audio' } }, direction: 'sendrecv', sender: { replaceTrack: () => Promise.reject(new Error('audio')) } },
      { receiver: { track: { kind: 'video' } }, direction: 'sendrecv', sender: { replaceTrack } },
    ],
  };
  return { pc: pc as unknown as RTCPeerConnection, sender };
}

function setup(cameras: Camera[], options: { oneAtATime?: boolean } = {}) {
  const { media, opened, asked } = fakeMedia(cameras, options);
  const first = cameras[0]!;
  const video = new FakeTrack('video', first.deviceId, first.facing);
  const audio = new FakeTrack('audio', 'mic');
  opened.push(video);
  const stream = new FakeStream([audio, video]);
  const peer = fakePeer();
  const doc = new FakeDocument();
  const devices = new LocalDevices({
    localStream: () => stream as unknown as MediaStream,
    peerConnection: () => peer.pc,
    mediaDevices: media,
    wakeLock: null,
    document: doc,
  });
  return { devices, stream, video, audio, peer, doc, opened, asked };
}

const PHONE: Camera[] = [
  { deviceId: 'front', facing: 'user' },
  { deviceId: 'back', facing: 'environment' },
];

describe('LocalDevices: camera switch', () => {
  it('switches front to back and back again, on the same sender, keeping the preview stream', async () => {
    const { devices, stream, video, peer, asked } = setup(PHONE);
    const events: unknown[] = [];
    devices.on('camera', (c) => events.push(c));
    expect(await devices.canSwitchCamera()).toBe(true);
    expect(await devices.switchCamera()).toEqual({ deviceId: 'back', facing: 'environment' });
    expect(asked[0]!.facingMode).toEqual({ exact: 'environment' });
    expect(peer.sender.replaced).toBe(1);
    expect(peer.sender.track?.deviceId).toBe('back');
    expect(stream.getVideoTracks().map((t) => t.deviceId)).toEqual(['back']);
    expect(stream.getTracks().some((t) => t.kind === 'audio')).toBe(true);
    expect(video.readyState).toBe('ended');
    await devices.switchCamera();
    expect(stream.getVideoTracks()[0]!.deviceId).toBe('front');
    expect(events).toEqual([
      { deviceId: 'back', facing: 'environment' },
      { deviceId: 'front', facing: 'user' },
    ]);
  });

  it('cycles by device where cameras do not say which way they look', async () => {
    const { devices, stream } = setup([{ deviceId: 'a' }, { deviceId: 'b' }, { deviceId: 'c' }]);
    await devices.switchCamera();
    expect(stream.getVideoTracks()[0]!.deviceId).toBe('b');
    await devices.switchCamera();
    await devices.switchCamera();
    expect(stream.getVideoTracks()[0]!.deviceId).toBe('a');
  });

  it('releases the first camera on a phone that holds one at a time', async () => {
    const { devices, stream, video } = setup(PHONE, { oneAtATime: true });
    await devices.switchCamera();
    expect(video.readyState).toBe('ended');
    expect(stream.getVideoTracks()[0]!.deviceId).toBe('back');
  });

  it('keeps the camera in use when the other cannot start, and one camera offers no switch', async () => {
    const single = setup([{ deviceId: 'only' }]);
    expect(await single.devices.canSwitchCamera()).toBe(false);
    await expect(single.devices.switchCamera()).rejects.toThrow(/no other camera/);
    expect(single.stream.getVideoTracks()[0]).toBe(single.video);
    expect(single.video.readyState).toBe('live');

    const missing = setup([{ deviceId: 'front', facing: 'user' }]);
    await expect(missing.devices.switchCamera('environment')).rejects.toThrow();
    expect(missing.stream.getVideoTracks()[0]).toBe(missing.video);
    expect(missing.peer.sender.replaced).toBe(0);
  });

  it('runs one switch at a time (a double tap is one switch)', async () => {
    const { devices, stream } = setup(PHONE);
    const [a, b] = [devices.switchCamera(), devices.switchCamera()];
    expect(await a).toEqual(await b);
    expect(stream.getVideoTracks().map((t) => t.deviceId)).toEqual(['back']);
  });
});

describe('LocalDevices: a hidden page', () => {
  it('turns the camera off while hidden and back on when shown, the microphone untouched', async () => {
    const { devices, doc, video, audio } = setup(PHONE);
    const seen: unknown[] = [];
    devices.on('pageHidden', (e) => seen.push(e));
    doc.show('hidden');
    expect(video.enabled).toBe(false);
    expect(audio.enabled).toBe(true);
    expect(devices.videoPausedByHiding).toBe(true);
    doc.show('visible');
    expect(video.enabled).toBe(true);
    expect(seen).toEqual([
      { hidden: true, videoPaused: true },
      { hidden: false, videoPaused: false },
    ]);
  });

  it('leaves a camera the app turned off alone, and a switch while hidden stays off until shown', async () => {
    const { devices, doc, video, stream } = setup(PHONE);
    video.enabled = false;
    doc.show('hidden');
    doc.show('visible');
    expect(video.enabled).toBe(false);

    video.enabled = true;
    doc.show('hidden');
    await devices.switchCamera();
    const back = stream.getVideoTracks()[0]!;
    expect(back.enabled).toBe(false);
    doc.show('visible');
    expect(back.enabled).toBe(true);
  });
});

describe('LocalDevices: audio output', () => {
  it('sets the speaker on every element, and puts the old one back when refused', async () => {
    const { devices } = setup(PHONE);
    const el = (fail = false) => ({
      sinkId: '',
      async setSinkId(id: string) {
        if (fail && id === 'bt') throw new DOMException('no', 'NotFoundError');
        this.sinkId = id;
      },
    });
    const a = el();
    const b = el();
    await devices.setAudioOutput('usb', [a, b, null] as unknown as HTMLMediaElement[]);
    expect([a.sinkId, b.sinkId, devices.audioOutput]).toEqual(['usb', 'usb', 'usb']);
    const bad = el(true);
    await expect(devices.setAudioOutput('bt', [a, bad] as unknown as HTMLMediaElement[])).rejects.toThrow();
    expect([a.sinkId, devices.audioOutput]).toEqual(['usb', 'usb']);
    const later = el();
    await devices.applyAudioOutput(later as unknown as HTMLMediaElement);
    expect(later.sinkId).toBe('usb');
  });
});
