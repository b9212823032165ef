import { isInCall } from './callActivity.js';
import { createStore } from './store.js';

export interface NetworkStatus {
  /** The server cannot be reached (no network, or a network that goes nowhere). */
  offline: boolean;
  /** The server has answered this page at least once: the app is running, not an empty shell. */
  reached: boolean;
  /** The browser itself says it has no network (else the network is up but the server does not answer). */
  noNetwork: boolean;
  /** A check is under way. */
  checking: boolean;
}

export const networkStatus = createStore<NetworkStatus>({ offline: false, reached: false, noNetwork: false, checking: false });

const patch = (p: Partial<NetworkStatus>) => networkStatus.set({ ...networkStatus.get(), ...p });

/** Retries while offline, in case the browser never says `online` (a network that is up but goes nowhere). */
const RETRY_MS = [5_000, 10_000, 20_000, 30_000];

export interface NetworkOptions {
  /** One request that any answer from the server satisfies (the health check by default). */
  probe?: () => Promise<void>;
  /** What to do when the server is back after the app could never reach it (reload by default). */
  restart?: () => void;
}

let retryTimer: ReturnType<typeof setTimeout> | undefined;
let attempt = 0;
let started = false;

const defaults: Required<NetworkOptions> = {
  probe: async () => {
    await fetch('/healthz', { cache: 'no-store' });
  },
  restart: () => window.location.reload(),
};
let options = defaults;

/**
 * Follows whether the server can be reached: once at start, on the browser's `online` and
 * `offline`, and every few seconds while offline. When the shell opened from the cache without a
 * network, the app could not start; once the server answers again the page reloads (never during
 * a call). A network lost later only shows a notice: the SDK reconnects by itself.
 */
export function watchNetwork(custom: NetworkOptions = {}): void {
  if (started) return;
  started = true;
  options = { ...defaults, ...custom };
  if (!navigator.onLine) patch({ offline: true, noNetwork: true });
  window.addEventListener('offline', () => {
    patch({ offline: true, noNetwork: true });
    schedule();
  });
  window.addEventListener('online', () => void check());
  void check();
}

/** Asks the server now (the Try again button, the `online` event). */
export async function check(): Promise<boolean> {
  clearTimeout(retryTimer);
  patch({ checking: true });
  const ok = await options.probe().then(
    () => true,
    () => false,
  );
  const { offline, reached } = networkStatus.get();
  patch({ checking: false, offline: !ok, reached: reached || ok, noNetwork: !navigator.onLine });
  if (ok) {
    attempt = 0;
    // The app started without a server (its connection failed): start it again now.
    if (offline && !reached && !isInCall()) options.restart();
  } else schedule();
  return ok;
}

function schedule(): void {
  clearTimeout(retryTimer);
  retryTimer = setTimeout(() => void check(), RETRY_MS[Math.min(attempt++, RETRY_MS.length - 1)]);
}
