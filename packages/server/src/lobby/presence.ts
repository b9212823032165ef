import type { ServerMessage } from '@duet/protocol';
import type { Clock } from '../util/clock.js';

export interface PresenceOptions {
  clock: Clock;
  /** Pushed at most this often, however many people come and go meanwhile. */
  intervalMs: number;
  /** The counts shown (across a cluster, its totals) and the most common interests. */
  counts: () => { online: number; waiting: number };
  topInterests: () => Array<{ tag: string; count: number }>;
  /** Who is looking at the counts now. */
  audience: () => string[];
  broadcast: (userIds: string[], message: ServerMessage) => void;
}

/** The online and waiting counts people see: one push per interval after any change, none while quiet. */
export class PresencePush {
  #dirty = false;
  #cancel: (() => void) | undefined;
  #stopped = false;
  readonly #o: PresenceOptions;

  constructor(options: PresenceOptions) {
    this.#o = options;
  }

  changed(): void {
    if (this.#dirty || this.#stopped) return;
    this.#dirty = true;
    this.#cancel = this.#o.clock.after(this.#o.intervalMs, () => {
      this.#dirty = false;
      this.#cancel = undefined;
      const { online, waiting } = this.#o.counts();
      this.#o.broadcast(this.#o.audience(), { type: 'presence', online, waiting, topInterests: this.#o.topInterests() });
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#cancel?.();
  }
}

/** Waits of the last people matched, for an honest estimate of the next one. */
export class RecentWaits {
  readonly #waits: Array<{ at: number; ms: number }> = [];
  static readonly KEEP = 100;

  record(at: number, ms: number): void {
    this.#waits.push({ at, ms });
    if (this.#waits.length > RecentWaits.KEEP) this.#waits.splice(0, this.#waits.length - RecentWaits.KEEP);
  }

  /** The median wait of matches since `since`, when there were at least three; null otherwise. */
  medianSince(since: number): number | null {
    const waits = this.#waits.filter((w) => w.at >= since).map((w) => w.ms);
    if (waits.length < 3) return null;
    const sorted = waits.sort((x, y) => x - y);
    return Math.round(sorted[Math.floor(sorted.length / 2)]!);
  }
}
