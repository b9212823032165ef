import type { Config, FaceResult, Human } from '@vladmandic/human';
import { eyeOpenness, mouthOpenness, type MeshPoint } from '@duet/protocol';
import type { FaceReading } from './actions.js';

/**
 * The face detector in the browser: @vladmandic/human on tfjs' WASM backend, with its models and
 * the .wasm files served by Duet itself (`/models/human/`, `/models/tfjs-wasm/`), never a CDN.
 * Only the models that guide the person are loaded (face box, mesh, iris: about 5 MB); the
 * descriptor, anti-spoofing and liveness models run on the server only.
 */

/** The server's configuration (packages/server/src/verification/detector.ts), minus the server-only models. */
const CONFIG: Partial<Config> = {
  backend: 'wasm',
  wasmPath: '/models/tfjs-wasm/',
  wasmPlatformFetch: false,
  modelBasePath: '/models/human/',
  debug: false,
  cacheModels: false,
  warmup: 'none',
  // Each frame is judged on its own, like on the server: no result carried over.
  cacheSensitivity: 0,
  skipAllowed: false,
  filter: { enabled: false } as Config['filter'],
  gesture: { enabled: false },
  face: {
    enabled: true,
    detector: { rotation: true, maxDetected: 2, skipFrames: 0, skipTime: 0, minConfidence: 0.5, return: false },
    mesh: { enabled: true },
    attention: { enabled: false },
    iris: { enabled: true },
    emotion: { enabled: false },
    description: { enabled: false },
    antispoof: { enabled: false },
    liveness: { enabled: false },
  } as Config['face'],
  body: { enabled: false } as Config['body'],
  hand: { enabled: false } as Config['hand'],
  object: { enabled: false } as Config['object'],
  segmentation: { enabled: false } as Config['segmentation'],
};

const REQUIRED_MODELS = ['blazeface', 'facemesh', 'iris'];

export class ModelLoadError extends Error {
  override name = 'ModelLoadError';
}

let loading: Promise<Human> | null = null;

/** Loads human and its models once per page; later calls share the same instance. */
export function loadDetector(): Promise<Human> {
  loading ??= (async () => {
    const { Human } = await import('@vladmandic/human');
    const human = new Human(CONFIG);
    await human.load();
    const missing = REQUIRED_MODELS.filter((m) => !human.models.loaded().includes(m));
    if (missing.length > 0) throw new ModelLoadError(`face models failed to load: ${missing.join(', ')}`);
    return human;
  })().catch((err: unknown) => {
    loading = null; // a later attempt may succeed (the network came back)
    throw err instanceof ModelLoadError ? err : new ModelLoadError(err instanceof Error ? err.message : String(err));
  });
  return loading;
}

function reading(faces: FaceResult[]): FaceReading | null {
  if (faces.length === 0) return null;
  const main = faces.reduce((a, b) => (b.box[2] * b.box[3] > a.box[2] * a.box[3] ? b : a));
  const mesh = main.mesh as unknown as MeshPoint[];
  const angle = main.rotation?.angle ?? { yaw: 0, pitch: 0, roll: 0 };
  return {
    faces: faces.length,
    score: main.score,
    yaw: angle.yaw,
    pitch: angle.pitch,
    eyeOpenness: eyeOpenness(mesh),
    mouthOpenness: mouthOpenness(mesh),
  };
}

/** Reads the face in a canvas; null when there is none. */
export async function readFace(human: Human, canvas: HTMLCanvasElement): Promise<FaceReading | null> {
  const result = await human.detect(canvas);
  if (result.error) throw new Error(`face detector: ${result.error}`);
  for (const f of result.face) f.tensor?.dispose();
  return reading(result.face);
}

/** Widest frame sent to the server: small enough to upload quickly, large enough to judge. */
export const CAPTURE_WIDTH = 480;

/** Draws the current video frame into `canvas`, scaled to at most CAPTURE_WIDTH wide; false without a picture. */
export function grab(video: HTMLVideoElement, canvas: HTMLCanvasElement): boolean {
  const vw = video.videoWidth;
  const vh = video.videoHeight;
  if (!vw || !vh) return false;
  const scale = Math.min(1, CAPTURE_WIDTH / vw);
  // Even sizes: some JPEG encoders and decoders dislike odd ones.
  const w = Math.max(2, Math.round((vw * scale) / 2) * 2);
  const h = Math.max(2, Math.round((vh * scale) / 2) * 2);
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) return false;
  ctx.drawImage(video, 0, 0, w, h);
  return true;
}

/** Largest upload the server takes per frame, as base64 characters (200 KB of JPEG). */
const MAX_BASE64 = Math.floor(200_000 / 3) * 4;

/** The canvas as a JPEG, base64 without the data: prefix; lower quality if it came out too large. */
export function jpegOf(canvas: HTMLCanvasElement): string {
  for (const quality of [0.8, 0.65, 0.5]) {
    const url = canvas.toDataURL('image/jpeg', quality);
    const b64 = url.slice(url.indexOf(',') + 1);
    if (b64.length <= MAX_BASE64) return b64;
  }
  throw new Error('frame too large');
}
