import { ManualClock } from './manualClock.js';

/** What a parent process may say to a server running on simulated time. */
type ClockRequest = { type: 'clock'; to: number };

/**
 * Simulated time for chaos tests of the real server process. With `DUET_CLOCK=ipc` — and only when
 * a parent started the server with an IPC channel — the server's clock stands still until the
 * parent sends `{ type: 'clock', to }`: due timers fire in order, the server finishes its pending
 * writes, and it answers `{ type: 'clock', now }`. Nothing else changes: sockets, storage and the
 * ledger are the real ones. A test can then compute exactly what the meter must bill.
 */
export class IpcClock extends ManualClock {
  #chain: Promise<void> = Promise.resolve();

  /** Starts answering the parent; `settled` waits for the server's pending writes. */
  attach(settled: () => Promise<void>, onError: (err: unknown) => void): void {
    const send = process.send?.bind(process);
    if (!send) throw new Error('DUET_CLOCK=ipc needs a parent process with an IPC channel (it is for tests only).');
    process.on('message', (m: unknown) => {
      const request = m as Partial<ClockRequest> | null;
      if (request?.type !== 'clock' || typeof request.to !== 'number' || !Number.isFinite(request.to)) return;
      const to = request.to;
      this.#chain = this.#chain
        .then(async () => {
          if (to > this.now()) this.advance(to - this.now());
          await settled();
          send({ type: 'clock', now: this.now() });
        })
        .catch(onError);
    });
    // The parent is gone: nobody will move time on again.
    process.on('disconnect', () => process.exit(1));
  }
}
