/**
 * Blur-first screening (docs/safety.md): the production classifier worker (nsfwjs MobileNetV2, the
 * web build's own chunk) in headless Chromium, on every benign image this machine has.
 * `npm run bench:screening -- [--backends=wasm,webgl,cpu] [--calls=5]` after `npm run build`.
 *
 * - ms per frame, per backend, and the load time of the model;
 * - false positives at the operator thresholds (explicit score = Porn + Hentai ≥ t) on: the two
 *   public-domain face fixtures (stills, framed variants and their generated liveness clips),
 *   Chromium's fake camera, and generated clips of plain scenes (gradients, noise, bars);
 * - flag→blur: calls where a threshold so low that any frame trips it, measured by the app itself;
 * - bytes of the model a viewer downloads, first visit and cached.
 * Recall is not measured: no labelled explicit images exist on this machine and none may be fetched.
 */
/// <reference lib="dom" />
import { readdirSync, readFileSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createDetector } from '../packages/server/src/verification/detector.js';
import type { RgbaImage } from '../packages/server/src/verification/image.js';
import { CHROMIUM_ARGS, getReady, meet, openPerson, startServer } from '../tests/e2e/harness.js';
import { encodeJpeg, frame, loadPortrait, makeClip, prepareSource, renderPose } from '../tests/fixtures/faces/generate.js';
import { arg, argList, machine } from './lib/machine.js';
import { median, out } from './lib/stats.js';

const BACKENDS = argList('backends', ['wasm', 'webgl', 'cpu']);
const CALLS = Number(arg('calls', '5'));
const THRESHOLDS = [0.3, 0.5, 0.7, 0.9];

const pct = (v: number[], q: number) => [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.floor(q * v.length))] ?? NaN;

/** CPU seconds (user + system) used so far by the browser processes this bench started (not the servers). */
function browserCpuSeconds(): number {
  const parent = new Map<number, number>();
  const stat = new Map<number, { comm: string; ticks: number }>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const raw = readFileSync(`/proc/${d}/stat`, 'utf8');
      const close = raw.lastIndexOf(')');
      const comm = raw.slice(raw.indexOf('(') + 1, close);
      const f = raw.slice(close + 2).split(' ');
      parent.set(Number(d), Number(f[1]));
      stat.set(Number(d), { comm, ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // gone
    }
  }
  const mine = (pid: number): boolean => {
    for (let p = parent.get(pid), n = 0; p !== undefined && p > 1 && n < 64; p = parent.get(p), n++) if (p === process.pid) return true;
    return false;
  };
  let ticks = 0;
  for (const [pid, st] of stat) if (st.comm !== 'node' && mine(pid)) ticks += st.ticks;
  return ticks / 100; // USER_HZ
}

/** Browser CPU over `seconds` of a connected call between two viewers, with screening on or off. */
async function callCpu(browser: Browser, screening: boolean, seconds: number): Promise<number> {
  const server = await startServer({ SCREENING: String(screening), MATCH_RECENT_PARTNERS: '0' });
  try {
    const [a, b] = [await openPerson(browser, server.url), await openPerson(browser, server.url)];
    await Promise.all([getReady(a.page), getReady(b.page)]);
    await meet(a, b, 60_000);
    if (screening)
      for (const p of [a, b]) await p.page.locator('[data-testid="remote-video"][data-screen="clear"]').waitFor({ timeout: 60_000 });
    await a.page.waitForTimeout(5_000); // past the call's start
    const before = browserCpuSeconds();
    await a.page.waitForTimeout(seconds * 1000);
    const used = browserCpuSeconds() - before;
    await a.close();
    await b.close();
    return used;
  } finally {
    await server.stop();
  }
}

