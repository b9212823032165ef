/**
 * Integration harness: a real Duet server on an ephemeral port and test clients that speak the
 * signaling protocol over real WebSockets. Every wait is for a typed event and bounded by a timeout,
 * so a broken server fails a test quickly with a message saying what was expected and what arrived.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { PROTOCOL_VERSION, serverMessageSchema, type ClientMessage, type ServerMessage, type ServerMessageOf } from '@duet/protocol';
import { createDuetServer, loadConfig, type Config, type CreateOptions, type DuetServer } from '@duet/server';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { WebSocket, type ClientOptions, type RawData } from 'ws';
import { freePort } from '../../packages/server/src/testing/net.js';

export { freePort };

/** How long a test waits for an expected message before failing. */
export const WAIT_MS = 3_000;

export type ServerMessageType = ServerMessage['type'];

export interface CloseInfo {
  code: number;
  reason: string;
}

export interface Guest {
  token: string;
  userId: string;
}

export interface HttpResult {
  status: number;
  body: unknown;
}

export interface StartOptions {
  /** Extra environment for loadConfig, e.g. CONNECT_TIMEOUT_MS. */
  env?: Record<string, string>;
  /** 'file' keeps SQLite in the temporary data folder so it can be inspected after close. */
  storage?: 'memory' | 'file';
  /** Passed to createDuetServer: a fake clock, process metrics off, ... */
  create?: CreateOptions;
}

export interface ConnectOptions {
  /** Connect as this guest instead of creating a new one. */
  guest?: Guest;
  /** Accept the rules over HTTP before connecting (default true). */
  acceptRules?: boolean;
  /** Answer the server's pings by hand, so a test can make the client go silent. */
  manualPong?: boolean;
  /** The client address the socket claims (X-Forwarded-For, trusted by test servers); default 127.0.0.1. */
  from?: string;
}

type Waiter = {
  accept: (m: ServerMessage) => boolean;
  resolve: (m: ServerMessage) => void;
  reject: (err: Error) => void;
};

/** One WebSocket connection to /ws that records every server message. */
export class TestClient {
  /** Every valid message the server sent, in arrival order. */
  readonly received: ServerMessage[] = [];
  /** Frames that were not valid server messages: a protocol violation by the server. */
  readonly malformed: string[] = [];
  readonly closed: Promise<CloseInfo>;
  /** While true (and the client was opened with manualPong), pings are answered. */
  answeringPings = true;
  /**
   * While true, the client answers a `call_ended` someone else caused (`then: 'waiting'`) with
   * `requeue`, as the SDK does, so it is queued again; false leaves it held out of the queue.
   */
  autoRequeue = true;

  readonly #unconsumed: ServerMessage[] = [];
  readonly #waiters = new Set<Waiter>();
  #closeInfo: CloseInfo | undefined;
  #userId: string | undefined;
  #callId: string | undefined;

  private constructor(
    readonly name: string,
    readonly socket: WebSocket,
    manualPong: boolean,
  ) {
    socket.on('message', (data, isBinary) => this.#onFrame(data, isBinary));
    if (manualPong) {
      socket.on('ping', (data) => {
        if (this.answeringPings) socket.pong(data);
      });
    }
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => {
        this.#closeInfo = { code, reason: reason.toString() };
        for (const w of this.#waiters) w.reject(new Error(`${this.name}: socket closed (${code}) ${this.#describe()}`));
        this.#waiters.clear();
        resolve(this.#closeInfo);
      });
    });
    // Errors surface as a close; without a listener ws would throw them.
    socket.on('error', () => undefined);
  }

