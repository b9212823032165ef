import { describe, expect, it } from 'vitest';
import { cacheable, routeOf, type RequestInfo } from './swPolicy.js';

const ORIGIN = 'https://duet.example';
const shell = new Set(['/', '/assets/main-abc.js', '/assets/main-abc.css', '/icons/icon-192.png', '/manifest.webmanifest']);
const get = (over: Partial<RequestInfo> = {}): RequestInfo => ({
  method: 'GET',
  mode: 'cors',
  destination: 'script',
  range: false,
  ...over,
});
const route = (path: string, over: Partial<RequestInfo> = {}) => routeOf(new URL(path, ORIGIN), ORIGIN, get(over), shell);

describe('service worker policy', () => {
  it('caches the shell and never the API, signaling, models, media or the console', () => {
    for (const p of ['/', '/assets/main-abc.js', '/assets/x.css', '/icons/icon-512.png', '/manifest.webmanifest', '/assets/es-1.js'])
      expect(cacheable(p), p).toBe(true);
    for (const p of [
      '/api/session',
      '/api',
      '/ws',
      '/models/face.json',
      '/admin',
      '/admin.html',
      '/admin/calls',
      '/healthz',
      '/metrics',
      '/assets/clip.webm',
      '/assets/tfjs-backend-wasm-x.wasm',
      '/assets/weights.bin',
    ])
      expect(cacheable(p), p).toBe(false);
  });

  it('answers page loads network first, shell files from the cache, everything else not at all', () => {
    expect(route('/', { mode: 'navigate', destination: 'document' })).toBe('page');
    expect(route('/some/route', { mode: 'navigate', destination: 'document' })).toBe('page');
    expect(route('/assets/main-abc.js')).toBe('shell');
    expect(route('/icons/icon-192.png', { destination: 'image' })).toBe('shell');
    // Not in this build's shell (a lazy chunk, the face detector): the network.
    expect(route('/assets/human.esm-1.js')).toBe('network');
    expect(route('/assets/main-abc.js?v=2')).toBe('network');
  });

  it('leaves the API, the console, media, other origins and anything but GET to the network', () => {
    expect(route('/api/session', { destination: '' })).toBe('network');
    expect(route('/api/session', { mode: 'navigate', destination: 'document' })).toBe('network');
    expect(route('/admin', { mode: 'navigate', destination: 'document' })).toBe('network');
    expect(route('/ws', { destination: '' })).toBe('network');
    expect(route('/models/x.bin', { destination: '' })).toBe('network');
    expect(route('/assets/main-abc.js', { method: 'POST' })).toBe('network');
    expect(route('/assets/main-abc.js', { range: true })).toBe('network');
    expect(route('/', { destination: 'video' })).toBe('network');
    expect(routeOf(new URL('https://cdn.example/assets/main-abc.js'), ORIGIN, get(), shell)).toBe('network');
  });
});
