import { isInCall } from './callActivity.js';
import { createStore } from './store.js';

/** The app's service worker, as the page sees it. */
export interface WorkerStatus {
  /** The page is controlled by a worker (its shell opens offline). */
  controlled: boolean;
  /** A new version is installed and waiting for the person's Update. */
  updateReady: boolean;
  /** Update was pressed: the new version is taking over, the page reloads. */
  updating: boolean;
}

export const workerStatus = createStore<WorkerStatus>({ controlled: false, updateReady: false, updating: false });

const patch = (p: Partial<WorkerStatus>) => workerStatus.set({ ...workerStatus.get(), ...p });

/** How often an open page asks the server whether there is a new version (also on every return to the page). */
const UPDATE_CHECK_MS = 30 * 60_000;

let registration: ServiceWorkerRegistration | null = null;

/**
 * Registers /sw.js (production builds only: see main.tsx) and follows its updates. A new version
 * installs in the background and waits; `applyUpdate` lets it take over and reloads the page.
 */
export async function registerServiceWorker(): Promise<void> {
  if (!('serviceWorker' in navigator) || !window.isSecureContext) return;
  const container = navigator.serviceWorker;
  patch({ controlled: container.controller !== null });
  container.addEventListener('controllerchange', () => {
    patch({ controlled: container.controller !== null });
    // Only a takeover the person asked for reloads the page (the first install just claims it).
    if (workerStatus.get().updating) window.location.reload();
  });
  try {
    // updateViaCache 'none': the browser asks the server for sw.js itself, never its HTTP cache.
    registration = await container.register('/sw.js', { scope: '/', updateViaCache: 'none' });
  } catch {
    return; // no worker (private mode, a browser policy): the app works as a plain page
  }
  const reg = registration;
  const watch = (worker: ServiceWorker | null) => {
    if (!worker) return;
    const check = () => {
      // Installed while another version controls the page: an update, waiting.
      if (worker.state === 'installed' && container.controller) patch({ updateReady: true });
    };
    check();
    worker.addEventListener('statechange', check);
  };
  watch(reg.waiting);
  reg.addEventListener('updatefound', () => watch(reg.installing));
  const checkForUpdate = () => void reg.update().catch(() => undefined);
  setInterval(checkForUpdate, UPDATE_CHECK_MS);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') checkForUpdate();
  });
}

/**
 * Lets the waiting version take over and reloads the page. Refused (false) during a call: the
 * prompt is not shown then, and a reload would end the call.
 */
export function applyUpdate(): boolean {
  const waiting = registration?.waiting;
  if (!waiting || isInCall()) return false;
  patch({ updating: true });
  waiting.postMessage({ type: 'duet:activate' });
  return true;
}
