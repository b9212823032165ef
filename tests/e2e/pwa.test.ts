/**
 * The installable app, in real Chromium against the real server: the manifest and its icons, the
 * service worker (registers, controls the page, keeps only the shell), the shell opening offline
 * with the offline screen and starting by itself when the network is back, the update prompt when
 * a new version is deployed, and the device SDK (camera switch, wake lock, hidden page) in a call.
 *
 * The server serves a copy of the build (WEB_DIR), so a deploy can be simulated by changing that
 * copy's sw.js, exactly as a new build changes it (its version), without touching apps/web/dist.
 * The device tests load the SDK in a page of that copy: same origin and CSP as the app.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { build } from 'vite';
import { beforeAll, describe, expect, it } from 'vitest';
import { runAxe, severe } from './axe.js';
import { getReady, PHONE, screenshot, screenshotBothSizes, useDuet, waitForState, type Person, type RunningServer } from './harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIST = path.join(ROOT, 'apps/web/dist');

// Three fake cameras, so a camera switch has somewhere to go. Chromium's fake cameras do not say
// which way they look, and its second one (fake_device_1) delivers a depth format WebRTC cannot
// send (measured: about one frame after replaceTrack, the first and third send ~20 fps).
const duet = useDuet({ server: false, browserArgs: ['--use-fake-device-for-media-stream=device-count=3'] });
let server: RunningServer;
let webDir: string;

beforeAll(async () => {
  webDir = duet.tempDir();
  fs.cpSync(DIST, webDir, { recursive: true });
  // A page beside the app that loads only the SDK (the device tests below); the server lists its
  // files when it starts, so they are written first.
  fs.writeFileSync(path.join(webDir, 'sdk-test.js'), await bundleSdk());
  fs.writeFileSync(
    path.join(webDir, 'sdk-test.html'),
    '<!doctype html><title>SDK</title><link rel="icon" href="/icon.svg"><script src="/sdk-test.js"></script>',
  );
  server = await duet.serve({ WEB_DIR: webDir });
});

/** Network failures the browser itself logs while offline: expected here, anything else is not. */
const unexpected = (p: Person) => p.errors.filter((e) => !/ERR_INTERNET_DISCONNECTED|Failed to fetch|ERR_FAILED|net::/.test(e));

function pngSize(buffer: Buffer): { width: number; height: number } {
  expect(buffer.subarray(1, 4).toString('latin1')).toBe('PNG');
  return { width: buffer.readUInt32BE(16), height: buffer.readUInt32BE(20) };
}

/** Every URL path held in the page's caches. */
function cachedPaths(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const out: string[] = [];
    for (const name of await caches.keys()) for (const r of await (await caches.open(name)).keys()) out.push(new URL(r.url).pathname);
    return out;
  });
}

/** The controlling worker's version, as it says itself. */
function workerVersion(page: Page): Promise<string> {
  return page.evaluate(
    () =>
      new Promise<string>((resolve, reject) => {
        const worker = navigator.serviceWorker.controller;
        if (!worker) return reject(new Error('no controlling service worker'));
        navigator.serviceWorker.addEventListener('message', (e: MessageEvent<{ type?: string; version?: string }>) => {
          if (e.data?.type === 'duet:version') resolve(String(e.data.version));
        });
        worker.postMessage({ type: 'duet:version' });
      }),
  );
}

