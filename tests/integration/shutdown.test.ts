import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { connectCall, matchPair, TestServer } from './harness.js';

interface CallRow {
  id: string;
  user_a: string;
  user_b: string;
  state: string;
  matched_at: number;
  connecting_at: number | null;
  connected_at: number | null;
  ended_at: number | null;
  end_reason: string | null;
  ended_by: string | null;
}

/** Reads the call records straight from the SQLite file the server left behind. */
function readCalls(dataDir: string): Map<string, CallRow> {
  const db = new Database(path.join(dataDir, 'duet.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT * FROM calls').all() as CallRow[];
    return new Map(rows.map((r) => [r.id, r]));
  } finally {
    db.close();
  }
}

describe('graceful shutdown', () => {
  // This server is closed by the test itself, so it is one per test rather than one per file.
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it('tells people in a call server_shutdown before closing, and flushes every call record', async () => {
    server = await TestServer.start({ storage: 'file' });
    const s = server;

    // A normal call, connected and then stopped by A.
    const a = await s.client('A');
    const b = await s.client('B');
    const first = await matchPair(a, b);
    await connectCall(first);
    a.send({ type: 'leave' });
    await a.next('call_ended');
    await b.next('call_ended');

    // B is requeued and meets C; that call is live when the server shuts down.
    await b.next('queued');
    const c = await s.client('C');
    c.send({ type: 'join' });
    const [bm, cm] = await Promise.all([b.next('matched'), c.next('matched')]);
    expect(bm.callId).toBe(cm.callId);
    const second = { offerer: bm.role === 'offerer' ? b : c, answerer: bm.role === 'offerer' ? c : b, callId: bm.callId };
    await connectCall(second);

    const closing = s.duet.close();
    for (const client of [b, c]) {
      const ended = await client.next('call_ended');
      expect(ended).toEqual({ type: 'call_ended', callId: second.callId, reason: 'server_shutdown', by: 'server', then: 'idle' });
      expect((await client.waitForClose()).code).toBe(1001);
      // The goodbye came before the close, and nothing after it.
      expect(client.received.at(-1)).toEqual(ended);
    }
    expect((await a.waitForClose()).code).toBe(1001);
    await closing;

    const calls = readCalls(s.dataDir);
    const normal = calls.get(first.callId);
    expect(normal).toMatchObject({ state: 'ended', end_reason: 'leave', ended_by: a.userId });
    expect([normal?.user_a, normal?.user_b].sort()).toEqual([a.userId, b.userId].sort());
    const { matched_at, connecting_at, connected_at, ended_at } = normal!;
    expect(connecting_at).not.toBeNull();
    expect(connected_at).not.toBeNull();
    expect(ended_at).not.toBeNull();
    expect(matched_at <= connecting_at! && connecting_at! <= connected_at! && connected_at! <= ended_at!).toBe(true);

    expect(calls.get(second.callId)).toMatchObject({
      state: 'ended',
      end_reason: 'server_shutdown',
      ended_by: null,
      connected_at: expect.any(Number),
      ended_at: expect.any(Number),
    });
  });
});
