import type { Logger } from 'pino';

/**
 * One part of a running server (a domain with what it started: timers, sockets, connections).
 * Shutdown has three phases, each run across every part before the next begins:
 * - `drain`: the server stops serving people (calls end with `server_shutdown`, queues empty);
 *   run in start order, while everything is still up to deliver the news;
 * - `stop`: nothing new comes in (timers cleared, sockets and the HTTP listener closed);
 * - `close`: resources are released (writes flushed, connections and child processes ended).
 * `stop` and `close` run in the reverse of start order: a part stops before the parts it needs.
 */
export interface Part {
  readonly name: string;
  /** Parts that must be started before this one (checked as it is added). */
  readonly needs?: readonly string[];
  drain?(): void | Promise<void>;
  stop?(): void | Promise<void>;
  close?(): void | Promise<void>;
}

/**
 * The server's parts in the order they started, which is their dependency order: each part names
 * what it needs, and a part is refused if what it needs has not started. Shutdown follows from that
 * order, not from a hand-kept list; it runs once, and one part's failure does not stop the others'.
 */
export class Assembly {
  readonly #parts: Part[] = [];
  readonly #log: Logger;
  #shutdown: Promise<void> | undefined;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** Adds a started part; returns `value` so a composition root reads as a list. */
  add<T>(part: Part, value: T): T {
    const started = new Set(this.#parts.map((p) => p.name));
    if (started.has(part.name)) throw new Error(`part "${part.name}" started twice`);
    const missing = (part.needs ?? []).filter((n) => !started.has(n));
    if (missing.length > 0) throw new Error(`part "${part.name}" needs ${missing.map((n) => `"${n}"`).join(', ')}, not started before it`);
    this.#parts.push(part);
    return value;
  }

  get names(): string[] {
    return this.#parts.map((p) => p.name);
  }

  /** Drains, stops and closes every part. Safe to call twice: the second call waits for the first. */
  shutdown(): Promise<void> {
    return (this.#shutdown ??= this.#run());
  }

  async #run(): Promise<void> {
    const reversed = [...this.#parts].reverse();
    for (const [phase, parts] of [
      ['drain', this.#parts],
      ['stop', reversed],
      ['close', reversed],
    ] as const) {
      for (const part of parts) {
        try {
          await part[phase]?.();
        } catch (err) {
          this.#log.error({ err, part: part.name, phase }, 'shutdown step failed');
        }
      }
    }
  }
}
