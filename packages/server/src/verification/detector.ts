import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { eyeOpenness, mouthOpenness } from '@duet/protocol';
import type { io } from '@tensorflow/tfjs-core';
import type * as HumanModule from '@vladmandic/human';
import { type DecodeLimits, DEFAULT_DECODE_LIMITS, decodeImage, downscale, isUniform, type RgbaImage } from './image.js';

/** One 3D landmark of the face mesh, in pixels of the analysed frame (z on the same scale). */
export type Landmark = readonly [x: number, y: number, z: number];

/** What the detector measured on the main face of one frame. */
export interface FaceMeasure {
  /** Detector confidence, 0..1. */
  score: number;
  /** [x, y, width, height] in pixels. */
  box: [number, number, number, number];
  /** Head rotation in radians, from the face mesh. Positive yaw: the nose points to the image's left. */
  yaw: number;
  /** Positive pitch: the head tilts down. */
  pitch: number;
  roll: number;
  /** Eye aspect ratio averaged over both eyes (lid gap / eye width); about 0.25–0.35 open, under 0.15 closed. */
  eyeOpenness: number;
  /** Inner lip gap / mouth width; about 0–0.1 closed, above 0.3 clearly open. */
  mouthOpenness: number;
  /** Face descriptor (1024 numbers from human's faceres model). */
  embedding: number[];
  /** Anti-spoofing score, 0..1, higher means a real face rather than a picture of one. */
  real: number;
  /** Liveness score, 0..1. */
  live: number;
  /** Age in years as human's faceres model estimates it (a guess with an error of years; see docs/safety.md). */
  age?: number;
  /** The 478-point mesh; only when the detector was created with `keepLandmarks`. */
  landmarks?: Landmark[];
}

export interface FrameAnalysis {
  /** How many faces the detector found. */
  faces: number;
  /** The largest face, when there is one. */
  face?: FaceMeasure;
  /** Time spent in the detector for this frame, in ms. */
  ms: number;
}

/** The cheap look at a frame before the full pipeline: is there anything, and a face in it? */
export interface FrameScreen {
  /** One flat colour (blank, black, covered lens): the face detector was not run. */
  uniform: boolean;
  /** Faces the face detector alone found on a shrunk copy (0 when uniform). */
  faces: number;
  /** Time spent, decode included, in ms. */
  ms: number;
}

export interface Detector {
  /** Decodes a JPEG or PNG and analyses it. Throws `ImageDecodeError` for a bad image. */
  analyze(encoded: Uint8Array): Promise<FrameAnalysis>;
  /**
   * Decodes a frame and looks at it cheaply: flat colour, then the face box detector alone (no mesh,
   * descriptor or anti-spoofing) on a copy at most 256 px a side. A few tens of ms instead of ~0.3 s.
   */
  screen(encoded: Uint8Array): Promise<FrameScreen>;
  analyzeImage(image: RgbaImage): Promise<FrameAnalysis>;
  close(): void;
}

export interface DetectorOptions {
  /** Folder holding human's models (`*.json` + `*.bin`); defaults to the one inside the npm package. */
  modelsDir?: string;
  /** Folder holding tfjs-backend-wasm's `.wasm` files; defaults to the npm package's `dist`. */
  wasmDir?: string;
  /** Keep the 478-point mesh in every `FaceMeasure` (the fixture generator needs it). */
  keepLandmarks?: boolean;
  /** Up to how many faces to look for; a second face is reported through `faces`. Default 2. */
  maxFaces?: number;
  decodeLimits?: DecodeLimits;
}

const require = createRequire(import.meta.url);

/** Where the npm packages keep what the detector loads from disk. */
export function detectorAssetPaths(): { humanDist: string; modelsDir: string; wasmDir: string } {
  // human's `exports` map has no usable subpaths, so its node-wasm build is loaded by file path.
  const humanDist = path.dirname(require.resolve('@vladmandic/human'));
  return {
    humanDist,
    modelsDir: path.resolve(humanDist, '..', 'models'),
    wasmDir: path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')),
  };
}

