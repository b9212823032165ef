import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const RESULTS_DIR = path.join(ROOT, 'test-results');

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

export interface RunningServer {
  url: string;
  dataDir: string;
  /** Every log line the server printed, parsed. */
  logs: Array<Record<string, unknown>>;
  stop(): Promise<number | null>;
}

/**
 * Starts the built server exactly as `npm start` runs it (node packages/server/dist/main.js),
 * on a free port with its own data folder, and waits for its ready line.
 */
export async function startServer(env: Record<string, string> = {}): Promise<RunningServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'duet-e2e-'));
  const child: ChildProcess = spawn(process.execPath, [path.join(ROOT, 'packages/server/dist/main.js')], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info', TURN_MODE: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 20 s\n${stderr}`)), 20_000);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}\n${stderr}`)));
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (typeof entry.url === 'string' && String(entry.msg).startsWith('Duet is ready')) {
          clearTimeout(timer);
          resolve(entry.url);
        }
      } catch {
        // not a log line
      }
    });
  });
  return {
    url,
    dataDir,
    logs,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => {
          fs.rmSync(dataDir, { recursive: true, force: true });
          resolve(code);
        });
        child.kill('SIGTERM');
      }),
  };
}

export function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: [...CHROMIUM_ARGS, ...extraArgs] });
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
}

/** A person: their own browser profile (so their own guest identity) and page. */
export async function openPerson(browser: Browser, url: string, viewport = { width: 1280, height: 800 }): Promise<Person> {
  const context = await browser.newContext({ viewport });
  await context.addInitScript(capturePeerConnections);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  await page.goto(url);
  return { context, page, errors };
}

/** Accepts the rules and waits until Start can be pressed (camera open, signaling up). */
export async function getReady(page: Page): Promise<void> {
  await page.getByTestId('accept-rules').click();
  await page.getByTestId('start').and(page.locator(':enabled')).waitFor({ timeout: 15_000 });
}

export function status(page: Page) {
  return page.getByTestId('call-status');
}

export async function waitForState(page: Page, state: string, timeout = 20_000): Promise<void> {
  await page.locator(`[data-testid="call-status"][data-state="${state}"]`).waitFor({ timeout });
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

export function screenshot(page: Page, name: string): Promise<Buffer> {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  return page.screenshot({ path: path.join(RESULTS_DIR, `${name}.png`) });
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
