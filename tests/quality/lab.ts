/**
 * The bad-network lab: two real Chromiums in the NAT lab's namespaces (tests/netlab), a relay-only
 * Duet call through the managed coturn, and on each site's router a UDP impairment proxy
 * (impair.ts) between the browser and the relay. The router DNATs the browser's packets for the
 * relay (203.0.113.10:3478) to the proxy on its own LAN address; conntrack rewrites the replies, so
 * the browser believes it talks to the relay. TURN over TCP is refused, so nothing bypasses the proxy.
 *
 *   browser a ── up/down ── proxy a ─┐                  ┌─ proxy b ── up/down ── browser b
 *                                    └── coturn (relay) ┘
 *
 * Each direction of media passes the sender's `up` link and the receiver's `down` link.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DESKTOP, PHONE, waitForState } from '../e2e/harness.js';
import { Lab, PUBLIC_IP, ROOT, type DuetServer, type LabProcess, type Site } from '../netlab/lab.js';
import { openPeer, waitForFrames, type Peer } from '../netlab/peers.js';
import { counterClip, toneTrack } from './clips.js';
import { glassSummary, ONSETS_PATH, ONSETS_WORKLET, readGlass, startGlass, type GlassRecord, type GlassSummary } from './glass.js';
import type { ImpairSettings, LinkSettings } from './impair.js';
import { readRecord, startRecording, startup, summarize, type PageRecord, type Summary } from './measure.js';

/** An impairment in end-to-end terms, for both directions unless a scenario says otherwise. */
export interface Network {
  /** Round trip added, ms (a quarter on each of the four links a round trip crosses). */
  rttMs?: number;
  /** ± jitter per direction, ms (on the receiving side's downlink). */
  jitterMs?: number;
  /** Random loss per direction (on the receiving side's downlink). */
  loss?: number;
  /** Bursty loss per direction, with its mean burst length in packets. */
  burstLoss?: number;
  burstLen?: number;
  /** Each sender's uplink capped, kbit/s, with a queue of `queueMs`. */
  rateKbps?: number;
  queueMs?: number;
}

export interface Phase {
  /** Seconds after the measurement starts (0: applied before the warm-up). */
  atS: number;
  a: ImpairSettings;
  b: ImpairSettings;
  label: string;
}

export interface QualityScenario {
  id: string;
  name: string;
  phases: Phase[];
  warmupS: number;
  measureS: number;
}

/** Proxy settings for both sites from one end-to-end description. */
export function network(n: Network): { a: ImpairSettings; b: ImpairSettings } {
  const quarter = (n.rttMs ?? 0) / 4;
  const up: LinkSettings = { delayMs: quarter };
  const down: LinkSettings = { delayMs: quarter };
  if (n.jitterMs) down.jitterMs = n.jitterMs;
  if (n.loss) down.loss = n.loss;
  if (n.burstLoss) Object.assign(down, { burstLoss: n.burstLoss, burstLen: n.burstLen ?? 8 });
  if (n.rateKbps) Object.assign(up, { rateKbps: n.rateKbps, queueMs: n.queueMs ?? 1000 });
  return { a: { up, down: { ...down } }, b: { up: { ...up }, down: { ...down } } };
}

export interface DirectionResult extends Summary {
  /** After a cap drop: seconds until the video the receiver gets fits beside the voice (≤ 100 kbps), or null. */
  adaptS: number | null;
  /** After the network heals: seconds until the receiver sees ≥ 10 fps at ≥ 240p again, or null. */
  recoverS: number | null;
  /** Measured glass-to-glass delay from the clips' frame numbers and tone bursts (glass.ts). */
  glass: GlassSummary | null;
  /** The start: seconds from the first frame to ≥ 10 fps at ≥ 240p and at 480p (measure.ts `startup`). */
  start?: { to240S: number | null; to480S: number | null };
}