/** A plain scene of `w`×`h`: what a camera shows when nobody is in front of it. */
function scene(kind: 'gradient' | 'noise' | 'bars' | 'dark' | 'skin', seed: number, w = 320, h = 240): RgbaImage {
  const data = new Uint8Array(w * h * 4);
  let s = seed * 2654435761;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 255;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 4;
      const v =
        kind === 'gradient'
          ? [(x / w) * 255, (y / h) * 255, ((seed * 40) % 255) | 0]
          : kind === 'noise'
            ? [rnd(), rnd(), rnd()]
            : kind === 'bars'
              ? [
                  [255, 255, 0, 0, 255, 0, 0][((x * 7) / w) | 0]!,
                  [255, 255, 255, 255, 0, 0, 0][((x * 7) / w) | 0]!,
                  [255, 0, 255, 0, 255, 0, 255][((x * 7) / w) | 0]!,
                ]
              : kind === 'dark'
                ? [10 + rnd() / 20, 10 + rnd() / 20, 12 + rnd() / 20]
                : // a flat skin-coloured wall: a worst case for a nudity model that keys on skin tones
                  [224 - y / 8 + rnd() / 25, 172 - y / 10 + rnd() / 25, 140 - y / 12 + rnd() / 25];
      data[i] = v[0]!;
      data[i + 1] = v[1]!;
      data[i + 2] = v[2]!;
      data[i + 3] = 255;
    }
  return { width: w, height: h, data };
}

/** Every benign image: [set name, JPEG bytes]. */
async function benignSet(): Promise<Array<[string, Uint8Array]>> {
  const set: Array<[string, Uint8Array]> = [];
  const detector = await createDetector({ keepLandmarks: true });
  try {
    for (const who of ['collins', 'hopper'] as const) {
      const still = loadPortrait(who);
      set.push([`portrait:${who}`, encodeJpeg(still)]);
      const src = await prepareSource(detector, still);
      // Framed as a webcam would: face sizes, offsets, light.
      for (const view of [
        { faceFraction: 0.25 },
        { faceFraction: 0.5 },
        { faceFraction: 0.7, dy: 20 },
        { brightness: 0.6 },
        { brightness: 1.3 },
        { roll: 0.2, dx: -30 },
      ])
        set.push([`framed:${who}`, encodeJpeg(frame(src, renderPose(src, {}), { width: 320, height: 240, ...view }), 80)]);
      for (const [k, actions] of [
        ['turn_left', 'blink'],
        ['look_up', 'open_mouth'],
        ['turn_right', 'blink', 'open_mouth'],
      ].entries())
        for (const f of makeClip(src, actions as never, { seed: k + 1, view: { width: 320, height: 240 } }))
          set.push([`clip:${who}`, f.jpeg]);
    }
  } finally {
    detector.close();
  }
  for (let seed = 1; seed <= 4; seed++)
    for (const kind of ['gradient', 'noise', 'bars', 'dark', 'skin'] as const)
      set.push([`scene:${kind}`, encodeJpeg(scene(kind, seed), 80)]);
  return set;
}

