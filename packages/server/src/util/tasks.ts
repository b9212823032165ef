import type { Logger } from 'pino';

/**
 * Background writes (call records, blocks, reports) that must not hold up the signaling path
 * but must all finish before the database closes at shutdown.
 */
export class PendingWrites {
  readonly #pending = new Set<Promise<unknown>>();
  readonly #hurry = new Set<() => void>();
  readonly #log: Logger;
  constructor(log: Logger) {
    this.#log = log;
  }

  track(what: string, work: Promise<unknown>): void {
    const p = work.catch((err: unknown) => this.#log.error({ err, what }, 'background write failed'));
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
  }

  get size(): number {
    return this.#pending.size;
  }

  /** `start` begins writes that would otherwise wait (a batch's window) whenever everything is flushed. */
  beforeFlush(start: () => void): void {
    this.#hurry.add(start);
  }

  async flush(): Promise<void> {
    do {
      for (const start of this.#hurry) start();
      await Promise.all([...this.#pending]);
    } while (this.#pending.size > 0);
  }
}
