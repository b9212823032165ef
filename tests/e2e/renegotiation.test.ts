import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { expectFramesDecoded, finish, inboundMedia, meet, useDuet } from './harness.js';

const duet = useDuet({ expectCleanExit: true });

/** The newest peer connection's negotiation state and how many offers the page has sent. */
function negotiation(page: Page): Promise<{ signaling: string; offersSent: number; offersDropped: number }> {
  return page.evaluate(() => {
    const w = window as unknown as { __pcs: RTCPeerConnection[]; __offers?: { sent: number; dropped: number } };
    return {
      signaling: w.__pcs[w.__pcs.length - 1]!.signalingState,
      offersSent: w.__offers?.sent ?? 0,
      offersDropped: w.__offers?.dropped ?? 0,
    };
  });
}

/**
 * Counts the offers the page sends on its signaling socket and, while `drop` is set, loses them
 * on the way out — as a socket that died mid-call loses what was sent into it.
 */
function watchOffers(page: Page, drop: boolean): Promise<void> {
  return page.evaluate((dropping) => {
    const w = window as unknown as { __offers?: { sent: number; dropped: number; drop: boolean } };
    if (!w.__offers) {
      const offers = { sent: 0, dropped: 0, drop: false };
      w.__offers = offers;
      const send = WebSocket.prototype.send;
      WebSocket.prototype.send = function (this: WebSocket, data: Parameters<WebSocket['send']>[0]) {
        const isOffer = typeof data === 'string' && data.includes('"type":"signal"') && data.includes('"type":"offer"');
        if (isOffer) offers.sent++;
        if (isOffer && offers.drop) {
          offers.dropped++;
          return;
        }
        send.call(this, data);
      };
    }
    w.__offers.drop = dropping;
  }, drop);
}

describe('renegotiation mid-call', () => {
  it('sends an offer lost on the way again, so later negotiations still go through', async () => {
    const [alice, bob] = await duet.pair();
    await meet(alice, bob);
    await Promise.all([expectFramesDecoded(alice.page), expectFramesDecoded(bob.page)]);

    // Alice restarts ICE (what a network change does) and her offer is lost.
    await watchOffers(alice.page, true);
    await alice.page.evaluate(() => {
      const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
      pcs[pcs.length - 1]!.restartIce();
    });
    await expect
      .poll(() => negotiation(alice.page), { timeout: 10_000 })
      .toMatchObject({ signaling: 'have-local-offer', offersDropped: 1 });

    // Its way clear again, the unanswered offer goes again and is answered.
    await watchOffers(alice.page, false);
    await expect.poll(() => negotiation(alice.page), { timeout: 15_000 }).toMatchObject({ signaling: 'stable' });
    const { offersSent } = await negotiation(alice.page);
    expect(offersSent).toBeGreaterThanOrEqual(2);

    // The next negotiation is not blocked behind it: another restart completes, and the call goes on.
    await alice.page.evaluate(() => {
      const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
      pcs[pcs.length - 1]!.restartIce();
    });
    await expect.poll(async () => (await negotiation(alice.page)).offersSent, { timeout: 10_000 }).toBeGreaterThan(offersSent);
    await expect.poll(() => negotiation(alice.page), { timeout: 15_000 }).toMatchObject({ signaling: 'stable' });
    expect((await negotiation(bob.page)).signaling).toBe('stable');
    const before = await inboundMedia(bob.page);
    await expect
      .poll(async () => (await inboundMedia(bob.page)).framesDecoded, { timeout: 10_000 })
      .toBeGreaterThan(before.framesDecoded + 10);
    // Nobody saw an error: the duplicate answers a re-sent offer may draw are ignored.
    await finish(alice, bob);
  });
});