describe('installable app', () => {
  let person: Person;

  it('links a valid manifest whose icons are there at their sizes, a maskable one among them', async () => {
    person = await duet.person({ url: server.url, ready: false });
    const { page } = person;
    const href = await page.locator('link[rel="manifest"]').getAttribute('href');
    expect(href).toBe('/manifest.webmanifest');
    const res = await fetch(new URL(href!, server.url));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/manifest\+json/);
    const manifest = (await res.json()) as {
      name: string;
      short_name: string;
      start_url: string;
      scope: string;
      display: string;
      theme_color: string;
      background_color: string;
      icons: Array<{ src: string; sizes: string; type: string; purpose?: string }>;
    };
    expect(manifest).toMatchObject({ short_name: 'Duet', start_url: '/', scope: '/', display: 'standalone' });
    expect(manifest.name).toMatch(/Duet/);
    // The app's own colours (base.css --bg), also the page's theme-color.
    expect(manifest.theme_color).toBe('#12121a');
    expect(manifest.background_color).toBe('#12121a');
    expect(await page.locator('meta[name="theme-color"]').getAttribute('content')).toBe('#12121a');
    const pngs = manifest.icons.filter((i) => i.type === 'image/png');
    expect(pngs.map((i) => i.sizes)).toEqual(expect.arrayContaining(['192x192', '512x512']));
    expect(pngs.some((i) => i.purpose?.split(' ').includes('maskable'))).toBe(true);
    for (const icon of manifest.icons) {
      const r = await fetch(new URL(icon.src, server.url));
      expect(r.status, icon.src).toBe(200);
      expect(r.headers.get('content-type'), icon.src).toContain(icon.type);
      const body = Buffer.from(await r.arrayBuffer());
      if (icon.type !== 'image/png') continue;
      const { width, height } = pngSize(body);
      expect(`${width}x${height}`, icon.src).toBe(icon.sizes);
    }
    const touch = await page.locator('link[rel="apple-touch-icon"]').getAttribute('href');
    expect(pngSize(Buffer.from(await (await fetch(new URL(touch!, server.url))).arrayBuffer()))).toEqual({ width: 180, height: 180 });
  });

  it('registers a service worker that controls the page after a reload and holds only the shell', async () => {
    const { page } = person;
    // Installed (the whole shell cached) and activated.
    const state = await page.evaluate(async () => {
      const worker = (await navigator.serviceWorker.ready).active!;
      if (worker.state !== 'activated')
        await new Promise((r) => worker.addEventListener('statechange', () => worker.state === 'activated' && r(null)));
      return worker.state;
    });
    expect(state).toBe('activated');
    await page.reload();
    await page.getByTestId('accept-rules').waitFor();
    expect(await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL)).toBe(`${server.url}/sw.js`);
    // The app used the API on its way up (session, billing, verification): none of it is cached.
    const cached = await cachedPaths(page);
    expect(cached).toContain('/');
    expect(cached.some((p) => /^\/assets\/main-.*\.js$/.test(p))).toBe(true);
    expect(cached.some((p) => /^\/assets\/main-.*\.css$/.test(p))).toBe(true);
    expect(cached).toContain('/icons/icon-192.png');
    const forbidden = cached.filter((p) => /^\/(api|ws|models|admin)(\/|\.|$)|\.(wasm|bin|webm|mp4|ogg|mp3)$/.test(p));
    expect(forbidden).toEqual([]);
    // Neither the console's code nor the face detector nor the screening models ride along.
    expect(cached.filter((p) => /admin|human|classifier|group1-shard|tfjs/.test(p))).toEqual([]);
    console.log(`shell cache: ${cached.length} files`);
  });

  it('offline: a reload opens the shell from the cache and says so; the API is never answered from the cache', async () => {
    const { page, context } = person;
    // The server's page now carries a mark the cached shell does not: which one opened tells where it came from.
    const index = path.join(webDir, 'index.html');
    fs.writeFileSync(index, fs.readFileSync(index, 'utf8').replace('<head>', '<head><meta name="served-by" content="network">'));
    await context.setOffline(true);
    await page.reload();
    const screen = page.locator('[data-testid="offline"][data-mode="screen"]');
    await screen.waitFor({ timeout: 10_000 });
    expect(await screen.textContent()).toContain('You’re offline');
    expect(await page.locator('meta[name="served-by"]').count(), 'the page came from the cache').toBe(0);
    // The app itself is there behind it (from the cache), inert while offline.
    expect(await page.getByTestId('call-status').count()).toBe(1);
    expect(await page.evaluate(() => document.getElementById('root')?.inert)).toBe(true);
    const api = await page.evaluate(async () => {
      const results: string[] = [];
      for (const [url, init] of [
        ['/api/billing', {}],
        ['/api/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }],
        ['/healthz', {}],
      ] as const)
        results.push(
          await fetch(url, init).then(
            (r) => `answered ${r.status}`,
            () => 'failed',
          ),
        );
      return results;
    });
    expect(api).toEqual(['failed', 'failed', 'failed']);
    await screenshotBothSizes(page, (size) => `pwa-offline-${size}`);
    expect(severe(await runAxe(page)), 'axe on the offline screen').toEqual([]);

    // The network is back: the page starts by itself (no button to find).
    const reloaded = page.waitForEvent('load', { timeout: 20_000 });
    await context.setOffline(false);
    await reloaded;
    await page.getByTestId('accept-rules').waitFor({ timeout: 15_000 });
    expect(await page.locator('[data-testid="offline"]').count()).toBe(0);
    expect(await page.evaluate(() => document.getElementById('root')?.inert)).toBe(false);
  });

  it('a network lost while the app runs is a banner, not a reload', async () => {
    const { page, context } = person;
    await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));
    await context.setOffline(true);
    const banner = page.locator('[data-testid="offline"][data-mode="banner"]');
    await banner.waitFor({ timeout: 10_000 });
    await screenshotBothSizes(page, (size) => `pwa-offline-banner-${size}`);
    expect(severe(await runAxe(page)), 'axe with the banner').toEqual([]);
    await context.setOffline(false);
    await banner.waitFor({ state: 'detached', timeout: 40_000 });
    expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
    expect(unexpected(person)).toEqual([]);
  });

  it('a new version waits, the page offers Update (not during a call), and Update brings it in with a reload', async () => {
    const { page } = person;
    const before = await workerVersion(page);
    // A deploy: the new build's worker differs in its version (and so in its cache's name).
    const file = path.join(webDir, 'sw.js');
    const next = `${before.slice(0, 6)}e2e2e2`;
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replaceAll(JSON.stringify(before), JSON.stringify(next)));
    // Waiting to be matched counts as in a call: the new version installs and waits, unannounced.
    await getReady(page);
    await page.getByTestId('start').click();
    await waitForState(page, 'waiting');
    await page.evaluate(async () => {
      const reg = (await navigator.serviceWorker.getRegistration())!;
      await reg.update();
      const installing = reg.installing;
      if (installing && !reg.waiting) await new Promise((r) => installing.addEventListener('statechange', () => reg.waiting && r(null)));
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    });
    const prompt = page.getByTestId('update-ready');
    expect(await prompt.count(), 'no update prompt while waiting for a call').toBe(0);
    // Out of the call: now it is offered.
    await page.getByTestId('stop').click();
    await prompt.waitFor({ timeout: 15_000 });
    expect(await prompt.textContent()).toContain('A new version of Duet is ready.');
    // It waits: the old version still controls the page until the person says.
    expect(await workerVersion(page)).toBe(before);
    await screenshotBothSizes(page, (size) => `pwa-update-${size}`);
    expect(severe(await runAxe(page)), 'axe with the update prompt').toEqual([]);

    const reloaded = page.waitForEvent('load', { timeout: 20_000 });
    await page.getByTestId('update-apply').click();
    await reloaded;
    await page.getByTestId('start').and(page.locator(':enabled')).waitFor({ timeout: 15_000 });
    expect(await workerVersion(page)).toBe(next);
    expect(await page.evaluate(() => caches.keys())).toEqual([`duet-shell-${next}`]);
    expect(await page.getByTestId('update-ready').count()).toBe(0);
    expect(unexpected(person)).toEqual([]);
    await person.close();
  });

  it('offline in Arabic: the shell and its Arabic messages come from the cache, right to left', async () => {
    const ar = await duet.person({ url: server.url, ready: false, locale: 'ar', viewport: PHONE });
    const { page, context } = ar;
    await page.evaluate(async () => {
      const worker = (await navigator.serviceWorker.ready).active!;
      if (worker.state !== 'activated')
        await new Promise((r) => worker.addEventListener('statechange', () => worker.state === 'activated' && r(null)));
    });
    await context.setOffline(true);
    await page.reload();
    const screen = page.locator('[data-testid="offline"][data-mode="screen"]');
    await expect.poll(() => screen.textContent(), { timeout: 10_000 }).toContain('أنت غير متصل بالإنترنت');
    expect(await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir])).toEqual(['ar', 'rtl']);
    expect(await page.evaluate(() => (window as unknown as { __duetMissingMessages?: string[] }).__duetMissingMessages ?? [])).toEqual([]);
    await screenshot(page, 'pwa-offline-ar-phone');
    expect(severe(await runAxe(page)), 'axe on the Arabic offline screen').toEqual([]);
    await context.setOffline(false);
    await ar.close();
  });
});

