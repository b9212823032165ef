/**
 * One NAT-lab scenario, end to end: build the lab, start the real server (and coturn when asked),
 * put each peer's Chromium behind its own router, press Start on both, and record what happened.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Page } from 'playwright-core';
import { waitForState } from '../e2e/harness.js';
import { Lab, PUBLIC_IP, ROOT, type DuetServer, type LabProcess, type Site, type SiteOptions } from './lab.js';
import { describeCandidate, openPeer, pathStats, waitForFrames, type PathStats, type Peer } from './peers.js';

export interface ScenarioContext {
  lab: Lab;
  server: DuetServer;
  a: Peer;
  b: Peer;
  sites: { a: Site; b: Site };
}

export interface Scenario {
  name: string;
  a: SiteOptions;
  b: SiteOptions;
  /** Start coturn as a STUN-only server on 203.0.113.10:3478 and hand it to browsers via STUN_URLS. */
  stun?: boolean;
  /**
   * Runs before the Duet server starts, e.g. to start an external TURN server with
   * `lab.spawn(...)` (public namespace) and return extra server environment (TURN settings).
   */
  setup?: (lab: Lab) => Promise<Record<string, string> | void>;
  /** Extra server environment. CONNECT_TIMEOUT_MS defaults to 8000 in the lab. */
  serverEnv?: Record<string, string>;
  expect: 'connected' | 'ice_failed';
  /** The selected pair must go through the relay (over this transport between browser and relay). */
  relayed?: 'udp' | 'tcp';
  /** IP privacy: neither browser may learn any address of the other. */
  private?: boolean;
  /**
   * Not run yet (an `it.todo` with this reason) unless DUET_NETLAB_PENDING=1: the scenario is
   * written, but the server behaviour it checks has not landed.
   */
  pending?: string;
  /** Allowed candidate types (local and remote) of the selected pair, checked on both sides. */
  pair?: { local: string[]; remote: string[] };
  /**
   * Runs once both sides are connected and decoding (e.g. cut the network for 5 s); may throw to
   * fail the scenario, and what it returns goes into the result's notes.
   */
  during?: (ctx: ScenarioContext) => Promise<string | void>;
}

export interface ScenarioResult {
  scenario: string;
  /** The lab's id (`dl<hex>`): its namespaces are `<id>-…`. */
  labId: string;
  nat: string;
  connected: boolean;
  /** Both Start clicks → both pages `connected`. */
  startToConnectedMs: number | null;
  /** Both Start clicks → both pages show the `ice_failed` end. */
  startToFailedMs: number | null;
  /** Per page, measured in the page: `connecting` shown → `ice_failed` shown. */
  connectingToFailedMs: number[] | null;
  pathA: string;
  pathB: string;
  framesDecodedA: number;
  framesDecodedB: number;
  statsA: PathStats | null;
  statsB: PathStats | null;
  /** The server's call record for the first call: end reason and the paths the browsers reported. */
  callRecord: {
    state: string;
    endReason: string | null;
    aPath: unknown;
    bPath: unknown;
    /** Server clock: match → call connected (both browsers reported connected). */
    matchedToConnectedMs: number | null;
    /** Server clock: match → call ended. */
    matchedToEndedMs: number | null;
  } | null;
  /** What the page showed when the call ended (state, end reason, overlay mentions "Couldn’t connect"). */
  ui: { a: StatusSnapshot; b: StatusSnapshot } | null;
  /** The two sites' addresses. */
  sites: { a: { hostIp: string; publicIp: string }; b: { hostIp: string; publicIp: string } } | null;
  /** What `during` reported. */
  notes: string | null;
  /** Packets that went to addresses outside the lab and were dropped by the internet's blackhole. */
  void: { dns: number; other: number } | null;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 8000;

/**
 * Server settings for Duet's managed relay in the lab: coturn started and supervised by the server
 * inside the public namespace, reachable by the browsers on 203.0.113.10:3478 (UDP and TCP), with
 * per-person TURN REST credentials in each `matched`. Its STUN replaces the lab's STUN-only coturn.
 */
export const MANAGED_RELAY_ENV: Record<string, string> = { TURN_MODE: 'managed', TURN_HOST: PUBLIC_IP, TURN_LISTEN_IPS: PUBLIC_IP };
/** How long media flows in a connected scenario before the frame counts are read. */
export const MEDIA_HOLD_MS = 2000;
/** How long a relayed pair may take to move to the expected transport (see `Scenario.relayed`). */
const RELAY_SETTLE_MS = 10_000;

export interface StatusSnapshot {
  t: number;
  state: string | null;
  reason: string | null;
  couldntConnect: boolean;
}

/**
 * Records every change of the call status and overlay into `window.__statusLog`, so a transient
 * state (an ended call whose people are matched again at once) cannot be missed by polling.
 */
async function recordStatus(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __statusLog: StatusSnapshot[] };
    w.__statusLog = [];
    const snap = () => {
      const el = document.querySelector('[data-testid="call-status"]');
      const s = {
        t: performance.now(),
        state: el?.getAttribute('data-state') ?? null,
        reason: el?.getAttribute('data-end-reason') ?? null,
        couldntConnect: (document.body.innerText ?? '').includes('Couldn’t connect'),
      };
      const last = w.__statusLog[w.__statusLog.length - 1];
      if (!last || last.state !== s.state || last.reason !== s.reason || last.couldntConnect !== s.couldntConnect) w.__statusLog.push(s);
    };
    snap();
    new MutationObserver(snap).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  });
}