export interface QualityResult {
  id: string;
  name: string;
  build: string;
  connectMs: number;
  /** Receiver a (what a gets from b) and receiver b. */
  a: DirectionResult;
  b: DirectionResult;
  /** Quality levels the pages showed, and whether they showed the video-paused placeholder. */
  levels: { a: string[]; b: string[] };
  pausedShown: { a: boolean; b: boolean };
  audioSettings: unknown;
  /** The audio codecs in the order the partner's description lists them (RED first when preferred). */
  audioCodecs: string[];
  /** The SDK policy's view on page a and b (relative seconds; empty with builds before it). */
  policy: { a: unknown[]; b: unknown[] };
  proxy: { a: string; b: string };
  /** Each proxy's `impair second` lines from the start of the measurement: kbit/s offered to each link and its queue. */
  proxySeconds: { a: unknown[]; b: unknown[] };
  /** Whether the senders' previews carried capture times, and how audio times reached the page clock. */
  glassClocks: { captureTimes: Array<boolean | null>; audioClock: Array<string | null> };
  /** The machine's 1-minute load average at the start and end (two cores are shared with other work). */
  load: [number, number];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startProxy(lab: Lab, site: Site): Promise<LabProcess> {
  // Browser → 203.0.113.10:3478 lands on the proxy (router LAN address); replies are un-NATed.
  await site.iptables([
    '-t',
    'nat',
    '-A',
    'PREROUTING',
    '-i',
    site.lanDev,
    '-p',
    'udp',
    '-d',
    PUBLIC_IP,
    '--dport',
    '3478',
    '-j',
    'DNAT',
    '--to-destination',
    `${site.routerLanIp}:3478`,
  ]);
  // TURN over TCP/TLS would bypass the proxy: refused, so the browser stays on UDP through it.
  await site.iptables(['-I', 'FORWARD', '1', '-i', site.lanDev, '-p', 'tcp', '--dport', '3478', '-j', 'REJECT']);
  await site.iptables(['-I', 'FORWARD', '1', '-i', site.lanDev, '-p', 'tcp', '--dport', '5349', '-j', 'REJECT']);
  const proc = lab.spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(ROOT, 'tests/quality/impair.ts'),
      '--listen',
      `${site.routerLanIp}:3478`,
      '--target',
      `${PUBLIC_IP}:3478`,
    ],
    { ns: site.routerNs, name: `impair-${site.name}`, cwd: ROOT, stdin: true },
  );
  await proc.waitForLine(/impair ready/, 20_000);
  return proc;
}

async function setProxy(proc: LabProcess, s: ImpairSettings): Promise<void> {
  const before = proc.lines.filter((l) => l.startsWith('impair set')).length;
  proc.writeLine(JSON.stringify(s));
  for (let i = 0; i < 50 && proc.lines.filter((l) => l.startsWith('impair set')).length === before; i++) await sleep(20);
}

async function proxyStats(proc: LabProcess): Promise<string> {
  proc.writeLine(JSON.stringify({ stats: true }));
  const line = await proc.waitForLine(/impair stats/, 2000).catch(() => '');
  // waitForLine returns the first match; ask for the newest.
  return (proc.lines.filter((l) => l.startsWith('impair stats')).pop() ?? line).replace('impair stats ', '');
}

function secondsOf(proc: LabProcess, from: number): unknown[] {
  return proc.lines
    .slice(from)
    .filter((l) => l.startsWith('impair second '))
    .map((l) => JSON.parse(l.slice('impair second '.length)) as unknown);
}

/** Policy records with their time in seconds since the measurement started. */
function rel(policy: PageRecord['policy'], start: number): unknown[] {
  return policy.map(({ t, ...rest }) => ({ s: Math.round((t - start) / 100) / 10, ...rest }));
}

function direction(
  r: PageRecord,
  from: number,
  to: number,
  s: QualityScenario,
  glass: { receiver: GlassRecord | null; sender: GlassRecord | null },
): DirectionResult {
  const sum = summarize(r, from, to);
  let adaptS: number | null = null;
  let recoverS: number | null = null;
  const drop = s.phases.find((p, i) => i > 0 && (p.a.up?.rateKbps ?? 0) > 0 && (p.a.up?.rateKbps ?? 0) <= 300);
  const heal = s.phases.find((p, i) => i > 0 && p.atS > (drop?.atS ?? 0) && (!p.a.up?.rateKbps || p.a.up.rateKbps >= 1000));
  if (drop) {
    const w = sum.windows.find((x) => x.s >= drop.atS && x.videoKbps <= 100);
    adaptS = w ? w.s + 1 - drop.atS : null;
  }
  if (heal) {
    const w = sum.windows.find((x) => x.s >= heal.atS && x.fps >= 10 && x.height >= 240);
    recoverS = w ? w.s + 1 - heal.atS : null;
  }
  const g = glass.receiver && glass.sender ? glassSummary(glass.receiver, glass.sender, from, to) : null;
  return { ...sum, adaptS, recoverS, glass: g, start: startup(r) };
}