type HumanLib = typeof HumanModule;
type Human = HumanModule.Human;
type Tf = Human['tf'];

let fileRouterInstalled = false;

/**
 * tfjs only loads models over HTTP without tfjs-node; this router reads `file://` model URLs from
 * disk, so nothing is ever fetched from the network.
 */
function installFileRouter(tf: Tf): void {
  if (fileRouterInstalled) return;
  fileRouterInstalled = true;
  tf.io.registerLoadRouter((url: string | string[]) => {
    const u = Array.isArray(url) ? url[0] : url;
    if (typeof u !== 'string' || !u.startsWith('file://')) return null;
    const file = decodeURIComponent(new URL(u).pathname);
    return {
      load: async () => {
        const json = JSON.parse(await readFile(file, 'utf8')) as io.ModelJSON;
        return tf.io.getModelArtifactsForJSON(
          json,
          async (manifest: io.WeightsManifestConfig): Promise<[io.WeightsManifestEntry[], ArrayBuffer]> => {
            const specs = manifest.flatMap((group) => group.weights);
            const parts = await Promise.all(
              manifest.flatMap((group) => group.paths.map((p) => readFile(path.join(path.dirname(file), p)))),
            );
            const all = Buffer.concat(parts);
            return [specs, all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength)];
          },
        );
      },
    };
  });
}

function measure(face: HumanModule.FaceResult, keepLandmarks: boolean): FaceMeasure {
  const mesh = face.mesh as unknown as Landmark[];
  const angle = face.rotation?.angle ?? { yaw: 0, pitch: 0, roll: 0 };
  const m: FaceMeasure = {
    score: face.score,
    box: [...face.box],
    yaw: angle.yaw,
    pitch: angle.pitch,
    roll: angle.roll,
    eyeOpenness: eyeOpenness(mesh),
    mouthOpenness: mouthOpenness(mesh),
    embedding: Array.from(face.embedding ?? []),
    real: face.real ?? 0,
    live: face.live ?? 0,
  };
  if (typeof face.age === 'number' && Number.isFinite(face.age)) m.age = face.age;
  if (keepLandmarks) m.landmarks = mesh.map((p) => [p[0], p[1], p[2] ?? 0] as const);
  return m;
}

