/**
 * What the service worker may answer from its cache: the app shell (the page, its code and styles,
 * icons, the manifest) and nothing else. API answers, signaling, models, media and the console
 * always go to the network, so nothing personal, live or large ever sits in the cache.
 * Pure functions: the worker (sw.ts), the build (vite.config.ts) and the tests share them.
 */

/** Paths that are never cached nor answered by the worker, whatever the build lists. */
const NEVER = [/^\/api(\/|$)/, /^\/ws(\/|$)/, /^\/models(\/|$)/, /^\/admin(\/|\.|$)/, /^\/healthz$/, /^\/metrics$/];
/** Media and model files: large, personal or both; never cached. */
const HEAVY = /\.(mp4|webm|m4a|mp3|ogg|oga|wav|mov|wasm|bin|onnx|tflite)$/i;
/** What a shell file may be. */
const SHELL_FILE = /\.(js|css|html|webmanifest|json|svg|png|ico|woff2?|ttf|otf)$/i;

/** Whether a same-origin path may ever be held in the shell cache. */
export function cacheable(pathname: string): boolean {
  if (pathname === '/') return true;
  if (NEVER.some((re) => re.test(pathname)) || HEAVY.test(pathname)) return false;
  return SHELL_FILE.test(pathname);
}

export interface RequestInfo {
  method: string;
  /** `navigate` for a page load. */
  mode: string;
  /** `audio`, `video`, `document`, `script`, … */
  destination: string;
  /** A Range request (media seeking): never from the cache. */
  range: boolean;
}

/**
 * How the worker answers a request:
 * - `page`: a page load of the app (network first; the cached shell when the network is down);
 * - `shell`: a file of the shell (from the cache, the network if missing);
 * - `network`: not the worker's business (the browser fetches as if there were no worker).
 */
export type Route = 'page' | 'shell' | 'network';

export function routeOf(url: URL, origin: string, request: RequestInfo, shell: ReadonlySet<string>): Route {
  if (request.method !== 'GET' || url.origin !== origin || request.range) return 'network';
  if (request.destination === 'audio' || request.destination === 'video') return 'network';
  if (NEVER.some((re) => re.test(url.pathname))) return 'network';
  if (request.mode === 'navigate') return 'page';
  return shell.has(url.pathname) && cacheable(url.pathname) && url.search === '' ? 'shell' : 'network';
}
