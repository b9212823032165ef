import { parentPort, workerData } from 'node:worker_threads';
import { createDetector, type DetectorOptions } from './detector.js';
import { ImageDecodeError } from './image.js';

/**
 * The face detector in a worker thread (see workerDetector.ts): each frame takes a few hundred
 * milliseconds of CPU, which must not stall the signaling of every call on the node.
 */
const port = parentPort;
if (!port) throw new Error('detectorWorker.ts runs as a worker thread');

const ready = createDetector(workerData as DetectorOptions);
ready.then(
  () => port.postMessage({ type: 'ready' }),
  (err: unknown) => port.postMessage({ type: 'failed', message: err instanceof Error ? err.message : String(err) }),
);

port.on('message', (m: { id: number; bytes: Uint8Array; screen?: boolean }) => {
  ready
    .then((detector) => (m.screen ? detector.screen(m.bytes) : detector.analyze(m.bytes)))
    .then(
      (analysis) => port.postMessage({ id: m.id, analysis }),
      (err: unknown) =>
        port.postMessage({
          id: m.id,
          error: err instanceof Error ? err.message : String(err),
          decode: err instanceof ImageDecodeError ? err.reason : null,
        }),
    );
});
