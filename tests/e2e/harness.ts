/**
 * The browser e2e fixture: the built Duet server started as `npm start` runs it, Chromium with the
 * flags from PRODUCT.md, people who each have their own browser profile, and the checks the tests
 * share. `useDuet()` starts what a file needs before its tests and tears it all down after them;
 * every wait is for something the page or the server says (a `call-status` state, a log line),
 * never a fixed sleep. Plain hooks rather than `test.extend`: several files share one server and
 * the same people across their tests (a call in one test, its bill in the next).
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const RESULTS_DIR = path.join(ROOT, 'test-results');

export interface Viewport {
  width: number;
  height: number;
}
export const DESKTOP: Viewport = { width: 1280, height: 800 };
export const PHONE: Viewport = { width: 390, height: 844 };

/** Flags from PRODUCT.md: fake camera and microphone, no sandbox (root), no background traffic. */
export const CHROMIUM_ARGS = [
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--no-sandbox',
  '--disable-background-networking',
  '--no-first-run',
  '--disable-quic',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];

export type Env = Record<string, string>;

// ---------------------------------------------------------------------------------------------
// The server

export interface RunningServer {
  url: string;
  /** The signaling endpoint (`ws://…/ws`). */
  wsUrl: string;
  dataDir: string;
  /** Every log line the server printed, parsed. */
  logs: Array<Record<string, unknown>>;
  /** Resolves with the first log line (already printed or still to come) whose `msg` is `msg`. */
  waitForLog(msg: string, timeout?: number): Promise<Record<string, unknown>>;
  /** SIGTERM, as an operator stops it; resolves with the exit code. Safe to call twice. */
  stop(): Promise<number | null>;
  /** SIGKILL: a crash. A data folder given in ServerOptions stays for the next start to find. */
  kill(): Promise<void>;
}

export interface ServerOptions {
  /**
   * The data folder to run on, kept when the server exits (so a restart finds its state). Without
   * one the server gets a fresh folder, removed when it exits.
   */
  dataDir?: string;
}