// ---------------------------------------------------------------------------------------------
// The device SDK in a real page: two DuetClients in a call, one switching cameras.

/** The SDK (packages/client) as one script defining `DuetSdk`, bundled from source as the app bundles it. */
async function bundleSdk(): Promise<string> {
  const out = (await build({
    configFile: false,
    logLevel: 'warn',
    resolve: { alias: { '@duet/protocol': path.join(ROOT, 'packages/protocol/src/index.ts') } },
    build: {
      write: false,
      minify: false,
      lib: { entry: path.join(ROOT, 'packages/client/src/index.ts'), formats: ['iife'], name: 'DuetSdk', fileName: 'sdk' },
    },
  })) as Array<{ output: Array<{ type: string; code?: string }> }> | { output: Array<{ type: string; code?: string }> };
  const result = Array.isArray(out) ? out[0]! : out;
  return result.output.find((o) => o.type === 'chunk')!.code!;
}

/** Counts the wake lock requests the SDK makes (the real API underneath). */
const countWakeLocks = () => {
  const w = window as unknown as { __wakeLocks: number };
  w.__wakeLocks = 0;
  const api = (navigator as Partial<Navigator>).wakeLock;
  if (!api) return;
  const request = api.request.bind(api);
  api.request = (type?: 'screen') => {
    w.__wakeLocks++;
    return request(type);
  };
};

