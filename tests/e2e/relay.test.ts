import dgram from 'node:dgram';
import net from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectFramesDecoded, getReady, inboundMedia, launchBrowser, openPerson, startServer, waitForState, type RunningServer } from './harness.js';

/**
 * A real relayed call: Duet starts and supervises coturn (managed mode), hands each browser its own
 * TURN credentials, and with IP privacy on the browsers gather only relay candidates. On one machine
 * the relay's peers are loopback addresses, which production denies; the test allows them.
 */
let server: RunningServer;
const ADMIN = 'relay-e2e-admin-token-0123456789';
let browser: Browser;

/** A port free for both UDP and TCP on 127.0.0.1 (the relay listens on both), with room above it. */
async function freePort(): Promise<number> {
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
        r();
      }
    });
    if (ok) return port;
  }
  throw new Error('no free port for the relay');
}

beforeAll(async () => {
  const port = await freePort();
  server = await startServer({
    TURN_MODE: 'managed',
    TURN_PORT: String(port),
    TURN_MIN_PORT: String(port + 1),
    TURN_MAX_PORT: String(port + 200),
    TURN_LISTEN_IPS: '127.0.0.1',
    TURN_HOST: '127.0.0.1',
    TURN_ALLOW_LOOPBACK_PEERS: 'true',
    RELAY_ONLY: 'true',
    ADMIN_TOKEN: ADMIN,
    // Rotate the relay secret during the test: live calls must not notice, new ones use the new secret.
    TURN_SECRET_ROTATE_S: '6',
  });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('relay (managed coturn) and IP privacy', () => {
  it('connects two browsers through TURN, and neither learns any address but the relay’s', async () => {
    const health = (await (await fetch(`${server.url}/healthz`)).json()) as { relay: { mode: string; state: string } };
    expect(health.relay).toEqual({ mode: 'managed', state: 'running' });

    const alice = await openPerson(browser, server.url);
    const bob = await openPerson(browser, server.url);
    await Promise.all([getReady(alice.page), getReady(bob.page)]);
    await alice.page.getByTestId('start').click();
    await waitForState(alice.page, 'waiting');
    await bob.page.getByTestId('start').click();
    const pressed = performance.now();
    await Promise.all([waitForState(alice.page, 'connected', 40_000), waitForState(bob.page, 'connected', 40_000)]);
    console.log(`[e2e] relayed call: Start (both pressed) -> connected: ${Math.round(performance.now() - pressed)} ms`);

    for (const person of [alice, bob]) {
      const media = await expectFramesDecoded(person.page);
      expect(media.localCandidateType).toBe('relay');
      // Everything the partner told this browser about itself is a relay address.
      const remote = await person.page.evaluate(async () => {
        const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
        const pc = pcs[pcs.length - 1]!;
        const types: string[] = [];
        (await pc.getStats()).forEach((s: { type: string; candidateType?: string }) => {
          if (s.type === 'remote-candidate' && s.candidateType) types.push(s.candidateType);
        });
        const sdpTypes = [...(pc.remoteDescription?.sdp ?? '').matchAll(/typ (\w+)/g)].map((m) => m[1]);
        return { types, sdpTypes, policy: pc.getConfiguration().iceTransportPolicy };
      });
      expect(remote.policy).toBe('relay');
      expect(remote.types.length).toBeGreaterThan(0);
      expect(new Set([...remote.types, ...remote.sdpTypes])).toEqual(new Set(['relay']));
    }
    expect((await inboundMedia(alice.page)).audioPacketsReceived).toBeGreaterThan(0);

    // The secret rotates (without restarting coturn); a new call connects with the new secret and the
    // first call keeps flowing.
    const framesBefore = (await inboundMedia(bob.page)).framesDecoded;
    const rotated = Date.now() + 15_000;
    while (!server.logs.some((l) => l.msg === 'relay secret rotated') && Date.now() < rotated) await alice.page.waitForTimeout(200);
    expect(server.logs.some((l) => l.msg === 'relay secret rotated')).toBe(true);
    const carol = await openPerson(browser, server.url);
    const dave = await openPerson(browser, server.url);
    await Promise.all([getReady(carol.page), getReady(dave.page)]);
    await carol.page.getByTestId('start').click();
    await waitForState(carol.page, 'waiting');
    await dave.page.getByTestId('start').click();
    await Promise.all([waitForState(carol.page, 'connected'), waitForState(dave.page, 'connected')]);
    expect((await expectFramesDecoded(dave.page)).localCandidateType).toBe('relay');
    expect(await alice.page.getByTestId('call-status').getAttribute('data-state')).toBe('connected');
    expect((await inboundMedia(bob.page)).framesDecoded).toBeGreaterThan(framesBefore);

    const callId = await alice.page.getByTestId('call-status').getAttribute('data-call-id');
    for (const p of [alice, bob, carol, dave]) {
      expect(p.errors).toEqual([]);
      await p.context.close();
    }

    // The relayed bytes on the call's record are coturn's own accounting (its usage reports, sent
    // as allocations close), not what the browsers said.
    const detail = async () =>
      (await (await fetch(`${server.url}/api/admin/calls/${callId}`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { relayed: boolean; bytesRelayed: number | null };
    const booked = Date.now() + 20_000;
    while (!(await detail()).relayed && Date.now() < booked) await new Promise((r) => setTimeout(r, 250));
    const call = await detail();
    console.log(`[e2e] relayed call booked from coturn: ${call.bytesRelayed} bytes`);
    expect(call.relayed).toBe(true);
    expect(call.bytesRelayed).toBeGreaterThan(100_000);
    expect(server.logs.some((l) => /relay usage.*capped/.test(String(l.msg)))).toBe(false);
  });
});