  /** Opens a socket to `url` without saying hello. */
  static async open(url: string, name: string, options: { manualPong?: boolean; from?: string } = {}): Promise<TestClient> {
    const wsOptions: ClientOptions = {
      ...(options.manualPong ? { autoPong: false } : {}),
      ...(options.from ? { headers: { 'x-forwarded-for': options.from } } : {}),
    };
    const socket = new WebSocket(url, wsOptions);
    const client = new TestClient(name, socket, options.manualPong ?? false);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', (err) => reject(new Error(`${name}: could not connect to ${url}: ${err.message}`)));
    });
    return client;
  }

  /** The user id from `welcome`; throws before the handshake completed. */
  get userId(): string {
    if (!this.#userId) throw new Error(`${this.name} has not been welcomed`);
    return this.#userId;
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  get isWelcomed(): boolean {
    return this.#userId !== undefined;
  }

  /** The call this client was last told it is in (matched, or resumed at welcome) and not told has ended. */
  get callId(): string | undefined {
    return this.#callId;
  }

  /**
   * Sends a message. `next` and `leave` name the client's current call, as the SDK does, unless
   * the message names one itself; `sendRaw` sends a message exactly as written.
   */
  send(message: ClientMessage): void {
    const named =
      (message.type === 'next' || message.type === 'leave') && message.callId === undefined && this.#callId !== undefined
        ? { ...message, callId: this.#callId }
        : message;
    this.socket.send(JSON.stringify(named));
  }

  /** Sends anything at all: for messages the protocol does not allow. */
  sendRaw(data: string | Buffer, options: { binary?: boolean } = {}): void {
    this.socket.send(data, { binary: options.binary ?? false });
  }

  async hello(token: string): Promise<ServerMessageOf<'welcome'>> {
    this.send({ type: 'hello', v: PROTOCOL_VERSION, token });
    const welcome = await this.next('welcome');
    this.#userId = welcome.userId;
    return welcome;
  }

  /**
   * The first message of `type` (matching `predicate`) not yet returned by an earlier `next`:
   * one already received, or the next to arrive. Fails after `timeoutMs` or when the socket closes.
   */
  next<T extends ServerMessageType>(
    type: T,
    predicate: (m: ServerMessageOf<T>) => boolean = () => true,
    timeoutMs: number = WAIT_MS,
  ): Promise<ServerMessageOf<T>> {
    const accept = (m: ServerMessage): boolean => m.type === type && predicate(m as ServerMessageOf<T>);
    const index = this.#unconsumed.findIndex(accept);
    if (index >= 0) return Promise.resolve(this.#unconsumed.splice(index, 1)[0] as ServerMessageOf<T>);
    if (this.#closeInfo) {
      return Promise.reject(new Error(`${this.name}: socket closed (${this.#closeInfo.code}) before ${type} ${this.#describe()}`));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`${this.name}: no matching ${type} within ${timeoutMs} ms ${this.#describe()}`));
      }, timeoutMs);
      const waiter: Waiter = {
        accept,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as ServerMessageOf<T>);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.#waiters.add(waiter);
    });
  }

  /** The error with `code`, e.g. `await c.nextError('not_in_call')`. */
  nextError(code: ServerMessageOf<'error'>['code'], timeoutMs?: number): Promise<ServerMessageOf<'error'>> {
    return this.next('error', (e) => e.code === code, timeoutMs);
  }

  /**
   * A ping/pong round trip. The server handles one socket's frames in order and the lobby sends
   * synchronously, so once the pong is here every message caused by earlier events has arrived too.
   * That is how a test proves the absence of a message without sleeping.
   */
  async roundTrip(): Promise<void> {
    this.send({ type: 'ping' });
    await this.next('pong');
  }

  /** Received messages of `type` that no `next` has returned yet. */
  pending<T extends ServerMessageType>(type: T): ServerMessageOf<T>[] {
    return this.#unconsumed.filter((m): m is ServerMessageOf<T> => m.type === type);
  }

  /** All messages of `type` ever received, consumed or not. */
  all<T extends ServerMessageType>(type: T): ServerMessageOf<T>[] {
    return this.received.filter((m): m is ServerMessageOf<T> => m.type === type);
  }

  async waitForClose(timeoutMs: number = WAIT_MS): Promise<CloseInfo> {
    return withTimeout(this.closed, timeoutMs, `${this.name}: socket still open after ${timeoutMs} ms`);
  }

  /** Closes normally and waits for the closing handshake to finish. */
  async close(): Promise<CloseInfo> {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) this.socket.close(1000);
    return this.waitForClose();
  }

  /** Drops the TCP connection without a closing handshake, like a crashed tab. */
  terminate(): void {
    this.socket.terminate();
  }

  #onFrame(data: RawData, isBinary: boolean): void {
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as Buffer).toString('utf8');
    const message = isBinary ? undefined : parseServerMessage(text);
    if (!message) {
      this.malformed.push(text.slice(0, 200));
      return;
    }
    this.received.push(message);
    this.#follow(message);
    for (const w of this.#waiters) {
      if (w.accept(message)) {
        this.#waiters.delete(w);
        w.resolve(message);
        return;
      }
    }
    this.#unconsumed.push(message);
  }

  /** Keeps the current call, and acknowledges an end that requeues this client (before any test sees it). */
  #follow(m: ServerMessage): void {
    if (m.type === 'matched' || (m.type === 'welcome' && m.callId !== undefined)) this.#callId = m.callId;
    if (m.type !== 'call_ended') return;
    if (m.callId === this.#callId) this.#callId = undefined;
    if (this.autoRequeue && m.then === 'waiting' && m.by !== 'you') this.send({ type: 'requeue', callId: m.callId });
  }

  #describe(): string {
    const recent = this.received
      .slice(-8)
      .map((m) => (m.type === 'error' ? `error:${m.code}` : m.type === 'call_ended' ? `call_ended:${m.reason}` : m.type));
    const unconsumed = this.#unconsumed.map((m) => m.type);
    return `(last received: [${recent.join(', ')}]; unconsumed: [${unconsumed.join(', ')}])`;
  }
}