/** Waits (bounded) for a status snapshot showing the ice_failed end with the message; returns it. */
async function waitForIceFailed(page: Page, timeoutMs: number): Promise<StatusSnapshot> {
  const handle = await page.waitForFunction(
    () => {
      const log = (window as unknown as { __statusLog: StatusSnapshot[] }).__statusLog;
      return log.find((s) => s.reason === 'ice_failed' && s.couldntConnect) ?? false;
    },
    undefined,
    { timeout: timeoutMs, polling: 100 },
  );
  return (await handle.jsonValue()) as StatusSnapshot;
}

function readCallRecord(dataDir: string): ScenarioResult['callRecord'] {
  const file = path.join(dataDir, 'duet.sqlite');
  if (!fs.existsSync(file)) return null;
  const db = new Database(file, { readonly: true });
  try {
    const row = db
      .prepare('SELECT state, end_reason, a_path, b_path, matched_at, connected_at, ended_at FROM calls ORDER BY matched_at LIMIT 1')
      .get() as
      | {
          state: string;
          end_reason: string | null;
          a_path: string | null;
          b_path: string | null;
          matched_at: number;
          connected_at: number | null;
          ended_at: number | null;
        }
      | undefined;
    if (!row) return null;
    const parse = (v: string | null) => (v ? (JSON.parse(v) as unknown) : null);
    return {
      state: row.state,
      endReason: row.end_reason,
      aPath: parse(row.a_path),
      bPath: parse(row.b_path),
      matchedToConnectedMs: row.connected_at === null ? null : Number(row.connected_at) - Number(row.matched_at),
      matchedToEndedMs: row.ended_at === null ? null : Number(row.ended_at) - Number(row.matched_at),
    };
  } finally {
    db.close();
  }
}

function pathLabel(s: PathStats | null): string {
  if (!s?.local) return '—';
  return `${describeCandidate(s.local)} → ${describeCandidate(s.remote)}`;
}

export function natLabel(o: SiteOptions): string {
  return o.firewall === false && o.nat !== 'none' ? `${o.nat} (no firewall)` : o.nat;
}