/**
 * Opens both peers with the lab's clips as their camera and microphone: a wrapper around the
 * browser (the NAT lab's launcher runs `$CHROMIUM_PATH` in the site's namespace) adds the flags.
 */
async function openPeers(lab: Lab, sites: [Site, Site], origin: string): Promise<[Peer, Peer]> {
  const wrapper = path.join(lab.tmp, 'chromium-clips.sh');
  const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  const flags = `--use-file-for-fake-video-capture=${counterClip()} --use-file-for-fake-audio-capture=${toneTrack()}`;
  fs.writeFileSync(wrapper, `#!/bin/sh\nexec ${chromium} ${flags} "$@"\n`, { mode: 0o755 });
  const before = process.env.CHROMIUM_PATH;
  process.env.CHROMIUM_PATH = wrapper;
  try {
    return await Promise.all([openPeer(lab, sites[0], origin), openPeer(lab, sites[1], origin)]);
  } finally {
    if (before === undefined) delete process.env.CHROMIUM_PATH;
    else process.env.CHROMIUM_PATH = before;
  }
}

/**
 * Runs one scenario in a fresh lab; `webDir` and `serverMain` pick other builds of the web app and
 * the server (default: apps/web/dist and packages/server/dist/main.js).
 */
export async function runQualityScenario(
  s: QualityScenario,
  options: { webDir?: string; serverMain?: string; build?: string; screenshots?: string } = {},
): Promise<QualityResult> {
  const loadAtStart = os.loadavg()[0]!;
  const lab = await Lab.create();
  const peers: Peer[] = [];
  let server: DuetServer | undefined;
  try {
    const siteA = await lab.addSite('a', { nat: 'none' });
    const siteB = await lab.addSite('b', { nat: 'none' });
    const [proxyA, proxyB] = await Promise.all([startProxy(lab, siteA), startProxy(lab, siteB)]);
    let webDir = options.webDir;
    if (webDir) {
      const dest = path.join(lab.tmp, 'web');
      fs.cpSync(webDir, dest, { recursive: true });
      webDir = dest;
    } else webDir = lab.snapshotWebApp();
    fs.writeFileSync(path.join(webDir, ONSETS_PATH), ONSETS_WORKLET);
    server = await lab.startServer(
      {
        WEB_DIR: webDir,
        TURN_MODE: 'managed',
        TURN_HOST: PUBLIC_IP,
        TURN_LISTEN_IPS: PUBLIC_IP,
        RELAY_ONLY: 'true',
        CONNECT_TIMEOUT_MS: '15000',
        // Two browsers share the machine's cores with the server: no scenario is about shedding load
        // (at load 24 a call's signaling socket was refused 503 server_busy).
        BUSY_LAG_MS: '0',
      },
      8080,
      options.serverMain,
    );
    const [a, b] = await openPeers(lab, [siteA, siteB], server.origin);
    peers.push(a, b);
    const first = s.phases[0]!;
    await Promise.all([setProxy(proxyA, first.a), setProxy(proxyB, first.b)]);
    await a.page.getByTestId('start').click();
    await waitForState(a.page, 'waiting');
    const pressed = Date.now();
    await b.page.getByTestId('start').click();
    await Promise.all([waitForState(a.page, 'connected', 30_000), waitForState(b.page, 'connected', 30_000)]);
    const connectMs = Date.now() - pressed;
    await Promise.all([waitForFrames(a.page, 20_000), waitForFrames(b.page, 20_000)]);
    const audioSettings = await a.page.evaluate(() => {
      const v = document.querySelector<HTMLVideoElement>('[data-testid="local-video"]');
      const track = (v?.srcObject as MediaStream | null)?.getAudioTracks()[0];
      const st = track?.getSettings() as Record<string, unknown> | undefined;
      return st
        ? { echoCancellation: st.echoCancellation, noiseSuppression: st.noiseSuppression, autoGainControl: st.autoGainControl }
        : null;
    });
    const audioCodecs = await a.page.evaluate(() => {
      const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
      const sdp = pcs[pcs.length - 1]?.currentRemoteDescription?.sdp ?? '';
      const m = /^m=audio \S+ \S+ (.*)$/m.exec(sdp)?.[1]?.split(' ') ?? [];
      return m.map((pt) => new RegExp(`^a=rtpmap:${pt} ([^/\\s]+)`, 'm').exec(sdp)?.[1] ?? pt);
    });
    await Promise.all([startRecording(a.page), startRecording(b.page)]);
    await Promise.all([startGlass(a.page), startGlass(b.page)]);
    await sleep(s.warmupS * 1000);
    // Both pages' clocks are performance.now() of their own page: mark the start on each.
    const [startA, startB] = await Promise.all([a.page.evaluate(() => performance.now()), b.page.evaluate(() => performance.now())]);
    const t0 = Date.now();
    const secondsFrom = { a: proxyA.lines.length, b: proxyB.lines.length };
    for (const p of s.phases.slice(1)) {
      await sleep(Math.max(0, t0 + p.atS * 1000 - Date.now()));
      await Promise.all([setProxy(proxyA, p.a), setProxy(proxyB, p.b)]);
    }
    await sleep(Math.max(0, t0 + s.measureS * 1000 - Date.now()));
    const [recA, recB] = await Promise.all([readRecord(a.page), readRecord(b.page)]);
    const [glassA, glassB] = await Promise.all([readGlass(a.page), readGlass(b.page)]);
    const proxy = { a: await proxyStats(proxyA), b: await proxyStats(proxyB) };
    const proxySeconds = { a: secondsOf(proxyA, secondsFrom.a), b: secondsOf(proxyB, secondsFrom.b) };
    if (options.screenshots) {
      // What each person sees at the end, at desktop and phone sizes (the call keeps running meanwhile).
      fs.mkdirSync(options.screenshots, { recursive: true });
      for (const [name, page] of [
        ['a', a.page],
        ['b', b.page],
      ] as const) {
        for (const [size, viewport] of [
          ['desktop', DESKTOP],
          ['phone', PHONE],
        ] as const) {
          await page.setViewportSize(viewport);
          await sleep(300);
          await page.screenshot({ path: path.join(options.screenshots, `${s.id}-${name}-${size}.png`) });
        }
        await page.setViewportSize(DESKTOP);
      }
    }
    const result: QualityResult = {
      id: s.id,
      name: s.name,
      build: options.build ?? 'working tree',
      connectMs,
      a: direction(recA, startA, startA + s.measureS * 1000, s, { receiver: glassA, sender: glassB }),
      b: direction(recB, startB, startB + s.measureS * 1000, s, { receiver: glassB, sender: glassA }),
      glassClocks: {
        captureTimes: [glassA?.captureTimes ?? null, glassB?.captureTimes ?? null],
        audioClock: [glassA?.audioClock ?? null, glassB?.audioClock ?? null],
      },
      levels: {
        a: [...new Set(recA.quality.map(([, l]) => String(l)))],
        b: [...new Set(recB.quality.map(([, l]) => String(l)))],
      },
      pausedShown: { a: recA.paused.length > 0, b: recB.paused.length > 0 },
      audioSettings,
      audioCodecs,
      policy: { a: rel(recA.policy, startA), b: rel(recB.policy, startB) },
      proxy,
      proxySeconds,
      load: [Math.round(loadAtStart * 10) / 10, Math.round(os.loadavg()[0]! * 10) / 10],
    };
    await a.page.getByTestId('stop').click();
    await waitForState(b.page, 'waiting').catch(() => undefined);
    return result;
  } finally {
    for (const p of peers) await p.close();
    await server?.stop();
    await lab.destroy();
  }
}
