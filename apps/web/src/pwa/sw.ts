/**
 * Duet's service worker (built to /sw.js by the `duet-service-worker` plugin in vite.config.ts,
 * which fills in this build's version and shell). It keeps the app shell so the app opens without
 * a network and says it is offline; it never caches API answers, signaling, models, media or the
 * console (swPolicy.ts). A new version installs and waits until the page asks it to take over
 * (the Update button, never during a call), so one page never runs two versions at once.
 */
import { routeOf } from './swPolicy.js';

// This build's version and shell, written in by the build (vite.config.ts); the app registers the
// worker only in a production build.
declare const __DUET_SW_VERSION__: string;
declare const __DUET_SHELL__: string[];
const VERSION: string = __DUET_SW_VERSION__;
const SHELL: readonly string[] = __DUET_SHELL__;
const CACHE = `duet-shell-${VERSION}`;
const SHELL_SET = new Set(SHELL);

// The DOM library types `self` as a window; these are the few worker types this file uses.
interface ExtendableEvent extends Event {
  waitUntil(p: Promise<unknown>): void;
}
interface FetchEvent extends ExtendableEvent {
  readonly request: Request;
  respondWith(r: Response | Promise<Response>): void;
}
interface WorkerMessageEvent extends ExtendableEvent {
  readonly data: unknown;
  readonly source: { postMessage(message: unknown): void } | null;
}
interface WorkerScope {
  addEventListener(type: 'install' | 'activate', listener: (e: ExtendableEvent) => void): void;
  addEventListener(type: 'fetch', listener: (e: FetchEvent) => void): void;
  addEventListener(type: 'message', listener: (e: WorkerMessageEvent) => void): void;
  skipWaiting(): Promise<void>;
  readonly clients: { claim(): Promise<void> };
  readonly location: Location;
}
const worker = self as unknown as WorkerScope;

worker.addEventListener('install', (event) => {
  // Every shell file fresh from the server (not the HTTP cache), all or nothing: a half cached
  // shell would open a broken app offline.
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL.map((url) => new Request(url, { cache: 'reload' })))));
});

worker.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) if (name.startsWith('duet-shell-') && name !== CACHE) await caches.delete(name);
      // The first version takes the open page at once; later ones only when the page asked (activate below).
      await worker.clients.claim();
    })(),
  );
});

worker.addEventListener('message', (event) => {
  const type = (event.data as { type?: unknown } | null)?.type;
  if (type === 'duet:activate') event.waitUntil(worker.skipWaiting());
  if (type === 'duet:version') event.source?.postMessage({ type: 'duet:version', version: VERSION, shell: SHELL });
});

worker.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  const route = routeOf(
    url,
    worker.location.origin,
    { method: request.method, mode: request.mode, destination: request.destination, range: request.headers.has('range') },
    SHELL_SET,
  );
  if (route === 'network') return;
  event.respondWith(route === 'page' ? page(request) : shellFile(request, url.pathname));
});

/** A page load: the server's page when it answers (a deploy takes effect at once), else the cached shell. */
async function page(request: Request): Promise<Response> {
  try {
    return await fetch(request);
  } catch {
    const cached = await caches.match('/', { cacheName: CACHE });
    return cached ?? Response.error();
  }
}

/** A shell file: this version's copy (hashed names never change), else the network; never stored here. */
async function shellFile(request: Request, pathname: string): Promise<Response> {
  const cached = await caches.match(pathname, { cacheName: CACHE });
  return cached ?? fetch(request);
}
