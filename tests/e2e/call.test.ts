import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { expectFramesDecoded, finish, meet, screenshot, status, useDuet, waitForState } from './harness.js';

// Graceful shutdown exits cleanly.
const duet = useDuet({ expectCleanExit: true });

describe('two strangers in real Chromium', () => {
  it('meet, see and hear each other, chat, skip to a third person and stop', async () => {
    const [alice, bob] = await duet.pair();
    // Presence is pushed at most once a second.
    await expect.poll(() => alice.page.getByTestId('online-count').textContent(), { timeout: 5_000 }).toMatch(/\b2 online/);
    await screenshot(alice.page, 'desktop-ready');

    // Both press Start; measure until both sides show `connected`.
    const { callId, ms } = await meet(alice, bob);
    console.log(`[e2e] Start (both pressed) -> connected: ${ms} ms`);

    // Media really flows both ways: each side decodes the other's video and receives audio.
    const [aliceIn, bobIn] = await Promise.all([expectFramesDecoded(alice.page), expectFramesDecoded(bob.page)]);
    expect(aliceIn.audioPacketsReceived).toBeGreaterThan(0);
    expect(bobIn.audioPacketsReceived).toBeGreaterThan(0);
    const remoteWidth = await alice.page.getByTestId('remote-video').evaluate((v: HTMLVideoElement) => v.videoWidth);
    expect(remoteWidth).toBeGreaterThan(0);

    // Audio-first: the voice has the higher send priority.
    const priorities = await alice.page.evaluate(() => {
      const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
      return pcs[pcs.length - 1]!.getSenders().map((s) => ({ kind: s.track?.kind, priority: s.getParameters().encodings?.[0]?.priority }));
    });
    expect(priorities).toContainEqual({ kind: 'audio', priority: 'high' });

    await screenshot(alice.page, 'desktop-connected');

    // A chat message crosses.
    await alice.page.getByTestId('chat-input').fill('hello from alice');
    await alice.page.getByTestId('chat-send').click();
    await expect.poll(() => bob.page.getByTestId('chat-log').textContent(), { timeout: 5_000 }).toContain('hello from alice');

    // A third person waits; Alice presses Next and meets her.
    const carol = await duet.person();
    await carol.page.getByTestId('start').click();
    await waitForState(carol.page, 'waiting');
    await alice.page.getByTestId('next').click();
    await Promise.all([waitForState(alice.page, 'connected'), waitForState(carol.page, 'connected')]);
    const secondCall = await status(alice.page).getAttribute('data-call-id');
    expect(secondCall).not.toBe(callId);
    expect(await status(carol.page).getAttribute('data-call-id')).toBe(secondCall);
    await expectFramesDecoded(carol.page);
    // Bob was left: told why, and back in the queue (not matched with Alice again).
    await waitForState(bob.page, 'waiting');
    expect(await status(bob.page).getAttribute('data-end-reason')).toBe('next');
    expect(await status(bob.page).getAttribute('data-ended-by')).toBe('partner');
    await screenshot(bob.page, 'desktop-partner-moved-on');

    // Carol presses Stop: Alice's call ends with reason `leave`, and Alice goes back to waiting.
    await carol.page.getByTestId('stop').click();
    await waitForState(carol.page, 'ended');
    await waitForState(alice.page, 'waiting');
    expect(await status(alice.page).getAttribute('data-end-reason')).toBe('leave');
    expect(await status(alice.page).getAttribute('data-ended-by')).toBe('partner');

    // The call records say the same.
    const db = new Database(path.join(duet.server.dataDir, 'duet.sqlite'), { readonly: true });
    try {
      const rows = db.prepare('SELECT id, state, end_reason, connected_at, ended_at FROM calls ORDER BY matched_at').all() as Array<
        Record<string, unknown>
      >;
      expect(rows.map((r) => [r.id, r.state, r.end_reason])).toEqual([
        [callId, 'ended', 'next'],
        [secondCall, 'ended', 'leave'],
      ]);
      for (const r of rows) expect(r.connected_at).toBeTypeOf('number');
      // Both browsers uploaded quality samples, including the final one, and said how media travelled.
      const first = db.prepare('SELECT a_path, b_path FROM calls WHERE id = ?').get(callId) as { a_path: string; b_path: string };
      for (const path of [first.a_path, first.b_path]) {
        expect(JSON.parse(path)).toMatchObject({ local: expect.stringMatching(/^(host|srflx|prflx|relay)$/), protocol: 'udp' });
      }
      const samples = db
        .prepare('SELECT side, final, rtt_ms, inbound_kbps FROM call_quality WHERE call_id = ? ORDER BY at')
        .all(callId) as Array<Record<string, number | string>>;
      expect(new Set(samples.map((x) => x.side))).toEqual(new Set(['a', 'b']));
      expect(samples.filter((x) => x.final === 1).length).toBe(2);
      expect(samples.some((x) => typeof x.rtt_ms === 'number')).toBe(true);
    } finally {
      db.close();
    }

    await finish(alice, bob, carol);
  });
});