/** Starts the production worker in a page of Duet's origin and classifies every image with it. */
async function runWorker(page: Page, workerUrl: string, backend: string, images: Array<[string, string]>) {
  return page.evaluate(
    async ({ workerUrl, backend, images }) => {
      const worker = new Worker(workerUrl, { type: 'module' });
      const started = performance.now();
      const ready = await new Promise<{ backend: string }>((resolve, reject) => {
        worker.onmessage = (e) =>
          e.data.type === 'ready' ? resolve(e.data) : e.data.type === 'failed' ? reject(new Error(e.data.message)) : null;
        worker.postMessage({ type: 'start', backend });
      });
      const loadMs = performance.now() - started;
      const results: Array<{ set: string; explicit: number; top: string; ms: number }> = [];
      // The fake camera too: what Chromium shows when no real camera is there.
      const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
      const video = document.createElement('video');
      video.muted = true;
      video.srcObject = stream;
      await video.play();
      const sources: Array<[string, () => Promise<ImageBitmap>]> = images.map(([set, b64]) => [
        set,
        async () =>
          // The page's CSP allows no data: fetch: the bytes are decoded here.
          createImageBitmap(new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], { type: 'image/jpeg' }), {
            resizeWidth: 320,
            resizeHeight: 240,
          }),
      ]);
      for (let i = 0; i < 30; i++)
        sources.push([
          'fake-camera',
          async () => {
            await new Promise((r) => setTimeout(r, 200));
            return createImageBitmap(video, { resizeWidth: 320, resizeHeight: 240 });
          },
        ]);
      let id = 0;
      for (const [set, make] of sources) {
        const bitmap = await make();
        const r = await new Promise<{ scores: Record<string, number>; ms: number }>((resolve) => {
          worker.onmessage = (e: MessageEvent) => e.data.type === 'result' && resolve(e.data);
          worker.postMessage({ type: 'classify', id: id++, bitmap, threshold: 2 }, [bitmap]);
        });
        const top = Object.entries(r.scores).sort((a, b) => b[1] - a[1])[0]![0];
        results.push({ set, explicit: (r.scores.Porn ?? 0) + (r.scores.Hentai ?? 0), top, ms: r.ms });
      }
      stream.getTracks().forEach((t) => t.stop());
      worker.terminate();
      return { backend: ready.backend, loadMs, results };
    },
    { workerUrl, backend, images },
  );
}