/** The frame as a server message, or undefined when it is not JSON or not in the protocol schema. */
function parseServerMessage(text: string): ServerMessage | undefined {
  try {
    const parsed = serverMessageSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** A Duet server on 127.0.0.1 with a fresh data folder, and the clients a test opened against it. */
export class TestServer {
  readonly #clients = new Set<TestClient>();
  #stopped = false;
  #visitors = 0;

  private constructor(
    readonly duet: DuetServer,
    readonly config: Config,
    readonly httpUrl: string,
    readonly dataDir: string,
  ) {}

  static async start(options: StartOptions = {}): Promise<TestServer> {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'duet-it-'));
    try {
      const config = loadConfig({
        PORT: '0',
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'silent',
        // Test servers run side by side: none starts its own relay unless a test asks for one.
        TURN_MODE: 'off',
        // Requests name their own client address (see `request`), as they would behind a proxy.
        TRUST_PROXY: 'true',
        // A loaded test machine can keep the event loop late for a while: only the tests about
        // shedding load (busy.test.ts) turn it on, the others must not meet a 503 server_busy.
        BUSY_LAG_MS: '0',
        ...options.env,
      });
      const duet = await createDuetServer(config, { ...(options.storage === 'file' ? {} : { sqliteFile: ':memory:' }), ...options.create });
      const httpUrl = await duet.listen();
      return new TestServer(duet, config, httpUrl, dataDir);
    } catch (err) {
      await rm(dataDir, { recursive: true, force: true });
      throw err;
    }
  }

  /**
   * A client address nobody has used yet, from the IPv6 documentation prefix; each in its own /48,
   * since per-address limits group IPv6 clients by subnet.
   */
  newVisitorAddress(): string {
    this.#visitors += 1;
    return `2001:db8:${this.#visitors.toString(16)}::1`;
  }

  get wsUrl(): string {
    return `${this.httpUrl.replace(/^http/, 'ws')}/ws`;
  }

  /**
   * One HTTP request. Each comes from its own documentation address (X-Forwarded-For, trusted by
   * this server) unless `from` says otherwise, so per-address API limits never throttle a test that
   * signs in many guests from 127.0.0.1.
   */
  async request(
    method: 'GET' | 'POST',
    route: string,
    options: { json?: unknown; token?: string; rawBody?: string; contentType?: string; from?: string; timeoutMs?: number } = {},
  ): Promise<HttpResult> {
    const headers: Record<string, string> = { 'x-forwarded-for': options.from ?? this.newVisitorAddress() };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.rawBody !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/json';
      body = options.rawBody;
    }
    const res = await fetch(`${this.httpUrl}${route}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
      signal: AbortSignal.timeout(options.timeoutMs ?? WAIT_MS),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed };
  }

  /** A new guest from POST /api/session, with the rules accepted unless told otherwise. */
  async guest(options: { acceptRules?: boolean } = {}): Promise<Guest> {
    const res = await this.request('POST', '/api/session');
    if (res.status !== 200) throw new Error(`POST /api/session answered ${res.status}`);
    const { token, userId } = res.body as Guest;
    if (options.acceptRules ?? true) await this.acceptRules(token);
    return { token, userId };
  }

  async acceptRules(token: string): Promise<void> {
    const res = await this.request('POST', '/api/rules/accept', { token, json: { adult: true, rulesVersion: 1 } });
    if (res.status !== 204) throw new Error(`POST /api/rules/accept answered ${res.status}: ${JSON.stringify(res.body)}`);
  }

  /** A socket that has not said hello. */
  async rawClient(name: string, options: { manualPong?: boolean; from?: string } = {}): Promise<TestClient> {
    const client = await TestClient.open(this.wsUrl, name, options);
    this.#clients.add(client);
    return client;
  }

  /** A signed-in client: guest session, rules accepted, hello answered by welcome. */
  async client(name: string, options: ConnectOptions = {}): Promise<TestClient> {
    const guest = options.guest ?? (await this.guest({ acceptRules: options.acceptRules ?? true }));
    const client = await this.rawClient(name, { manualPong: options.manualPong ?? false, ...(options.from ? { from: options.from } : {}) });
    await client.hello(guest.token);
    return client;
  }

  /**
   * Leaves every signed-in client idle, then closes all sockets, so the next test starts with nobody
   * waiting. One at a time: a leave can requeue a partner, who is then made idle in their turn.
   * Also fails the test if the server ever sent a message outside the protocol schema.
   */
  async releaseClients(): Promise<void> {
    const clients = [...this.#clients];
    this.#clients.clear();
    for (const c of clients) {
      if (!c.isOpen || !c.isWelcomed) continue;
      c.send({ type: 'leave' });
      c.send({ type: 'ping' });
      await Promise.race([c.next('pong').catch(() => undefined), c.closed]);
    }
    await Promise.all(clients.map((c) => c.close()));
    const violations = clients.filter((c) => c.malformed.length > 0).map((c) => `${c.name}: ${c.malformed.join(' | ')}`);
    if (violations.length > 0) throw new Error(`server sent frames outside the protocol schema:\n${violations.join('\n')}`);
  }

  /** Closes every client and the server and removes the data folder. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    try {
      await Promise.all([...this.#clients].map((c) => c.close().catch(() => undefined)));
      await this.duet.close();
    } finally {
      await rm(this.dataDir, { recursive: true, force: true });
    }
  }
}

/** One server for the enclosing file or describe block; clients are released after each test. */
export function useTestServer(options: StartOptions = {}): () => TestServer {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await TestServer.start(options);
  });
  afterEach(async () => {
    await server?.releaseClients();
  });
  afterAll(async () => {
    await server?.stop();
  });
  return () => {
    if (!server) throw new Error('the test server has not started');
    return server;
  };
}

/** Two clients that both joined and were matched with each other. */
export interface MatchedPair {
  offerer: TestClient;
  answerer: TestClient;
  callId: string;
}

/** Joins `first` then `second` and waits until the server has matched them together. */
export async function matchPair(first: TestClient, second: TestClient): Promise<MatchedPair> {
  first.send({ type: 'join' });
  await first.next('queued');
  second.send({ type: 'join' });
  // Joining always answers `queued`, even when a match follows at once; consume it here so a
  // later `next('queued')` sees only what comes after the call.
  await second.next('queued');
  const [m1, m2] = await Promise.all([first.next('matched'), second.next('matched')]);
  if (m1.callId !== m2.callId) throw new Error(`${first.name} and ${second.name} were matched into different calls`);
  const offerer = m1.role === 'offerer' ? first : second;
  const answerer = offerer === first ? second : first;
  return { offerer, answerer, callId: m1.callId };
}

/** Both sides report their peer connection up, and both hear `call_connected`. */
export async function connectCall({ offerer, answerer, callId }: MatchedPair): Promise<void> {
  offerer.send({ type: 'signal', callId, description: { type: 'offer', sdp: 'v=0 offer' } });
  await answerer.next('signal', (s) => s.callId === callId);
  for (const c of [offerer, answerer]) c.send({ type: 'peer_state', callId, state: 'connected' });
  await Promise.all([offerer, answerer].map((c) => c.next('call_connected', (m) => m.callId === callId)));
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** One parsed pino line. */
export interface LogLine {
  level: number;
  msg?: string;
  module?: string;
  node?: string;
  err?: unknown;
  [field: string]: unknown;
}

/** A log destination for `create.logStream` that keeps every line, parsed. */
export function captureLogs(): { stream: Writable; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { stream, lines };
}

/** A TCP port nobody listens on right now. */
/**
 * A redis-server of the test's own (never the machine's shared one), on a free port, with nothing
 * persisted: `kill()` makes it vanish as a crash would, `start()` brings it back empty on the same
 * port. `stop()` in afterAll.
 */
export class OwnRedis {
  #child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort());
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts redis-server (empty) and waits until it answers PING. */
  async start(): Promise<void> {
    if (this.#child) throw new Error('redis-server is already running');
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    this.#child = child;
    child.once('exit', () => {
      if (this.#child === child) this.#child = undefined;
    });
    const until = Date.now() + 10_000;
    while (!(await this.#pong())) {
      if (Date.now() > until || !this.#child) throw new Error(`redis-server on port ${this.port} did not start`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGKILL: the server and everything in it are gone at once. Resolves once the process has exited. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.#child = undefined;
  }

  stop(): Promise<void> {
    return this.kill();
  }

  /** One inline command (e.g. FLUSHALL); resolves to the first line of the reply. */
  command(line: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = new Socket();
      socket.once('error', reject);
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString().split('\r\n')[0]!);
      });
      socket.connect(this.port, '127.0.0.1', () => socket.write(`${line}\r\n`));
    });
  }

  #pong(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = new Socket();
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(500, () => done(false));
      socket.once('error', () => done(false));
      socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
      socket.connect(this.port, '127.0.0.1', () => socket.write('PING\r\n'));
    });
  }
}

/** The repository root (tests/integration is two levels down). */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * A Duet node in a child process of its own, running the server's sources (tsx, the `source`
 * export condition), so a test can kill it as a crash would: `kill()` is SIGKILL, with no goodbye —
 * its sockets reset, its Redis and PostgreSQL connections drop, and nothing it would have written
 * or published on the way out is. Its last output lines are kept for failure messages.
 */
export class NodeProcess {
  /** The last lines the node printed (stdout and stderr). */
  readonly output: string[] = [];
  #child: ChildProcess | undefined;
  readonly #killOnExit = () => this.#child?.kill('SIGKILL');

  private constructor(
    readonly httpUrl: string,
    readonly dataDir: string,
  ) {}

  /** Starts a node with `env` (on top of the test defaults) and waits until /healthz answers 200. */
  static async start(env: Record<string, string>, timeoutMs = 30_000): Promise<NodeProcess> {
    const port = await freePort();
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'duet-node-'));
    const node = new NodeProcess(`http://127.0.0.1:${port}`, dataDir);
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', path.join(ROOT, 'packages/server/src/main.ts')], {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'warn',
        TURN_MODE: 'off',
        TRUST_PROXY: 'true',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    node.#child = child;
    process.once('exit', node.#killOnExit);
    const keep = (data: Buffer) => {
      node.output.push(...data.toString('utf8').split('\n').filter(Boolean));
      if (node.output.length > 50) node.output.splice(0, node.output.length - 50);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    let exited = false;
    child.once('exit', () => (exited = true));
    const until = Date.now() + timeoutMs;
    for (;;) {
      if (exited) throw new Error(`node exited while starting:\n${node.output.join('\n')}`);
      const ok = await fetch(`${node.httpUrl}/healthz`, { signal: AbortSignal.timeout(1_000) }).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return node;
      if (Date.now() > until) {
        await node.kill();
        throw new Error(`node did not answer /healthz within ${timeoutMs} ms:\n${node.output.join('\n')}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  get wsUrl(): string {
    return `${this.httpUrl.replace(/^http/, 'ws')}/ws`;
  }

  /** SIGKILL, as a crash: resolves once the process has exited. Safe to call twice. */
  async kill(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    process.off('exit', this.#killOnExit);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Kills the node (if still running) and removes its data folder. */
  async stop(): Promise<void> {
    await this.kill();
    await rm(this.dataDir, { recursive: true, force: true });
  }
}
