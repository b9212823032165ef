import { CLOSE, PROTOCOL_VERSION, retryAfterReason, type ServerMessage } from '@duet/protocol';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket, WebSocketServer, type WebSocket as ServerSocket } from 'ws';
import { DuetClientError } from './errors.js';
import { GAVE_UP, SignalConnection, type Liveness } from './signalConnection.js';

/** A loopback signaling server: records every hello, and lets each test decide how to answer it. */
class FakeServer {
  readonly wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  readonly hellos: Array<{ type: string; v: number; token?: string }> = [];
  readonly sockets: ServerSocket[] = [];
  /** What to do with each hello, in order; the last one repeats. */
  answers: Array<(socket: ServerSocket) => void> = [welcome];
  /** Whether `ping` gets its `pong` (a silent server is one whose path went away without a close). */
  pongs = true;
  pings = 0;
  #waiters: Array<() => void> = [];

  constructor() {
    this.wss.on('connection', (socket) => {
      this.sockets.push(socket);
      socket.on('message', (data) => {
        const m = JSON.parse(String(data)) as { type: string; v: number; token?: string };
        if (m.type === 'ping') {
          this.pings++;
          if (this.pongs) socket.send(JSON.stringify({ type: 'pong' } satisfies ServerMessage));
        }
        if (m.type !== 'hello') return;
        this.hellos.push(m);
        this.answers[Math.min(this.hellos.length - 1, this.answers.length - 1)]!(socket);
        for (const w of this.#waiters.splice(0)) w();
      });
    });
  }

  listening(): Promise<void> {
    return new Promise((resolve) => (this.wss.address() ? resolve() : this.wss.once('listening', () => resolve())));
  }

  get url(): URL {
    return new URL(`http://127.0.0.1:${(this.wss.address() as AddressInfo).port}`);
  }

  /** Resolves once `n` hellos have arrived. */
  async hellosReach(n: number): Promise<void> {
    while (this.hellos.length < n) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  close(): Promise<void> {
    for (const s of this.wss.clients) s.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}

function welcome(socket: ServerSocket): void {
  const m: ServerMessage = { type: 'welcome', v: PROTOCOL_VERSION, userId: 'u1', online: 1 };
  socket.send(JSON.stringify(m));
}

const closeWith = (code: number) => (socket: ServerSocket) => socket.close(code, 'test');

function connection(server: FakeServer, delays = [20, 40, 80], liveness?: Liveness) {
  const conn = new SignalConnection({
    ...(liveness ? { liveness } : {}),
    baseUrl: server.url,
    token: () => 'tok',
    // The `ws` client speaks the browser's WebSocket API (onopen/onmessage/onclose, readyState).
    createSocket: (url) => new NodeWebSocket(url) as unknown as WebSocket,
    reconnectDelaysMs: delays,
  });
  const statuses: string[] = [];
  const closes: Array<{ code: number; retryInMs: number | null }> = [];
  const messages: ServerMessage[] = [];
  const errors: DuetClientError[] = [];
  conn.on('status', (s) => statuses.push(s));
  conn.on('closed', (c) => closes.push(c));
  conn.on('message', (m) => messages.push(m));
  conn.on('error', (e) => errors.push(e));
  return { conn, statuses, closes, messages, errors };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(5);
  }
}

describe('SignalConnection', () => {
  let server: FakeServer;
  let opened: SignalConnection[];
  beforeEach(async () => {
    server = new FakeServer();
    opened = [];
    await server.listening();
  });
  afterEach(async () => {
    for (const c of opened) c.close();
    await server.close();
  });

  it('says hello with the token and protocol version, and is open once welcomed', async () => {
    const t = connection(server);
    opened.push(t.conn);
    await t.conn.open();
    expect(server.hellos).toEqual([{ type: 'hello', v: PROTOCOL_VERSION, token: 'tok' }]);
    expect(t.statuses).toEqual(['connecting', 'open']);
    expect(t.conn.isOpen).toBe(true);
    expect(t.messages.map((m) => m.type)).toEqual(['welcome']);
    expect(t.conn.send({ type: 'ping' })).toBe(true);
  });

  it('reconnects after a drop with growing backoff, and starts the backoff over once welcomed', async () => {
    const t = connection(server);
    opened.push(t.conn);
    await t.conn.open();
    // The server restarts (1001), then refuses twice by policy before welcoming again.
    server.answers = [welcome, closeWith(CLOSE.policy), closeWith(CLOSE.policy), welcome, closeWith(CLOSE.policy)];
    server.sockets[0]!.close(CLOSE.goingAway, 'restart');
    await server.hellosReach(4);
    await until(() => t.conn.status === 'open');
    expect(t.closes).toEqual([
      { code: CLOSE.goingAway, retryInMs: 20 },
      { code: CLOSE.policy, retryInMs: 40 },
      { code: CLOSE.policy, retryInMs: 80 },
    ]);
    // A welcome resets the backoff: the next drop waits the first delay again.
    server.sockets[3]!.close(CLOSE.goingAway, 'restart');
    await server.hellosReach(5);
    expect(t.closes[3]).toEqual({ code: CLOSE.goingAway, retryInMs: 20 });
    expect(t.statuses.slice(0, 3)).toEqual(['connecting', 'open', 'closed']);
  });

  it.each([
    ['unsupported version', CLOSE.unsupportedVersion, 'unsupported_version'],
    ['invalid token', CLOSE.invalidToken, 'invalid_token'],
    ['replaced by another tab', CLOSE.replaced, 'session_replaced'],
    ['banned', CLOSE.banned, 'banned'],
  ] as const)('does not retry after a final close (%s) and rejects open() with its catalogue code', async (_name, code, errorCode) => {
    server.answers = [closeWith(code)];
    const t = connection(server);
    opened.push(t.conn);
    const error = await t.conn.open().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DuetClientError);
    expect((error as DuetClientError).code).toBe(errorCode);
    expect(t.closes).toEqual([{ code, retryInMs: null }]);
    await sleep(150);
    expect(server.hellos).toHaveLength(1);
    expect(t.conn.status).toBe('closed');
  });

  it('retries after a hello timeout (4003), which a new socket can fix', async () => {
    server.answers = [closeWith(CLOSE.helloTimeout), welcome];
    const t = connection(server);
    opened.push(t.conn);
    await expect(t.conn.open()).rejects.toMatchObject({ code: 'not_authenticated' });
    await server.hellosReach(2);
    await until(() => t.conn.status === 'open');
    expect(t.closes).toEqual([{ code: CLOSE.helloTimeout, retryInMs: 20 }]);
  });

  it('turned away as busy (4005), waits the retry-after the server names, without growing the backoff', async () => {
    server.answers = [(socket) => socket.close(CLOSE.busy, retryAfterReason(30)), closeWith(CLOSE.policy), welcome];
    const t = connection(server);
    opened.push(t.conn);
    await expect(t.conn.open()).rejects.toMatchObject({ code: 'server_busy' });
    await server.hellosReach(3);
    await until(() => t.conn.status === 'open');
    // The busy close waited 30 ms as told; the next failure still starts the backoff at its first step.
    expect(t.closes).toEqual([
      { code: CLOSE.busy, retryInMs: 30 },
      { code: CLOSE.policy, retryInMs: 20 },
    ]);
  });

  it('closed by its owner, it stays closed and sends nothing', async () => {
    const t = connection(server);
    opened.push(t.conn);
    await t.conn.open();
    t.conn.close();
    await until(() => t.closes.length === 1);
    expect(t.closes[0]).toEqual({ code: CLOSE.normal, retryInMs: null });
    await sleep(100);
    expect(server.hellos).toHaveLength(1);
    expect(t.conn.send({ type: 'ping' })).toBe(false);
    t.conn.close(); // safe twice
  });

  it('drops a frame the protocol does not know, reports it, and stays open', async () => {
    const t = connection(server);
    opened.push(t.conn);
    await t.conn.open();
    server.sockets[0]!.send(JSON.stringify({ type: 'surprise' }));
    welcome(server.sockets[0]!);
    await until(() => t.messages.length === 2);
    expect(t.errors.map((e) => e.code)).toEqual(['network']);
    expect(t.conn.status).toBe('open');
  });

  describe('liveness', () => {
    const quick: Liveness = { askAfterMs: 100, deadAfterMs: 400, openTimeoutMs: 400 };

    it('asks a quiet server with ping, and keeps a socket that answers', async () => {
      const t = connection(server, [20], quick);
      opened.push(t.conn);
      await t.conn.open();
      await sleep(1000);
      expect(server.pings).toBeGreaterThanOrEqual(2);
      expect(server.hellos).toHaveLength(1);
      expect(t.closes).toEqual([]);
    });

    it('gives up a socket that stopped answering (no close ever came) and reconnects', async () => {
      const t = connection(server, [20], quick);
      opened.push(t.conn);
      await t.conn.open();
      server.pongs = false;
      await server.hellosReach(2);
      expect(t.closes[0]).toEqual({ code: GAVE_UP, retryInMs: 20 });
      expect(server.pings).toBeGreaterThanOrEqual(1);
      // Whatever the abandoned socket says afterwards changes nothing.
      welcome(server.sockets[0]!);
      await until(() => t.conn.status === 'open');
      expect(t.messages.filter((m) => m.type === 'welcome')).toHaveLength(2);
    });

    it('gives up a handshake that is never welcomed, and tries again', async () => {
      server.answers = [() => undefined, welcome];
      const t = connection(server, [20], quick);
      opened.push(t.conn);
      await expect(t.conn.open()).rejects.toMatchObject({ code: 'network' });
      await server.hellosReach(2);
      await until(() => t.conn.status === 'open');
      expect(t.closes).toEqual([{ code: GAVE_UP, retryInMs: 20 }]);
    });
  });
});