class HumanDetector implements Detector {
  #human: Human;
  #keepLandmarks: boolean;
  #decodeLimits: DecodeLimits;
  #face: Partial<HumanModule.FaceConfig>;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(human: Human, face: Partial<HumanModule.FaceConfig>, options: DetectorOptions) {
    this.#human = human;
    this.#face = face;
    this.#keepLandmarks = options.keepLandmarks ?? false;
    this.#decodeLimits = options.decodeLimits ?? DEFAULT_DECODE_LIMITS;
  }

  analyze(encoded: Uint8Array): Promise<FrameAnalysis> {
    return this.analyzeImage(decodeImage(encoded, this.#decodeLimits));
  }

  analyzeImage(image: RgbaImage): Promise<FrameAnalysis> {
    return this.#serial(() => this.#detect(image));
  }

  screen(encoded: Uint8Array): Promise<FrameScreen> {
    const started = performance.now();
    let image: RgbaImage;
    try {
      image = decodeImage(encoded, this.#decodeLimits);
    } catch (err) {
      return Promise.reject(err);
    }
    if (isUniform(image)) return Promise.resolve({ uniform: true, faces: 0, ms: performance.now() - started });
    const small = downscale(image, 256);
    return this.#serial(async () => {
      const tensor = this.#tensor(small);
      try {
        const result = await this.#human.detect(
          tensor as unknown as HumanModule.Input,
          { face: SCREEN_FACE } as Partial<HumanModule.Config>,
        );
        if (result.error) throw new Error(`face detector: ${result.error}`);
        for (const f of result.face) f.tensor?.dispose();
        return { uniform: false, faces: result.face.length, ms: performance.now() - started };
      } finally {
        tensor.dispose();
      }
    });
  }

  /** One WASM instance, one frame at a time: calls queue up behind each other. */
  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #tensor(image: RgbaImage) {
    const { width, height, data } = image;
    const rgb = new Uint8Array(width * height * 3);
    for (let i = 0, j = 0; i < width * height * 4; i += 4, j += 3) {
      rgb[j] = data[i]!;
      rgb[j + 1] = data[i + 1]!;
      rgb[j + 2] = data[i + 2]!;
    }
    return this.#human.tf.tensor4d(rgb, [1, height, width, 3], 'int32');
  }

  async #detect(image: RgbaImage): Promise<FrameAnalysis> {
    if (this.#closed) throw new Error('detector closed');
    const tensor = this.#tensor(image);
    const started = performance.now();
    try {
      // The full face config every time: human keeps a per-call config (the screen's) for later calls.
      const result = await this.#human.detect(tensor as unknown as HumanModule.Input, { face: this.#face } as Partial<HumanModule.Config>);
      const ms = performance.now() - started;
      // human reports failures in the result rather than throwing.
      if (result.error) throw new Error(`face detector: ${result.error}`);
      const faces = result.face;
      if (faces.length === 0) return { faces: 0, ms };
      const main = faces.reduce((a, b) => (b.box[2] * b.box[3] > a.box[2] * a.box[3] ? b : a));
      const out: FrameAnalysis = { faces: faces.length, face: measure(main, this.#keepLandmarks), ms };
      for (const f of faces) f.tensor?.dispose();
      return out;
    } finally {
      tensor.dispose();
    }
  }

  close(): void {
    this.#closed = true;
  }
}

const REQUIRED_MODELS = ['blazeface', 'facemesh', 'iris', 'faceres', 'antispoof', 'liveness'];

/** The screen: face boxes only. */
const SCREEN_FACE = {
  enabled: true,
  mesh: { enabled: false },
  iris: { enabled: false },
  description: { enabled: false },
  antispoof: { enabled: false },
  liveness: { enabled: false },
} as const;

let humanLib: HumanLib | undefined;

/**
 * Loads @vladmandic/human's Node WASM build with every model it needs from local files, and warms
 * it up. Loading takes about a second; create one detector per process and share it.
 */
export async function createDetector(options: DetectorOptions = {}): Promise<Detector> {
  const assets = detectorAssetPaths();
  const modelsDir = options.modelsDir ?? assets.modelsDir;
  const wasmDir = options.wasmDir ?? assets.wasmDir;
  humanLib ??= require(path.join(assets.humanDist, 'human.node-wasm.js')) as HumanLib;
  const face = {
    enabled: true,
    detector: { rotation: true, maxDetected: options.maxFaces ?? 2, skipFrames: 0, skipTime: 0, minConfidence: 0.5, return: false },
    mesh: { enabled: true },
    attention: { enabled: false },
    iris: { enabled: true },
    emotion: { enabled: false },
    description: { enabled: true, skipFrames: 0, skipTime: 0 },
    antispoof: { enabled: true, skipFrames: 0, skipTime: 0 },
    liveness: { enabled: true, skipFrames: 0, skipTime: 0 },
  } as Partial<HumanModule.FaceConfig>;
  const config: Partial<HumanModule.Config> = {
    backend: 'wasm',
    wasmPath: wasmDir.endsWith(path.sep) ? wasmDir : wasmDir + path.sep,
    modelBasePath: new URL(`file://${modelsDir}/`).href,
    debug: false,
    cacheModels: false,
    warmup: 'none',
    // Every uploaded frame is judged on its own: no result is carried over from a previous frame.
    cacheSensitivity: 0,
    skipAllowed: false,
    filter: { enabled: false },
    gesture: { enabled: false },
    face,
    body: { enabled: false },
    hand: { enabled: false },
    object: { enabled: false },
    segmentation: { enabled: false },
  };
  const human = new humanLib.Human(config);
  installFileRouter(human.tf);
  await human.load();
  const missing = REQUIRED_MODELS.filter((m) => !human.models.loaded().includes(m));
  if (missing.length > 0) throw new Error(`face models failed to load from ${modelsDir}: ${missing.join(', ')}`);
  await human.warmup({ warmup: 'face' });
  return new HumanDetector(human, face, options);
}
