import type { Backend, FromWorker, Resource, Scores, ToWorker } from './messages.js';

export interface Classification {
  scores: Scores;
  ms: number;
  flagged: boolean;
  doneAt: number;
  jpeg?: Blob;
}

/**
 * The page's handle on the screening worker: one per page, started once, frames classified one at
 * a time (the sampling loop never has two in flight).
 */
export class Classifier {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (c: Classification) => void; reject: (e: Error) => void }>();
  readonly ready: Promise<Backend>;
  /** The files the classifier needed, its own script included, once ready. */
  resources: Resource[] = [];
  #next = 0;

  constructor(backend: Backend | 'auto') {
    this.#worker = new Worker(new URL('./classifier.worker.ts', import.meta.url), { type: 'module', name: 'duet-screening' });
    this.ready = new Promise<Backend>((resolve, reject) => {
      this.#worker.addEventListener('error', (e) => reject(new Error(e.message || 'the screening worker failed to start')));
      this.#worker.addEventListener('message', (e: MessageEvent<FromWorker>) => {
        const m = e.data;
        if (m.type === 'ready') {
          const own = (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).filter((r) =>
            r.name.includes('classifier.worker'),
          );
          this.resources = [
            ...own.map((r) => ({ name: r.name, transferSize: r.transferSize, bodySize: r.decodedBodySize })),
            ...m.resources,
          ];
          resolve(m.backend);
        } else if (m.type === 'failed') reject(new Error(m.message));
        else {
          const p = this.#pending.get(m.id);
          if (!p) return;
          this.#pending.delete(m.id);
          if (m.type === 'error') p.reject(new Error(m.message));
          else p.resolve({ scores: m.scores, ms: m.ms, flagged: m.flagged, doneAt: m.doneAt, ...(m.jpeg ? { jpeg: m.jpeg } : {}) });
        }
      });
    });
    this.#post({ type: 'start', backend });
  }

  classify(bitmap: ImageBitmap, threshold: number): Promise<Classification> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#post({ type: 'classify', id, bitmap, threshold }, [bitmap]);
    });
  }

  #post(m: ToWorker, transfer: Transferable[] = []): void {
    this.#worker.postMessage(m, transfer);
  }
}

let shared: Classifier | undefined;

/** The page's classifier; `?screen-backend=wasm|webgl|cpu` picks a backend (for measurements). */
export function classifier(): Classifier {
  const asked = new URLSearchParams(location.search).get('screen-backend');
  shared ??= new Classifier(asked === 'wasm' || asked === 'webgl' || asked === 'cpu' ? asked : 'auto');
  return shared;
}