async function main() {
  const server = await startServer({ SCREEN_THRESHOLD: '0.00001', MATCH_RECENT_PARTNERS: '0' });
  // Every page painted as a visible tab is (a viewer watches the call): headless Chromium otherwise
  // throttles the frames of all but one page, and flag→blur measured the throttling (~250 ms).
  const foreground = [
    '--disable-renderer-backgrounding',
    '--disable-background-timer-throttling',
    '--disable-backgrounding-occluded-windows',
  ];
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS, ...foreground],
  });
  try {
    out(`machine: ${machine()}; Chromium ${browser.version()}`);
    const images = (await benignSet()).map(([set, bytes]) => [set, Buffer.from(bytes).toString('base64')] as [string, string]);
    out(`benign images: ${images.length} + 30 fake-camera frames`);

    // The worker's URL, and the bytes a viewer downloads, from the app itself.
    const viewer = await openPerson(browser, server.url);
    await viewer.page.waitForFunction(() => (window as never as { __duetScreening?: { backend: string } }).__duetScreening?.backend, null, {
      timeout: 120_000,
    });
    const res = await viewer.page.evaluate(
      () => (window as never as { __duetScreening: { resources: { name: string; transferSize: number }[] } }).__duetScreening.resources,
    );
    await viewer.page.reload();
    await viewer.page.waitForFunction(() => (window as never as { __duetScreening?: { backend: string } }).__duetScreening?.backend, null, {
      timeout: 120_000,
    });
    const cached = await viewer.page.evaluate(
      () => (window as never as { __duetScreening: { resources: { transferSize: number }[] } }).__duetScreening.resources,
    );
    for (const r of res) out(`  model file ${new URL(r.name).pathname}: ${r.transferSize} bytes`);
    out(
      `model bytes per viewer: first visit ${res.reduce((s, r) => s + r.transferSize, 0)}, cached visit ${cached.reduce((s, r) => s + r.transferSize, 0)}`,
    );
    const workerUrl = res.find((r) => r.name.includes('classifier.worker'))!.name;
    await viewer.close();

    const probe = await openPerson(browser, `${server.url}/healthz`);
    for (const backend of BACKENDS) {
      const { backend: used, loadMs, results } = await runWorker(probe.page, workerUrl, backend, images);
      const ms = results.map((o) => o.ms);
      out(
        `\n[${backend} → ${used}] load ${Math.round(loadMs)} ms; ms per frame: median ${median(ms).toFixed(1)}, p90 ${pct(ms, 0.9).toFixed(1)} (n=${ms.length})`,
      );
      const gap = Math.min(3000, Math.max(1000, median(ms) * 25));
      out(`  sampling gap at that speed ${Math.round(gap)} ms → classifier busy ${((median(ms) / gap) * 100).toFixed(1)} % of one core`);
      const sets = [...new Set(results.map((o) => o.set.split(':')[0]!))];
      for (const set of sets) {
        const rows = results.filter((o) => o.set.split(':')[0] === set);
        const flagged = THRESHOLDS.map((t) => `${rows.filter((r) => r.explicit >= t).length}/${rows.length}@${t}`).join(' ');
        const max = Math.max(...rows.map((r) => r.explicit));
        const tops = Object.entries(rows.reduce<Record<string, number>>((m, r) => ((m[r.top] = (m[r.top] ?? 0) + 1), m), {}))
          .map(([k, v]) => `${k} ${v}`)
          .join(', ');
        out(`  ${set.padEnd(12)} flagged ${flagged}; max explicit ${max.toFixed(3)}; top class: ${tops}`);
      }
      const all = results;
      out(`  all benign   flagged ${THRESHOLDS.map((t) => `${all.filter((r) => r.explicit >= t).length}/${all.length}@${t}`).join(' ')}`);
    }
    await probe.close();

    // Flag → blur, measured by the app: one flag per call, `CALLS` calls (0: skipped).
    if (CALLS > 0) {
      const [a, b] = [await openPerson(browser, server.url), await openPerson(browser, server.url)];
      await Promise.all([getReady(a.page), getReady(b.page)]);
      const samples: Array<{ flagToBlurMs: number; resultToBlurMs: number; captureToBlurMs: number }> = [];
      for (let i = 0; i < CALLS; i++) {
        if (i === 0) await meet(a, b, 60_000);
        else await a.page.getByTestId('next').click();
        await a.page.waitForFunction(
          (n) => ((window as never as { __duetScreening?: { flags: unknown[] } }).__duetScreening?.flags.length ?? 0) > n,
          i,
          { timeout: 60_000 },
        );
      }
      // The same page's two-frame wait with nothing to change: what the machine's frame pace alone costs.
      const idle = await a.page.evaluate(async () => {
        const out: number[] = [];
        for (let i = 0; i < 20; i++) {
          const t = performance.now();
          await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
          out.push(performance.now() - t);
          await new Promise((r) => setTimeout(r, 50));
        }
        return out;
      });
      out(`two frames of this page with nothing to change: median ${median(idle).toFixed(1)} ms (n=20)`);
      samples.push(...(await a.page.evaluate(() => (window as never as { __duetScreening: { flags: never[] } }).__duetScreening.flags)));
      out(
        `\nflag→blur (n=${samples.length}): median ${median(samples.map((s) => s.flagToBlurMs)).toFixed(1)} ms, max ${Math.max(...samples.map((s) => s.flagToBlurMs)).toFixed(1)} ms; ` +
          `result on the page's thread→blur median ${median(samples.map((s) => s.resultToBlurMs)).toFixed(1)} ms; ` +
          `frame capture→blur median ${median(samples.map((s) => s.captureToBlurMs)).toFixed(1)} ms`,
      );
      await a.close();
      await b.close();
    }

    // CPU share at the chosen rate: the whole browser (two viewers, decoding, encoding, rendering)
    // over the same stretch of a call, with and without screening.
    const seconds = Number(arg('cpu-seconds', '40'));
    if (seconds <= 0) return;
    const off = await callCpu(browser, false, seconds);
    const on = await callCpu(browser, true, seconds);
    out(
      `\nbrowser CPU over ${seconds} s of a call (two viewers): screening off ${((off / seconds) * 100).toFixed(1)} % of one core, ` +
        `on ${((on / seconds) * 100).toFixed(1)} %; screening's share per viewer ${(((on - off) / 2 / seconds) * 100).toFixed(1)} % of one core`,
    );
  } finally {
    await browser.close();
    await server.stop();
  }
}

await main();
