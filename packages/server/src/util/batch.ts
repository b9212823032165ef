import { setImmediate as nextTurn } from 'node:timers/promises';

/** An item and its caller, waiting for its batch. */
type Waiting<T> = { item: T; resolve: () => void; reject: (err: unknown) => void };

/**
 * Work that arrives together, done together: a crowd's writes become one statement or one
 * transaction per turn of the event loop (or per window) instead of one commit each (group commit).
 * Each caller still waits for its own item, so nothing is acknowledged before it is stored. A batch
 * that fails fails every item in it; the next batch starts afresh.
 */
export class TurnBatch<T> {
  #pending: Array<Waiting<T>> = [];
  readonly #run: (items: T[]) => Promise<void>;
  readonly #max: number;
  readonly #windowMs: number;
  #cancel: (() => void) | undefined;

  /**
   * `run` does a whole batch (at most `max` items); it is never called with an empty one. With
   * `windowMs` the batch waits that long after its first item instead of the end of the turn, so
   * that more arrive to be written with it.
   */
  constructor(run: (items: T[]) => Promise<void>, options: { max?: number; windowMs?: number } = {}) {
    this.#run = run;
    this.#max = options.max ?? 500;
    this.#windowMs = options.windowMs ?? 0;
  }

  add(item: T): Promise<void> {
    if (this.#pending.length === 0) this.#cancel = this.#schedule();
    return new Promise((resolve, reject) => this.#pending.push({ item, resolve, reject }));
  }

  /** Runs what is waiting now (at shutdown, say) rather than at the end of its turn or window. */
  flush(): void {
    this.#cancel?.();
    this.#cancel = undefined;
    const pending = this.#pending;
    this.#pending = [];
    if (pending.length > 0) void this.#runInParts(pending);
  }

  /** A batch bigger than `max` is written a part at a time, with a turn of the event loop between parts. */
  async #runInParts(pending: Array<Waiting<T>>): Promise<void> {
    for (let i = 0; i < pending.length; i += this.#max) {
      if (i > 0) await nextTurn();
      const part = pending.slice(i, i + this.#max);
      await this.#run(part.map((p) => p.item)).then(
        () => part.forEach((w) => w.resolve()),
        (err: unknown) => part.forEach((w) => w.reject(err)),
      );
    }
  }

  #schedule(): () => void {
    if (this.#windowMs > 0) {
      const timer = setTimeout(() => this.flush(), this.#windowMs);
      return () => clearTimeout(timer);
    }
    const immediate = setImmediate(() => this.flush());
    return () => clearImmediate(immediate);
  }
}