/** Starts the built server (packages/server/dist/main.js) on a free port and waits for its ready line. */
export async function startServer(env: Env = {}, options: ServerOptions = {}): Promise<RunningServer> {
  const ownsData = options.dataDir === undefined;
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'duet-e2e-'));
  const child = spawn(process.execPath, [path.join(ROOT, 'packages/server/dist/main.js')], {
    // BUSY_LAG_MS=0: browsers and servers share the machine's cores; no test here is about shedding load.
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info', TURN_MODE: 'off', BUSY_LAG_MS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      if (ownsData) fs.rmSync(dataDir, { recursive: true, force: true });
      resolve(code);
    }),
  );
  const logs: Array<Record<string, unknown>> = [];
  const onLog = new Set<(entry: Record<string, unknown>) => void>();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start in 20 s\n${stderr}`));
    }, 20_000);
    void exited.then((code) => reject(new Error(`server exited with ${code}\n${stderr}`)));
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        for (const f of onLog) f(entry);
        if (typeof entry.url === 'string' && String(entry.msg).startsWith('Duet is ready')) {
          clearTimeout(timer);
          resolve(entry.url);
        }
      } catch {
        // not a log line
      }
    });
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    url,
    wsUrl: `${url.replace(/^http/, 'ws')}/ws`,
    dataDir,
    logs,
    waitForLog: (msg, timeout = 15_000) =>
      new Promise((resolve, reject) => {
        const found = logs.find((l) => l.msg === msg);
        if (found) return resolve(found);
        const timer = setTimeout(() => {
          onLog.delete(listen);
          reject(new Error(`the server did not log "${msg}" in ${timeout} ms`));
        }, timeout);
        const listen = (entry: Record<string, unknown>) => {
          if (entry.msg !== msg) return;
          clearTimeout(timer);
          onLog.delete(listen);
          resolve(entry);
        };
        onLog.add(listen);
      }),
    stop: () => {
      if (running()) child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      if (running()) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A port free for both UDP and TCP on 127.0.0.1 (a relay listens on both), with room above it. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 25_000);
    const tcp = net.createServer();
    const udp = dgram.createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      tcp.once('error', () => resolve(false));
      tcp.listen(port, '127.0.0.1', () => {
        udp.once('error', () => resolve(false));
        udp.bind(port, '127.0.0.1', () => resolve(true));
      });
    });
    await new Promise<void>((r) => tcp.close(() => r()));
    await new Promise<void>((r) => {
      try {
        udp.close(() => r());
      } catch {
        r(); // never bound
      }
    });
    if (ok) return port;
  }
  throw new Error('no free port');
}

// ---------------------------------------------------------------------------------------------
// The browser and the people in it

export interface LaunchOptions {
  /** Without the fake-UI flag the permission prompt is refused, as when a person clicks "Block". */
  denyCamera?: boolean;
}

export function launchBrowser(extraArgs: string[] = [], options: LaunchOptions = {}): Promise<Browser> {
  const args = CHROMIUM_ARGS.filter((a) => !(options.denyCamera && a === '--use-fake-ui-for-media-stream'));
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: [...args, ...extraArgs] });
}

/**
 * Records every RTCPeerConnection the page creates, so tests can read getStats() from outside
 * the app without the app exposing anything for tests.
 */
const capturePeerConnections = () => {
  const w = window as unknown as { __pcs: RTCPeerConnection[] };
  w.__pcs = [];
  const Original = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Original {
    constructor(config?: RTCConfiguration) {
      super(config);
      w.__pcs.push(this);
    }
  } as typeof RTCPeerConnection;
};

export interface Person {
  context: BrowserContext;
  page: Page;
  /** Uncaught exceptions and console errors (CSP violations included) seen on the page. */
  errors: string[];
  /** Closes this person's browser profile (their tab, their connection). */
  close(): Promise<void>;
}

export interface PageOptions {
  viewport?: Viewport;
  /**
   * Permissions granted to the profile (clipboard, notifications); none by default. `null` leaves
   * the browser's own defaults untouched, which the NAT lab needs: with an explicit (even empty)
   * grant its host-to-host call, with no STUN and no relay, never connected (measured, not
   * understood further).
   */
  permissions?: string[] | null;
  /** One more script to run in the page before the app's own. */
  initScript?: () => void;
  /** The browser's language (`navigator.language`, Accept-Language); English (en-US) by default. */
  locale?: string;
}

/** A person: their own browser profile (so their own guest identity) and page, open at `url`. */
export async function openPerson(browser: Browser, url: string, options: PageOptions = {}): Promise<Person> {
  const permissions = options.permissions === null ? {} : { permissions: options.permissions ?? [] };
  const context = await browser.newContext({ viewport: options.viewport ?? DESKTOP, locale: options.locale ?? 'en-US', ...permissions });
  await context.addInitScript(capturePeerConnections);
  if (options.initScript) await context.addInitScript(options.initScript);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  await page.goto(url);
  return { context, page, errors, close: () => context.close() };
}

/** Accepts the rules and waits until Start can be pressed (camera open, signaling up). */
export async function getReady(page: Page): Promise<void> {
  await page.getByTestId('accept-rules').click();
  await page.getByTestId('start').and(page.locator(':enabled')).waitFor({ timeout: 15_000 });
}

/** Expects that no page saw an error. */
export function expectNoErrors(...people: Person[]): void {
  for (const p of people) expect(p.errors).toEqual([]);
}

/** The end of a person's part in a test: no page errors, and their profiles closed. */
export async function finish(...people: Person[]): Promise<void> {
  for (const p of people) {
    expect(p.errors).toEqual([]);
    await p.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The fixture

export interface DuetOptions {
  /** The server's environment overrides, or a function giving them once something is known (a free port). */
  env?: Env | (() => Env | Promise<Env>);
  /** false: no server before the tests (each starts its own with `serve()`). */
  server?: boolean;
  /** false: no browser (a test that speaks the protocol itself). */
  browser?: boolean;
  /** Flags for the browser beyond the standard ones. */
  browserArgs?: string[];
  /** After the tests the server must exit with code 0 and have logged no error (level ≥ 50). */
  expectCleanExit?: boolean;
}

export interface PersonOptions extends PageOptions {
  /** Another browser than the fixture's (its own camera). */
  browser?: Browser;
  /** Another server than the fixture's. */
  url?: string;
  /** The page to open, below the server's URL. */
  path?: string;
  /** false: leave the rules unaccepted (and do not wait for Start). */
  ready?: boolean;
}

export interface Duet {
  /** The server started before the tests. */
  readonly server: RunningServer;
  /** The browser launched before the tests. */
  readonly browser: Browser;
  /** Another server, stopped after the tests. */
  serve(env?: Env, options?: ServerOptions): Promise<RunningServer>;
  /** Another browser, closed after the tests. */
  launch(extraArgs?: string[], options?: LaunchOptions): Promise<Browser>;
  /** A data folder that outlives one server (for restarts), removed after the tests. */
  tempDir(): string;
  /** One person on the app, the rules accepted and Start ready unless `ready: false`. */
  person(options?: PersonOptions): Promise<Person>;
  /** Two people opened one after the other, then readied together (unless `ready: false`). */
  pair(a?: PersonOptions, b?: PersonOptions): Promise<[Person, Person]>;
}

/**
 * Starts a server and a browser before this file's (or this describe block's) tests and stops
 * them, with everything `serve()`, `launch()` and `tempDir()` made, after them.
 */
export function useDuet(options: DuetOptions = {}): Duet {
  const servers: RunningServer[] = [];
  const browsers: Browser[] = [];
  const dirs: string[] = [];
  let main: RunningServer | undefined;
  let mainBrowser: Browser | undefined;

  const serve = async (env: Env = {}, serverOptions: ServerOptions = {}) => {
    const s = await startServer(env, serverOptions);
    servers.push(s);
    return s;
  };
  const launch = async (extraArgs: string[] = [], launchOptions: LaunchOptions = {}) => {
    const b = await launchBrowser(extraArgs, launchOptions);
    browsers.push(b);
    return b;
  };
  const open = (o: PersonOptions = {}) => {
    const base = o.url ?? duet.server.url;
    return openPerson(o.browser ?? duet.browser, o.path ? `${base}${o.path}` : base, o);
  };

  const duet: Duet = {
    get server() {
      if (!main) throw new Error('no server: useDuet({ server: false }) starts none; call serve()');
      return main;
    },
    get browser() {
      if (!mainBrowser) throw new Error('no browser: useDuet({ browser: false }) launches none; call launch()');
      return mainBrowser;
    },
    serve,
    launch,
    tempDir() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duet-e2e-'));
      dirs.push(dir);
      return dir;
    },
    async person(o = {}) {
      const p = await open(o);
      if (o.ready !== false) await getReady(p.page);
      return p;
    },
    async pair(a = {}, b = {}) {
      const first = await open(a);
      const second = await open(b);
      await Promise.all([a.ready !== false && getReady(first.page), b.ready !== false && getReady(second.page)]);
      return [first, second];
    },
  };

  beforeAll(async () => {
    if (options.server !== false) main = await serve(typeof options.env === 'function' ? await options.env() : options.env);
    if (options.browser !== false) mainBrowser = await launch(options.browserArgs);
  });

  afterAll(async () => {
    for (const b of browsers.reverse()) if (b.isConnected()) await b.close();
    const codes = new Map<RunningServer, number | null>();
    for (const s of servers) codes.set(s, await s.stop());
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
    if (options.expectCleanExit && main) {
      const problems = main.logs.filter((l) => Number(l.level) >= 50);
      expect({ code: codes.get(main), problems }).toEqual({ code: 0, problems: [] });
    }
  });

  return duet;
}

// ---------------------------------------------------------------------------------------------
// The call

export function status(page: Page) {
  return page.getByTestId('call-status');
}

export async function waitForState(page: Page, state: string, timeout = 20_000): Promise<void> {
  await page.locator(`[data-testid="call-status"][data-state="${state}"]`).waitFor({ timeout });
}

/**
 * `a` presses Start and waits; then `b` presses Start, and both wait until connected, in the same
 * call. `ms` is from b's press until both show `connected`.
 */
export async function meet(a: Person, b: Person, timeout = 20_000): Promise<{ callId: string; ms: number }> {
  await a.page.getByTestId('start').click();
  await waitForState(a.page, 'waiting');
  await b.page.getByTestId('start').click();
  const pressed = performance.now();
  await Promise.all([waitForState(a.page, 'connected', timeout), waitForState(b.page, 'connected', timeout)]);
  const ms = Math.round(performance.now() - pressed);
  const callId = await status(a.page).getAttribute('data-call-id');
  expect(callId).toBeTruthy();
  expect(await status(b.page).getAttribute('data-call-id')).toBe(callId);
  return { callId: callId!, ms };
}

export interface InboundMedia {
  framesDecoded: number;
  audioPacketsReceived: number;
  localCandidateType: string | undefined;
}

/** Stats of the page's newest peer connection: what actually arrived from the partner. */
export async function inboundMedia(page: Page): Promise<InboundMedia> {
  return page.evaluate(async () => {
    const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
    const pc = pcs[pcs.length - 1];
    if (!pc) return { framesDecoded: 0, audioPacketsReceived: 0, localCandidateType: undefined };
    const stats = await pc.getStats();
    let framesDecoded = 0;
    let audioPacketsReceived = 0;
    let localCandidateType: string | undefined;
    const byId = new Map<string, Record<string, unknown>>();
    stats.forEach((s: Record<string, unknown>) => byId.set(s.id as string, s));
    let pairId: string | undefined;
    stats.forEach((s: Record<string, unknown>) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') framesDecoded += Number(s.framesDecoded ?? 0);
      if (s.type === 'inbound-rtp' && s.kind === 'audio') audioPacketsReceived += Number(s.packetsReceived ?? 0);
      if (s.type === 'transport' && typeof s.selectedCandidatePairId === 'string') pairId = s.selectedCandidatePairId;
      if (!pairId && s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pairId = s.id as string;
    });
    const pair = pairId ? byId.get(pairId) : undefined;
    if (pair) localCandidateType = byId.get(pair.localCandidateId as string)?.candidateType as string | undefined;
    return { framesDecoded, audioPacketsReceived, localCandidateType };
  });
}

/** Polls until the partner's video has decoded frames; fails with the last numbers seen. */
export async function expectFramesDecoded(page: Page, timeoutMs = 15_000): Promise<InboundMedia> {
  const deadline = Date.now() + timeoutMs;
  let last = await inboundMedia(page);
  while (last.framesDecoded === 0 && Date.now() < deadline) {
    await page.waitForTimeout(250);
    last = await inboundMedia(page);
  }
  if (last.framesDecoded === 0) throw new Error(`no video frames decoded from the partner: ${JSON.stringify(last)}`);
  return last;
}

export interface RecordedState {
  state: string | null;
  callId: string | null;
  /** The page's Date.now() when the state was rendered. */
  at: number;
}

/**
 * From now on, records every `data-state` / `data-call-id` the page's call-status takes, stamped
 * with the page's clock (the same machine's clock as the test's), so a test can tell when a state
 * was left and that one was never reached.
 */
export async function recordStates(page: Page): Promise<void> {
  await page.getByTestId('call-status').waitFor();
  await page.evaluate(() => {
    const w = window as unknown as { __states?: Array<{ state: string | null; callId: string | null; at: number }> };
    if (w.__states) return;
    const log: Array<{ state: string | null; callId: string | null; at: number }> = [];
    w.__states = log;
    const el = document.querySelector('[data-testid="call-status"]')!;
    const push = () => log.push({ state: el.getAttribute('data-state'), callId: el.getAttribute('data-call-id'), at: Date.now() });
    push();
    new MutationObserver(push).observe(el, { attributes: true, attributeFilter: ['data-state', 'data-call-id'] });
  });
}

export function recordedStates(page: Page): Promise<RecordedState[]> {
  return page.evaluate(() => (window as unknown as { __states?: RecordedState[] }).__states ?? []);
}

// ---------------------------------------------------------------------------------------------
// Staff console

/** Signs in to the console at /admin with an email and password, and waits until it says who. */
export async function signInAsStaff(page: Page, email: string, password: string): Promise<void> {
  await page.getByTestId('staff-email').fill(email);
  await page.getByTestId('staff-password').fill(password);
  await page.getByTestId('staff-login').click();
  await expect.poll(() => page.getByTestId('whoami').textContent()).toContain(email);
}

/** Pixels of a canvas close to one colour: the chart drew its data, not only axes and grid. */
export function pixelsOf(page: Page, testId: string, rgb: readonly [number, number, number]): Promise<number> {
  return page.getByTestId(testId).evaluate((canvas: HTMLCanvasElement, [r, g, b]) => {
    const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3]! > 200 && Math.abs(data[i]! - r) < 24 && Math.abs(data[i + 1]! - g) < 24 && Math.abs(data[i + 2]! - b) < 24) n++;
    }
    return n;
  }, rgb);
}

// ---------------------------------------------------------------------------------------------
// Layout and screenshots

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** Every given element lies fully inside the viewport, and no two overlap. */
export async function expectLaidOut(page: Page, testIds: string[]): Promise<void> {
  const viewport = page.viewportSize()!;
  const boxes: Array<Box & { id: string }> = [];
  for (const id of testIds) {
    const box = await page.getByTestId(id).first().boundingBox();
    expect(box, `${id} is visible`).not.toBeNull();
    expect(box!.x, `${id} left edge`).toBeGreaterThanOrEqual(0);
    expect(box!.y, `${id} top edge`).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width, `${id} right edge`).toBeLessThanOrEqual(viewport.width + 0.5);
    expect(box!.y + box!.height, `${id} bottom edge`).toBeLessThanOrEqual(viewport.height + 0.5);
    boxes.push({ id, ...box! });
  }
  for (const [i, a] of boxes.entries()) {
    for (const b of boxes.slice(i + 1)) expect(overlaps(a, b), `${a.id} overlaps ${b.id}`).toBe(false);
  }
}

/** Nothing wider than the viewport (a phone must never scroll sideways). */
export async function expectFitsWidth(page: Page, what = 'the page'): Promise<void> {
  const width = page.viewportSize()!.width;
  expect(await page.evaluate(() => document.documentElement.scrollWidth), `${what} fits ${width} px`).toBeLessThanOrEqual(width);
}

/** Saves test-results/<name>.png. */
export function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<Buffer> {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  return page.screenshot({ path: path.join(RESULTS_DIR, `${name}.png`), fullPage: options.fullPage });
}

/**
 * Screenshots at the page's own size and at phone size, where nothing may scroll sideways, then
 * back to its own size; `name` names each file by size.
 */
export async function screenshotBothSizes(
  page: Page,
  name: (size: 'desktop' | 'phone') => string,
  options: { fullPage?: boolean } = {},
): Promise<void> {
  const own = page.viewportSize()!;
  await screenshot(page, name('desktop'), options);
  await page.setViewportSize(PHONE);
  await page.waitForTimeout(150); // one layout after the resize
  await expectFitsWidth(page, name('phone'));
  await screenshot(page, name('phone'), options);
  await page.setViewportSize(own);
  await page.waitForTimeout(150);
}
