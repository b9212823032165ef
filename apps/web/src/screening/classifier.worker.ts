/// <reference lib="webworker" />
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { load, type NSFWJS } from 'nsfwjs/core';
import { MobileNetV2Model } from 'nsfwjs/models/mobilenet_v2';
import type { Backend, ToWorker, FromWorker, Scores } from './messages.js';

/**
 * The screening classifier, off the main thread so a call never stutters: nsfwjs's MobileNetV2 on
 * TensorFlow.js. The model's weights are a chunk of this app's own build (served by Duet, cached as
 * an immutable asset), never fetched from elsewhere.
 */
const scope = self as unknown as DedicatedWorkerGlobalScope;
let model: NSFWJS | undefined;
let canvas: OffscreenCanvas | undefined;

const post = (m: FromWorker, transfer: Transferable[] = []) => scope.postMessage(m, transfer);

async function start(preferred: Backend | 'auto'): Promise<Backend> {
  setWasmPaths({
    'tfjs-backend-wasm.wasm': wasmPlain,
    'tfjs-backend-wasm-simd.wasm': wasmSimd,
    'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
  });
  // WebGL where the GPU is real; WASM (SIMD) otherwise (a software WebGL took 14 s to compile its
  // shaders here, WASM 2.6 s to load); the plain CPU backend as a last resort.
  const order: Backend[] = preferred === 'auto' ? (realGpu() ? ['webgl', 'wasm', 'cpu'] : ['wasm', 'cpu']) : [preferred, 'wasm', 'cpu'];
  for (const b of order) {
    try {
      if (await tf.setBackend(b)) {
        await tf.ready();
        break;
      }
    } catch {
      // try the next one
    }
  }
  tf.enableProdMode();
  model = await load('MobileNetV2', { modelDefinitions: [MobileNetV2Model] });
  // The first inference compiles shaders / warms the kernels: done here, not on the first frame.
  const warm = new ImageData(224, 224);
  await model.classify(warm);
  return tf.getBackend() as Backend;
}

/** Whether WebGL runs on a GPU rather than a software rasteriser (SwiftShader, llvmpipe). */
function realGpu(): boolean {
  try {
    const gl = new OffscreenCanvas(1, 1).getContext('webgl2') ?? new OffscreenCanvas(1, 1).getContext('webgl');
    if (!gl) return false;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
    return !/swiftshader|llvmpipe|software|basic render/i.test(renderer);
  } catch {
    return false;
  }
}

function pixels(bitmap: ImageBitmap): ImageData {
  canvas ??= new OffscreenCanvas(bitmap.width, bitmap.height);
  if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
  }
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(bitmap, 0, 0);
  return ctx.getImageData(0, 0, bitmap.width, bitmap.height);
}

scope.onmessage = (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  if (m.type === 'start') {
    start(m.backend).then(
      (backend) =>
        post({
          type: 'ready',
          backend,
          resources: (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).map((r) => ({
            name: r.name,
            transferSize: r.transferSize,
            bodySize: r.decodedBodySize,
          })),
        }),
      (err: unknown) => post({ type: 'failed', message: err instanceof Error ? err.message : String(err) }),
    );
    return;
  }
  void (async () => {
    const bitmap = m.bitmap;
    try {
      if (!model) throw new Error('classifier not started');
      const image = pixels(bitmap);
      const started = performance.now();
      const predictions = await model.classify(image, 5);
      const ms = performance.now() - started;
      const scores = {
        Drawing: 0,
        Hentai: 0,
        Neutral: 0,
        Porn: 0,
        Sexy: 0,
        ...Object.fromEntries(predictions.map((p) => [p.className, p.probability])),
      } as Scores;
      const explicit = (scores.Porn ?? 0) + (scores.Hentai ?? 0);
      const flagged = explicit >= m.threshold;
      // Only a flagged frame is ever encoded: it is the evidence, and the only frame that leaves the browser.
      const jpeg = flagged ? await canvas!.convertToBlob({ type: 'image/jpeg', quality: 0.8 }) : undefined;
      post({
        type: 'result',
        id: m.id,
        scores,
        ms,
        flagged,
        doneAt: performance.timeOrigin + performance.now(),
        ...(jpeg ? { jpeg } : {}),
      });
    } catch (err) {
      post({ type: 'error', id: m.id, message: err instanceof Error ? err.message : String(err) });
    } finally {
      bitmap.close();
    }
  })();
};