/** Runs one scenario in a fresh lab; everything it started is gone when it returns or throws. */
export async function runScenario(s: Scenario): Promise<ScenarioResult> {
  const lab = await Lab.create();
  const peers: Peer[] = [];
  let server: DuetServer | undefined;
  let stun: LabProcess | undefined;
  try {
    const siteA = await lab.addSite('a', s.a);
    const siteB = await lab.addSite('b', s.b);
    // No relay unless the scenario asks for one (TURN_MODE=auto would start coturn when installed).
    const env: Record<string, string> = { CONNECT_TIMEOUT_MS: String(DEFAULT_CONNECT_TIMEOUT_MS), TURN_MODE: 'off', ...s.serverEnv };
    if (s.stun) {
      stun = await lab.startStun();
      env.STUN_URLS = `stun:${PUBLIC_IP}:3478`;
    }
    Object.assign(env, (await s.setup?.(lab)) ?? {});
    server = await lab.startServer({ WEB_DIR: lab.snapshotWebApp(), ...env });
    const connectTimeoutMs = Number(env.CONNECT_TIMEOUT_MS);

    const [a, b] = await Promise.all([openPeer(lab, siteA, server.origin), openPeer(lab, siteB, server.origin)]);
    peers.push(a, b);
    await Promise.all([recordStatus(a.page), recordStatus(b.page)]);

    // Both press Start; time from the second press (the match is made then).
    await a.page.getByTestId('start').click();
    await waitForState(a.page, 'waiting');
    await b.page.getByTestId('start').click();
    const bothPressed = Date.now();

    const result: ScenarioResult = {
      scenario: s.name,
      labId: lab.id,
      nat: `${natLabel(s.a)} / ${natLabel(s.b)}`,
      connected: false,
      startToConnectedMs: null,
      startToFailedMs: null,
      connectingToFailedMs: null,
      pathA: '—',
      pathB: '—',
      framesDecodedA: 0,
      framesDecodedB: 0,
      statsA: null,
      statsB: null,
      callRecord: null,
      ui: null,
      sites: { a: { hostIp: siteA.hostIp, publicIp: siteA.publicIp }, b: { hostIp: siteB.hostIp, publicIp: siteB.publicIp } },
      notes: null,
      void: null,
    };

    if (s.expect === 'connected') {
      await Promise.all([
        waitForState(a.page, 'connected', connectTimeoutMs + 5000),
        waitForState(b.page, 'connected', connectTimeoutMs + 5000),
      ]);
      result.connected = true;
      result.startToConnectedMs = Date.now() - bothPressed;
      await Promise.all([waitForFrames(a.page), waitForFrames(b.page)]);
      if (s.during) result.notes = (await s.during({ lab, server, a, b, sites: { a: siteA, b: siteB } })) || null;
      // Let media flow for a moment, so the frame counts say more than "the first frame arrived".
      await new Promise((r) => setTimeout(r, MEDIA_HOLD_MS));
      let [statsA, statsB] = await Promise.all([pathStats(a.page), pathStats(b.page)]);
      if (s.relayed) {
        // A pair through the relay over the other transport can be nominated first (its check came
        // back first); ICE moves to the better pair once that one answers. Wait for it, bounded.
        const settled = () => [statsA, statsB].every((st) => st.local?.type !== 'relay' || st.local.relayProtocol === s.relayed);
        const first = Date.now();
        const deadline = first + RELAY_SETTLE_MS;
        let waited = false;
        while (!settled() && Date.now() < deadline) {
          waited = true;
          await new Promise((r) => setTimeout(r, 250));
          [statsA, statsB] = await Promise.all([pathStats(a.page), pathStats(b.page)]);
        }
        if (waited) {
          const allocations = `relay allocations a: ${statsA.localRelayProtocols.join('+') || 'none'}, b: ${statsB.localRelayProtocols.join('+') || 'none'}`;
          result.notes = `pair moved to relay over ${s.relayed} ${settled() ? `after ${Date.now() - first} ms` : 'never'}; ${allocations}`;
        }
      }
      Object.assign(result, {
        statsA,
        statsB,
        pathA: pathLabel(statsA),
        pathB: pathLabel(statsB),
        framesDecodedA: statsA.framesDecoded,
        framesDecodedB: statsB.framesDecoded,
      });
      // End the call the way a person does, so the call record says `leave`.
      await a.page.getByTestId('stop').click();
      await waitForState(b.page, 'waiting');
    } else {
      const [uiA, uiB] = await Promise.all([
        waitForIceFailed(a.page, connectTimeoutMs + 5000),
        waitForIceFailed(b.page, connectTimeoutMs + 5000),
      ]);
      result.startToFailedMs = Date.now() - bothPressed;
      result.ui = { a: uiA, b: uiB };
      result.connectingToFailedMs = [];
      for (const page of [a.page, b.page]) {
        const log = await page.evaluate(() => (window as unknown as { __statusLog: StatusSnapshot[] }).__statusLog);
        // Nothing connected at any point, on either side.
        if (log.some((x) => x.state === 'connected'))
          throw new Error(`a page showed connected in an ice_failed scenario: ${JSON.stringify(log)}`);
        // How long the page said "Connecting…" before it said "Couldn’t connect".
        const connecting = log.find((x) => x.state === 'connecting');
        const failed = log.find((x) => x.reason === 'ice_failed' && x.couldntConnect);
        if (connecting && failed) result.connectingToFailedMs.push(Math.round(failed.t - connecting.t));
      }
      const [statsA, statsB] = await Promise.all([pathStats(a.page), pathStats(b.page)]);
      Object.assign(result, { statsA, statsB, framesDecodedA: statsA.framesDecoded, framesDecodedB: statsB.framesDecoded });
    }

    for (const p of peers.splice(0)) await p.close();
    result.void = await lab.voidCounters();
    await server.stop();
    result.callRecord = readCallRecord(server.dataDir);
    return result;
  } catch (err) {
    for (const [i, p] of peers.entries()) {
      await screenshotTo(p.page, `netlab-${slug(s.name)}-${i === 0 ? 'a' : 'b'}`).catch(() => undefined);
    }
    if (server) {
      const tail = server.process.lines.slice(-15).join('\n');
      (err as Error).message += `\n--- server log (last lines) ---\n${tail}`;
    }
    throw err;
  } finally {
    // Browsers first (their signaling sockets close cleanly), then the lab and its processes.
    await Promise.all(peers.map((p) => p.close()));
    await stun?.stop();
    await lab.destroy();
  }
}

