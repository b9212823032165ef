import { TypedEmitter } from './emitter.js';

/** The parts of the Screen Wake Lock API used here (injectable for tests). */
export interface WakeLockApi {
  request(type: 'screen'): Promise<WakeLockSentinelLike>;
}
export interface WakeLockSentinelLike {
  readonly released: boolean;
  release(): Promise<void>;
  addEventListener(type: 'release', listener: () => void): void;
}
/** The page's visibility, as `document` tells it. */
export interface VisibilitySource {
  readonly visibilityState: DocumentVisibilityState;
  addEventListener(type: 'visibilitychange', listener: () => void): void;
  removeEventListener(type: 'visibilitychange', listener: () => void): void;
}

export interface WakeLockEvents extends Record<string, unknown> {
  /** The screen is kept on (true) or may sleep again (false). */
  change: { held: boolean };
}

export interface ScreenWakeLockOptions {
  wakeLock?: WakeLockApi | null;
  document?: VisibilitySource | null;
}

/**
 * Keeps the screen on while wanted (a call): the browser drops the lock whenever the page is
 * hidden, so it is asked for again each time the page is shown. Where the API is missing, or the
 * browser refuses (battery saver, no user activation on some browsers), it simply is not held:
 * `held` says so and nothing throws.
 */
export class ScreenWakeLock extends TypedEmitter<WakeLockEvents> {
  readonly #api: WakeLockApi | null;
  readonly #doc: VisibilitySource | null;
  #wanted = false;
  #sentinel: WakeLockSentinelLike | null = null;
  #requesting: Promise<void> | null = null;
  #closed = false;
  readonly #onVisibility = () => {
    if (this.#doc?.visibilityState === 'visible') void this.#acquire();
  };

  constructor(options: ScreenWakeLockOptions = {}) {
    super();
    const nav = typeof navigator === 'undefined' ? undefined : (navigator as Navigator & { wakeLock?: WakeLockApi });
    this.#api = options.wakeLock === undefined ? (nav?.wakeLock ?? null) : options.wakeLock;
    this.#doc = options.document === undefined ? (typeof document === 'undefined' ? null : document) : options.document;
    this.#doc?.addEventListener('visibilitychange', this.#onVisibility);
  }

  /** Whether this browser can keep the screen on at all. */
  get supported(): boolean {
    return this.#api !== null;
  }
  /** Whether the screen is being kept on right now. */
  get held(): boolean {
    return this.#sentinel !== null && !this.#sentinel.released;
  }
  get wanted(): boolean {
    return this.#wanted;
  }

  /** Keep the screen on (true) until told otherwise (false). Idempotent. */
  async hold(wanted: boolean): Promise<void> {
    if (this.#closed) return;
    this.#wanted = wanted;
    if (wanted) return this.#acquire();
    const sentinel = this.#sentinel;
    this.#sentinel = null;
    if (sentinel && !sentinel.released) {
      await sentinel.release().catch(() => undefined);
      this.emit('change', { held: false });
    }
  }

  close(): void {
    void this.hold(false);
    this.#closed = true;
    this.#doc?.removeEventListener('visibilitychange', this.#onVisibility);
  }

  async #acquire(): Promise<void> {
    if (!this.#api || !this.#wanted || this.held || this.#closed) return;
    // Only a visible page may hold the lock; visibilitychange asks again.
    if (this.#doc && this.#doc.visibilityState !== 'visible') return;
    if (this.#requesting) return this.#requesting;
    this.#requesting = (async () => {
      try {
        const sentinel = await this.#api!.request('screen');
        if (!this.#wanted || this.#closed) {
          await sentinel.release().catch(() => undefined);
          return;
        }
        this.#sentinel = sentinel;
        sentinel.addEventListener('release', () => {
          if (this.#sentinel !== sentinel) return;
          this.#sentinel = null;
          this.emit('change', { held: false });
        });
        this.emit('change', { held: true });
      } catch {
        // Refused (page hidden meanwhile, battery saver, policy): not held; the next show asks again.
      } finally {
        this.#requesting = null;
      }
    })();
    return this.#requesting;
  }
}
