/**
 * Work that arrives during one turn of the event loop, done together at the end of it: a crowd's
 * writes become one statement or one transaction per turn instead of one commit each (group
 * commit). Each caller still waits for its own item, so nothing is acknowledged before it is
 * stored. A batch that fails fails every item in it; the next batch starts afresh.
 */
export class TurnBatch<T> {
  #pending: Array<{ item: T; resolve: () => void; reject: (err: unknown) => void }> = [];
  readonly #run: (items: T[]) => Promise<void>;
  readonly #max: number;

  /** `run` does a whole batch (at most `max` items); it is never called with an empty one. */
  constructor(run: (items: T[]) => Promise<void>, max = 500) {
    this.#run = run;
    this.#max = max;
  }

  add(item: T): Promise<void> {
    if (this.#pending.length === 0) setImmediate(() => this.#flush());
    return new Promise((resolve, reject) => this.#pending.push({ item, resolve, reject }));
  }

  #flush(): void {
    const pending = this.#pending;
    this.#pending = [];
    for (let i = 0; i < pending.length; i += this.#max) {
      const part = pending.slice(i, i + this.#max);
      this.#run(part.map((p) => p.item)).then(
        () => part.forEach((w) => w.resolve()),
        (err: unknown) => part.forEach((w) => w.reject(err)),
      );
    }
  }
}