function slug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

async function screenshotTo(page: Page, name: string): Promise<void> {
  const dir = path.join(ROOT, 'test-results');
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), timeout: 5000 });
}

export function resultsTable(results: ScenarioResult[]): string {
  const rows = [
    '| scenario | NAT (a / b) | connected | Start → connected | selected pair a (local → remote) | selected pair b (local → remote) | frames decoded a / b | notes |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const failed = r.connectingToFailedMs?.length
      ? ` (“Connecting…” → “Couldn’t connect”: ${r.connectingToFailedMs.map((ms) => `${ms} ms`).join(' / ')})`
      : '';
    const connected = r.connected ? 'yes' : r.startToFailedMs !== null ? `no — ice_failed${failed}` : 'no';
    rows.push(
      `| ${r.scenario} | ${r.nat} | ${connected} | ${r.startToConnectedMs !== null ? `${r.startToConnectedMs} ms` : '—'} | ${r.pathA} | ${r.pathB} | ${r.framesDecodedA} / ${r.framesDecodedB} | ${r.notes ?? ''} |`,
    );
  }
  return rows.join('\n');
}

export function writeResults(results: ScenarioResult[]): string {
  const dir = path.join(ROOT, 'test-results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'netlab.json'), JSON.stringify(results, null, 2));
  const table = resultsTable(results);
  fs.writeFileSync(path.join(dir, 'netlab.md'), `${table}\n`);
  return table;
}
