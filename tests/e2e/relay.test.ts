import { describe, expect, it } from 'vitest';
import { expectFramesDecoded, finish, freePort, inboundMedia, meet, useDuet, waitForState } from './harness.js';

/**
 * A real relayed call: Duet starts and supervises coturn (managed mode), hands each browser its own
 * TURN credentials, and with IP privacy on the browsers gather only relay candidates. On one machine
 * the relay's peers are loopback addresses, which production denies; the test allows them.
 */
const ADMIN = 'relay-e2e-admin-token-0123456789';

const duet = useDuet({
  env: async () => {
    const port = await freePort();
    return {
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
    };
  },
});

describe('relay (managed coturn) and IP privacy', () => {
  it('connects two browsers through TURN, and neither learns any address but the relay’s', async () => {
    const { server } = duet;
    const health = (await (await fetch(`${server.url}/healthz`)).json()) as { relay: { mode: string; state: string } };
    expect(health.relay).toEqual({ mode: 'managed', state: 'running' });

    const [alice, bob] = await duet.pair();
    const { callId, ms } = await meet(alice, bob, 40_000);
    console.log(`[e2e] relayed call: Start (both pressed) -> connected: ${ms} ms`);

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
    await server.waitForLog('relay secret rotated');
    const [carol, dave] = await duet.pair();
    await meet(carol, dave);
    expect((await expectFramesDecoded(dave.page)).localCandidateType).toBe('relay');
    expect(await alice.page.getByTestId('call-status').getAttribute('data-state')).toBe('connected');
    expect((await inboundMedia(bob.page)).framesDecoded).toBeGreaterThan(framesBefore);

    // Stop closes the peer connections, so the browsers release their allocations and coturn
    // reports their usage now (a closed profile may leave them to lapse, minutes later).
    for (const [stopper, partner] of [
      [alice, bob],
      [carol, dave],
    ] as const) {
      await stopper.page.getByTestId('stop').click();
      await waitForState(stopper.page, 'ended');
      await waitForState(partner.page, 'waiting');
      await partner.page.getByTestId('stop').click();
      await waitForState(partner.page, 'idle');
    }
    await finish(alice, bob, carol, dave);

    // The relayed bytes on the call's record are coturn's own accounting (its usage reports, sent
    // as allocations close), not what the browsers said.
    const detail = async () =>
      (await (await fetch(`${server.url}/api/admin/calls/${callId}`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as {
        relayed: boolean;
        bytesRelayed: number | null;
      };
    await expect.poll(async () => (await detail()).relayed, { timeout: 20_000, interval: 250 }).toBe(true);
    const call = await detail();
    console.log(`[e2e] relayed call booked from coturn: ${call.bytesRelayed} bytes`);
    expect(call.bytesRelayed).toBeGreaterThan(100_000);
    expect(server.logs.some((l) => /relay usage.*capped/.test(String(l.msg)))).toBe(false);
  });
});
