import { Worker } from 'node:worker_threads';
import type { Detector, DetectorOptions, FrameAnalysis, FrameScreen } from './detector.js';
import { ImageDecodeError, type ImageErrorReason, type RgbaImage } from './image.js';

type Reply = { id: number; analysis: FrameAnalysis | FrameScreen } | { id: number; error: string; decode: ImageErrorReason | null };

/**
 * The detector, run in a worker thread so that judging an attempt (a few seconds of CPU) never
 * blocks the event loop that carries everyone's signaling. Same interface as `createDetector`.
 */
export async function createWorkerDetector(options: DetectorOptions = {}): Promise<Detector> {
  // Built: detectorWorker.js beside this file. From the TypeScript sources (tests): through tsx's loader.
  const fromSources = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSources ? './detectorWorker.ts' : './detectorWorker.js', import.meta.url);
  const worker = fromSources
    ? new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`, {
        eval: true,
        workerData: options,
      })
    : new Worker(entry, { workerData: options });
  const pending = new Map<number, { resolve: (a: never) => void; reject: (e: Error) => void }>();
  let next = 0;
  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (m: { type: string; message?: string }) =>
      m.type === 'ready' ? resolve() : reject(new Error(`face detector failed to load: ${m.message}`)),
    );
  });
  worker.on('message', (m: Reply) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if ('analysis' in m) p.resolve(m.analysis as never);
    else p.reject(m.decode !== null ? new ImageDecodeError(m.decode) : new Error(m.error));
  });
  worker.on('error', (err) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  });
  // After the listeners (adding one refs the channel again): an idle detector never keeps the process alive.
  worker.unref();
  const ask = <T>(bytes: Uint8Array, screen: boolean): Promise<T> => {
    const id = next++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, bytes, screen });
    });
  };
  return {
    analyze: (encoded) => ask<FrameAnalysis>(encoded, false),
    screen: (encoded) => ask<FrameScreen>(encoded, true),
    analyzeImage(_image: RgbaImage): Promise<FrameAnalysis> {
      return Promise.reject(new Error('analyzeImage runs in-process only (createDetector)'));
    },
    close(): void {
      void worker.terminate();
    },
  };
}
