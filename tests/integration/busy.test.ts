/**
 * A saturated node refuses newcomers politely (issue 12): while its event loop runs late, a new
 * session and a new socket get `503 server_busy` with a retry-after, before any work is done for
 * them; people already under way are never refused; and the SDK waits what the server asks and
 * tries again. Saturation is made by blocking the event loop the test shares with the server.
 */
import { CLOSE } from '@duet/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { DuetApi } from '../../packages/client/src/api.js';
import { SignalConnection } from '../../packages/client/src/signalConnection.js';
import { useTestServer } from './harness.js';

// Late by more than 50 ms counts as saturated; refusals ask for 100–200 ms.
const server = useTestServer({ env: { BUSY_LAG_MS: '50', BUSY_RETRY_AFTER_MS: '100' } });

/**
 * Holds the event loop (server and test alike) for `ms`, then lets the server's load gauge take its
 * overdue tick (a timer set after the stall fires after it), so the next request meets a late loop.
 */
async function stall(ms: number): Promise<void> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy: nothing else runs
  }
  await new Promise((r) => setTimeout(r, 0));
}

/** Lets the gauge see the loop on time again (a stall's lag halves every 50 ms tick). */
const settle = () => new Promise((r) => setTimeout(r, 400));

afterEach(async () => {
  vi.restoreAllMocks();
  await settle();
});

describe('a saturated node', () => {
  it('answers a new session 503 server_busy with Retry-After and the wait in the body', async () => {
    await stall(400);
    const res = await fetch(`${server().httpUrl}/api/session`, { method: 'POST' });
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: string; message: string; retryAfterMs: number } };
    expect(body.error.code).toBe('server_busy');
    expect(body.error.message).toMatch(/busy/);
    expect(body.error.retryAfterMs).toBeGreaterThanOrEqual(100);
    expect(body.error.retryAfterMs).toBeLessThanOrEqual(200);
    expect(Number(res.headers.get('retry-after'))).toBe(1);
  });

  it('refuses a new socket at the upgrade, before any handshake work', async () => {
    await stall(400);
    const ws = new WebSocket(server().wsUrl);
    const answer = await new Promise<{ status: number; retryAfter: string | undefined }>((resolve, reject) => {
      ws.on('unexpected-response', (_req, res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined });
      });
      ws.on('open', () => reject(new Error('the upgrade was accepted')));
      ws.on('error', () => undefined);
    });
    ws.terminate();
    expect(answer).toEqual({ status: 503, retryAfter: '1' });
  });

  it('never refuses someone already under way (accepting the rules)', async () => {
    const s = server();
    const { token } = await s.guest({ acceptRules: false });
    await stall(400);
    const res = await s.request('POST', '/api/rules/accept', { token, json: { adult: true, rulesVersion: 1 } });
    expect(res.status).toBe(204);
  });

  it('takes newcomers again once the loop is on time', async () => {
    await stall(400);
    await new Promise((r) => setTimeout(r, 400));
    const res = await server().request('POST', '/api/session');
    expect(res.status).toBe(200);
  });
});

describe('the SDK and a saturated node', () => {
  it('DuetApi waits the retry-after it is given and tries the session again', async () => {
    const statuses: number[] = [];
    const realFetch = globalThis.fetch;
    vi.spyOn(globalThis, 'fetch').mockImplementation(async (...args: Parameters<typeof fetch>) => {
      const res = await realFetch(...args);
      statuses.push(res.status);
      return res;
    });
    const api = new DuetApi(new URL(server().httpUrl));
    await stall(400);
    const t0 = performance.now();
    const session = await api.session(undefined, 'device-busy-0001');
    expect(session.token).toEqual(expect.any(String));
    expect(statuses[0]).toBe(503);
    expect(statuses.at(-1)).toBe(200);
    // At least the smallest retry-after was waited before trying again.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(100);
  });

  it('DuetApi gives up after its retries with the server_busy code', async () => {
    vi.spyOn(globalThis, 'fetch').mockImplementation(
      async () =>
        new Response(JSON.stringify({ error: { code: 'server_busy', message: 'busy', retryAfterMs: 1 } }), {
          status: 503,
          headers: { 'content-type': 'application/json', 'retry-after': '1' },
        }),
    );
    const api = new DuetApi(new URL(server().httpUrl), { busyRetries: 2 });
    await expect(api.session(undefined, 'device-busy-0002')).rejects.toMatchObject({ code: 'server_busy' });
    expect(globalThis.fetch).toHaveBeenCalledTimes(3);
  });

  it('SignalConnection refused at the upgrade reconnects and is welcomed', async () => {
    const s = server();
    const guest = await s.guest();
    const conn = new SignalConnection({
      baseUrl: new URL(s.httpUrl),
      token: () => guest.token,
      createSocket: (url) => {
        const ws = new WebSocket(url);
        // A browser reports a refused upgrade as a close (1006); `ws` also raises an error event.
        ws.on('error', () => undefined);
        return ws as unknown as globalThis.WebSocket;
      },
      reconnectDelaysMs: [150],
    });
    const closes: number[] = [];
    conn.on('closed', (c) => closes.push(c.code));
    const welcomed = new Promise<void>((resolve) => conn.on('status', (st) => st === 'open' && resolve()));
    await stall(400);
    await conn.open().catch(() => undefined); // the first attempt is refused
    await welcomed;
    expect(closes[0]).not.toBe(CLOSE.normal);
    expect(conn.status).toBe('open');
    conn.close();
  });
});