/**
 * A page the server serves from its web folder, as it serves the app (same origin, same CSP), that
 * loads only the SDK; in it a client connected, rules accepted, camera open: `window.client`.
 */
async function sdkPage(): Promise<Person> {
  // The browser's own permission defaults (as a person's browser has them; Chromium grants the wake lock).
  const person = await duet.person({
    url: server.url,
    path: '/sdk-test.html',
    ready: false,
    initScript: countWakeLocks,
    permissions: null,
  });
  await person.page.waitForFunction(() => 'DuetSdk' in window);
  await person.page.evaluate(async () => {
    const { DuetClient } = (window as unknown as { DuetSdk: { DuetClient: new () => unknown } }).DuetSdk;
    const c = new DuetClient() as {
      connect(): Promise<void>;
      acceptRules(): Promise<void>;
      openMedia(): Promise<MediaStream>;
    };
    (window as unknown as { client: unknown }).client = c;
    await c.connect();
    await c.acceptRules();
    // The preview, as the app shows it (the camera switch must keep it showing the camera in use).
    const preview = document.createElement('video');
    preview.muted = true;
    preview.autoplay = true;
    preview.playsInline = true;
    preview.srcObject = await c.openMedia();
    document.body.append(preview);
  });
  return person;
}

interface SdkClient {
  state: string;
  localStream: MediaStream;
  peerConnection: RTCPeerConnection;
  quality: { partnerVideoHeld: boolean; videoHeld: boolean } | null;
  start(o: object): void;
  stop(): void;
  devices: {
    switchCamera(to?: { deviceId: string }): Promise<{ deviceId: string | null }>;
    canSwitchCamera(): Promise<boolean>;
    wakeLockHeld: boolean;
    videoPausedByHiding: boolean;
  };
}

function framesDecoded(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const c = (window as unknown as { client: SdkClient }).client;
    let frames = 0;
    (await c.peerConnection.getStats()).forEach((s: { type: string; kind?: string; framesDecoded?: number }) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded ?? 0;
    });
    return frames;
  });
}

