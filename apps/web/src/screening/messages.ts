/** What the page and the screening worker say to each other. */
export type Backend = 'webgl' | 'wasm' | 'cpu';

/** One file fetched; `transferSize` 0 when it came from the browser's cache. */
export interface Resource {
  name: string;
  transferSize: number;
  bodySize: number;
}

/** nsfwjs's five classes, each 0..1. */
export type Scores = Record<'Drawing' | 'Hentai' | 'Neutral' | 'Porn' | 'Sexy', number>;

export type ToWorker =
  | { type: 'start'; backend: Backend | 'auto' }
  /** One frame; `threshold`: the explicit score (Porn + Hentai) that flags it. */
  | { type: 'classify'; id: number; bitmap: ImageBitmap; threshold: number };

export type FromWorker =
  /** `resources`: what the worker fetched (model weights, WebAssembly), for the bytes-per-viewer figure. */
  | { type: 'ready'; backend: Backend; resources: Resource[] }
  | { type: 'failed'; message: string }
  | {
      type: 'result';
      id: number;
      scores: Scores;
      /** Inference time in the worker. */
      ms: number;
      flagged: boolean;
      /** When the worker finished, on the shared clock (timeOrigin + now). */
      doneAt: number;
      /** The flagged frame as JPEG: only when flagged. */
      jpeg?: Blob;
    }
  | { type: 'error'; id: number; message: string };
