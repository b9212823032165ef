/**
 * A peer in the NAT lab: its own headless Chromium running inside its site's LAN host namespace,
 * with the web app open on the Duet server's public address.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, getReady, openPerson, type Person } from '../e2e/harness.js';
import { PUBLIC_IP, ROOT, type Lab, type Site } from './lab.js';

export interface Peer extends Person {
  site: Site;
  browser: Browser;
  close(): Promise<void>;
}

/**
 * Launches Chromium inside `site.hostNs` and opens the web app from `origin`, ready to press Start
 * (rules accepted, camera open, signaling up).
 */
export async function openPeer(lab: Lab, site: Site, origin: string): Promise<Peer> {
  const browser = await chromium.launch({
    executablePath: lab.chromiumLauncher(site.hostNs),
    args: [
      ...CHROMIUM_ARGS,
      // No DNS lookup may leave the lab: every host name fails to resolve; the lab uses addresses.
      `--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE ${PUBLIC_IP}`,
      // The page is plain HTTP on a non-local address; camera access needs a secure context.
      // (Playwright passes its own fresh --user-data-dir, which this flag needs.)
      `--unsafely-treat-insecure-origin-as-secure=${origin}`,
    ],
    timeout: 30_000,
  });
  try {
    const person = await openPerson(browser, origin, { permissions: null });
    fs.mkdirSync(path.join(ROOT, 'test-results'), { recursive: true });
    await getReady(person.page).catch(async (err: unknown) => {
      // What the page showed instead of the Start button, and what it complained about.
      await person.page
        .screenshot({ path: path.join(ROOT, 'test-results', `netlab-not-ready-${site.hostNs}.png`), timeout: 5000 })
        .catch(() => undefined);
      (err as Error).message += `\npage errors: ${JSON.stringify(person.errors)}`;
      throw err;
    });
    return {
      ...person,
      site,
      browser,
      close: async () => {
        await browser.close().catch(() => undefined);
      },
    };
  } catch (err) {
    await browser.close().catch(() => undefined);
    throw err;
  }
}

export interface CandidateInfo {
  type: string;
  protocol: string;
  address: string;
  port: number;
  relayProtocol?: string;
}

export interface PathStats {
  iceConnectionState: string;
  local: CandidateInfo | null;
  remote: CandidateInfo | null;
  framesDecoded: number;
  audioPacketsReceived: number;
  /** Every remote candidate the browser knows of (signaled or peer-reflexive). */
  remoteCandidates: Array<{ type: string; address: string }>;
  /** Every IPv4 address in the partner's session description (candidates and c= lines). */
  remoteSdpAddresses: string[];
  /** The transports (udp, tcp, tls) over which this browser got a relay allocation. */
  localRelayProtocols: string[];
}

/**
 * getStats() of the page's newest RTCPeerConnection (captured by the e2e harness' init script):
 * the selected candidate pair — from the transport's selectedCandidatePairId, else the nominated
 * succeeded pair — and what arrived from the partner.
 */
export function pathStats(page: Page): Promise<PathStats> {
  return page.evaluate(async () => {
    const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
    const pc = pcs[pcs.length - 1];
    if (!pc)
      return {
        iceConnectionState: 'none',
        local: null,
        remote: null,
        framesDecoded: 0,
        audioPacketsReceived: 0,
        remoteCandidates: [],
        remoteSdpAddresses: [],
        localRelayProtocols: [],
      };
    const stats = await pc.getStats();
    const byId = new Map<string, Record<string, unknown>>();
    stats.forEach((s: Record<string, unknown>) => byId.set(s.id as string, s));
    let pair: Record<string, unknown> | undefined;
    let framesDecoded = 0;
    let audioPacketsReceived = 0;
    const remoteCandidates: Array<{ type: string; address: string }> = [];
    const localRelayProtocols = new Set<string>();
    stats.forEach((s: Record<string, unknown>) => {
      if (s.type === 'local-candidate' && s.candidateType === 'relay' && s.relayProtocol) localRelayProtocols.add(String(s.relayProtocol));
      if (s.type === 'remote-candidate') remoteCandidates.push({ type: String(s.candidateType), address: String(s.address ?? s.ip ?? '') });
      if (s.type === 'transport' && typeof s.selectedCandidatePairId === 'string') pair = byId.get(s.selectedCandidatePairId);
      if (s.type === 'inbound-rtp' && s.kind === 'video') framesDecoded += Number(s.framesDecoded ?? 0);
      if (s.type === 'inbound-rtp' && s.kind === 'audio') audioPacketsReceived += Number(s.packetsReceived ?? 0);
    });
    if (!pair) {
      stats.forEach((s: Record<string, unknown>) => {
        if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s;
      });
    }
    const candidate = (id: unknown) => {
      const c = typeof id === 'string' ? byId.get(id) : undefined;
      if (!c) return null;
      return {
        type: String(c.candidateType),
        protocol: String(c.protocol),
        address: String(c.address ?? c.ip ?? ''),
        port: Number(c.port),
        ...(c.relayProtocol ? { relayProtocol: String(c.relayProtocol) } : {}),
      };
    };
    return {
      iceConnectionState: pc.iceConnectionState,
      local: candidate(pair?.localCandidateId),
      remote: candidate(pair?.remoteCandidateId),
      framesDecoded,
      audioPacketsReceived,
      remoteCandidates,
      remoteSdpAddresses: [...new Set(pc.remoteDescription?.sdp.match(/\b\d{1,3}(?:\.\d{1,3}){3}\b/g) ?? [])],
      localRelayProtocols: [...localRelayProtocols],
    };
  });
}

/** Polls until the partner's video has decoded frames (bounded); returns the last stats seen. */
export async function waitForFrames(page: Page, timeoutMs = 15_000): Promise<PathStats> {
  const deadline = Date.now() + timeoutMs;
  let last = await pathStats(page);
  while (last.framesDecoded === 0 && Date.now() < deadline) {
    await page.waitForTimeout(250);
    last = await pathStats(page);
  }
  return last;
}

/** "srflx/udp" style label of a candidate, with the relay's transport when relayed. */
export function describeCandidate(c: CandidateInfo | null): string {
  if (!c) return '—';
  return c.type === 'relay' && c.relayProtocol ? `relay(${c.relayProtocol})/${c.protocol}` : `${c.type}/${c.protocol}`;
}