describe('device SDK in a call', () => {
  it('switches the camera on the same sender without renegotiating, keeps the screen on, pauses the camera while hidden', async () => {
    const [a, b] = [await sdkPage(), await sdkPage()];
    const state = (p: Person) => p.page.evaluate(() => (window as unknown as { client: SdkClient }).client.state);
    await a.page.evaluate(() => (window as unknown as { client: SdkClient }).client.start({}));
    await expect.poll(() => state(a)).toBe('waiting');
    await b.page.evaluate(() => (window as unknown as { client: SdkClient }).client.start({}));
    await expect.poll(() => state(a), { timeout: 20_000 }).toBe('connected');
    await expect.poll(() => state(b), { timeout: 20_000 }).toBe('connected');
    await expect.poll(() => framesDecoded(b.page), { timeout: 15_000 }).toBeGreaterThan(10);

    // The screen is kept on during the call (Chromium has the API; it was asked for).
    await expect.poll(() => a.page.evaluate(() => (window as unknown as { client: SdkClient }).client.devices.wakeLockHeld)).toBe(true);
    expect(await a.page.evaluate(() => (window as unknown as { __wakeLocks: number }).__wakeLocks)).toBeGreaterThanOrEqual(1);

    const switched = await a.page.evaluate(async () => {
      const c = (window as unknown as { client: SdkClient }).client;
      const pc = c.peerConnection;
      let negotiations = 0;
      pc.addEventListener('negotiationneeded', () => negotiations++);
      const sender = pc.getSenders().find((s) => s.track?.kind === 'video')!;
      const before = {
        track: sender.track!.id,
        device: sender.track!.getSettings().deviceId,
        preview: c.localStream.getVideoTracks()[0]!.id,
      };
      const can = await c.devices.canSwitchCamera();
      const change = await c.devices.switchCamera();
      const after = pc.getSenders().find((s) => s.track?.kind === 'video')!;
      await new Promise((r) => setTimeout(r, 500));
      return {
        can,
        sameSender: after === sender,
        senders: pc.getSenders().length,
        trackChanged: sender.track!.id !== before.track,
        deviceChanged: change.deviceId !== before.device && change.deviceId === sender.track!.getSettings().deviceId,
        previewIsSent: c.localStream.getVideoTracks()[0]!.id === sender.track!.id && c.localStream.getVideoTracks().length === 1,
        oldPreviewGone: c.localStream.getVideoTracks()[0]!.id !== before.preview,
        negotiations,
        signalingState: pc.signalingState,
      };
    });
    expect(switched).toEqual({
      can: true,
      sameSender: true,
      senders: 2,
      trackChanged: true,
      deviceChanged: true,
      previewIsSent: true,
      oldPreviewGone: true,
      negotiations: 0,
      signalingState: 'stable',
    });
    // The partner keeps receiving pictures from the new camera (the third: see the browser flags above).
    const third = await a.page.evaluate(async () => {
      const c = (window as unknown as { client: SdkClient }).client;
      const cameras = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput');
      const target = cameras.find((d) => d.label === 'fake_device_2')!.deviceId;
      const change = await c.devices.switchCamera({ deviceId: target });
      return change.deviceId === target;
    });
    expect(third).toBe(true);
    const framesAfterSwitch = await framesDecoded(b.page);
    await expect.poll(() => framesDecoded(b.page), { timeout: 10_000 }).toBeGreaterThan(framesAfterSwitch + 20);

    // Hidden (Playwright cannot hide a headless page, so the page's visibility is set as the browser
    // would set it, and the event fired): the camera is turned off, the partner's quality report says
    // held — judged by the voice — and both come back when shown.
    const setHidden = (hidden: boolean) =>
      a.page.evaluate((h) => {
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (h ? 'hidden' : 'visible') });
        Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
        document.dispatchEvent(new Event('visibilitychange'));
      }, hidden);
    await setHidden(true);
    expect(
      await a.page.evaluate(() => {
        const c = (window as unknown as { client: SdkClient }).client;
        return {
          paused: c.devices.videoPausedByHiding,
          enabled: c.localStream.getVideoTracks()[0]!.enabled,
          audio: c.localStream.getAudioTracks()[0]!.enabled,
        };
      }),
    ).toEqual({ paused: true, enabled: false, audio: true });
    const partnerHeld = () => b.page.evaluate(() => (window as unknown as { client: SdkClient }).client.quality?.partnerVideoHeld ?? null);
    await expect.poll(partnerHeld, { timeout: 10_000 }).toBe(true);
    expect(await state(b)).toBe('connected');
    await setHidden(false);
    await expect.poll(partnerHeld, { timeout: 10_000 }).toBe(false);
    expect(await a.page.evaluate(() => (window as unknown as { client: SdkClient }).client.localStream.getVideoTracks()[0]!.enabled)).toBe(
      true,
    );

    // After the call the screen may sleep again.
    await a.page.evaluate(() => (window as unknown as { client: SdkClient }).client.stop());
    await expect.poll(() => a.page.evaluate(() => (window as unknown as { client: SdkClient }).client.devices.wakeLockHeld)).toBe(false);
    expect(unexpected(a)).toEqual([]);
    expect(unexpected(b)).toEqual([]);
    await a.close();
    await b.close();
  });
});
