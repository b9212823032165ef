/** Why a job was not admitted to the queue. */
export type QueueRefusal = 'person_busy' | 'address_busy' | 'full';

export interface FairQueueOptions {
  /** Jobs (running or waiting) one address may hold. Default 2. */
  perAddress: number;
  /** Jobs the queue holds in all. Default 20. */
  capacity: number;
}

export type Admission<T> = { ok: true; done: Promise<T> } | { ok: false; reason: QueueRefusal; retryAfterMs: number };

interface Job {
  person: string;
  address: string;
  run: () => Promise<unknown>;
  settle: (p: Promise<unknown>) => void;
}

/**
 * Runs one job at a time, taking addresses in turn: each address has its own FIFO and the next job
 * comes from the next address with work, so one address with many jobs waiting delays another only
 * by the job already running. A person holds at most one job, an address `perAddress`: nobody can fill the
 * queue alone. No socket or HTTP; the route maps refusals to 429/503.
 */
export class FairQueue {
  readonly #o: FairQueueOptions;
  /** Addresses with waiting jobs, in turn order (Map keeps insertion order). */
  readonly #waiting = new Map<string, Job[]>();
  readonly #people = new Set<string>();
  readonly #perAddress = new Map<string, number>();
  #size = 0;
  #running = false;
  /** Recent job durations, for the retry-after estimate. */
  #avgMs = 3000;

  constructor(options: Partial<FairQueueOptions> = {}) {
    this.#o = Object.freeze({ perAddress: 2, capacity: 20, ...options });
  }

  /** Jobs running or waiting. */
  get size(): number {
    return this.#size;
  }

  /** Why `enter` would refuse this person and address now, or undefined. */
  check(person: string, address: string): { reason: QueueRefusal; retryAfterMs: number } | undefined {
    const wait = Math.round(Math.max(1, this.#size) * this.#avgMs);
    if (this.#people.has(person)) return { reason: 'person_busy', retryAfterMs: wait };
    if ((this.#perAddress.get(address) ?? 0) >= this.#o.perAddress) return { reason: 'address_busy', retryAfterMs: wait };
    if (this.#size >= this.#o.capacity) return { reason: 'full', retryAfterMs: Math.max(wait, 60_000) };
    return undefined;
  }

  enter<T>(person: string, address: string, run: () => Promise<T>): Admission<T> {
    const refused = this.check(person, address);
    if (refused) return { ok: false, ...refused };
    this.#people.add(person);
    this.#perAddress.set(address, (this.#perAddress.get(address) ?? 0) + 1);
    this.#size += 1;
    const done = new Promise<T>((resolve, reject) => {
      const job: Job = { person, address, run, settle: (p) => (p as Promise<T>).then(resolve, reject) };
      const list = this.#waiting.get(address);
      if (list) list.push(job);
      else this.#waiting.set(address, [job]);
    });
    this.#pump();
    return { ok: true, done };
  }

  /** The first address in turn gives its oldest job, and leaves the turn order while it runs. */
  #next(): { job: Job; rest: Job[] } | undefined {
    const first = this.#waiting.entries().next();
    if (first.done) return undefined;
    const [address, list] = first.value;
    this.#waiting.delete(address);
    return { job: list.shift()!, rest: list };
  }

  /**
   * Back in the turn order after its job ran, behind every address that came meanwhile (jobs the
   * address added meanwhile go after its older ones).
   */
  #requeue(address: string, rest: Job[]): void {
    const added = this.#waiting.get(address) ?? [];
    this.#waiting.delete(address);
    if (rest.length + added.length > 0) this.#waiting.set(address, [...rest, ...added]);
  }

  #pump(): void {
    if (this.#running) return;
    const next = this.#next();
    if (!next) return;
    const { job, rest } = next;
    this.#running = true;
    const started = performance.now();
    const result = Promise.resolve().then(job.run);
    job.settle(result);
    void result
      .catch(() => undefined)
      .then(() => {
        this.#avgMs = 0.8 * this.#avgMs + 0.2 * (performance.now() - started);
        this.#people.delete(job.person);
        const n = (this.#perAddress.get(job.address) ?? 1) - 1;
        if (n > 0) this.#perAddress.set(job.address, n);
        else this.#perAddress.delete(job.address);
        this.#size -= 1;
        this.#running = false;
        this.#requeue(job.address, rest);
        this.#pump();
      });
  }
}
