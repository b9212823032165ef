import WebSocket from 'ws';
import { PROTOCOL_VERSION, type ClientMessage, type ServerMessage } from '@duet/protocol';

type Waiter = { test: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void };

/**
 * One simulated person: a session, a signaling socket that comes and goes, and the heartbeat
 * counters of a browser whose media keeps flowing peer to peer whatever happens to the socket.
 */
export class Sim {
  ws: WebSocket | undefined;
  userId = '';
  /** The call this person was matched into for the wave (other matches are left at once). */
  callId: string | undefined;
  side: 'a' | 'b' | undefined;
  partner: Sim | undefined;
  /** Heartbeats this browser has produced so far (sent or not), and the bytes it has received. */
  seq = 0;
  bytes = 0;
  readonly history: ServerMessage[] = [];
  #waiters: Waiter[] = [];

  constructor(
    readonly name: string,
    readonly token: string,
  ) {}

  get open(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Opens the socket and says hello; resolves with the welcome. */
  async connect(url: string): Promise<Extract<ServerMessage, { type: 'welcome' }>> {
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.on('message', (data) => this.#onMessage(ws, String(data)));
    ws.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('close', () => reject(new Error(`${this.name}: socket closed before it opened`)));
    });
    const welcome = this.waitFor((m) => m.type === 'welcome', 10_000, false);
    ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, token: this.token }));
    const m = (await welcome) as Extract<ServerMessage, { type: 'welcome' }>;
    this.userId = m.userId;
    return m;
  }

  send(m: ClientMessage): boolean {
    if (!this.open) return false;
    this.ws!.send(JSON.stringify(m));
    return true;
  }

  /** Closes the socket and waits until it is closed. */
  async drop(): Promise<void> {
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    ws.terminate();
    await closed;
  }

  /** A round trip on the socket: everything sent before it has been processed by the server. */
  async sync(): Promise<void> {
    if (!this.open) return;
    const pong = this.waitFor((m) => m.type === 'pong', 20_000, false);
    this.send({ type: 'ping' });
    await pong;
  }

  /**
   * The first message matching `test`: among those already received when `past` is true (or from
   * index `past` of the history), else the next to arrive.
   */
  waitFor(test: (m: ServerMessage) => boolean, timeoutMs: number, past: boolean | number = true): Promise<ServerMessage> {
    if (past !== false) {
      const seen = this.history.slice(past === true ? 0 : past).find(test);
      if (seen) return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { test, resolve: (m) => (clearTimeout(timer), resolve(m)) };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`${this.name}: no awaited message in ${timeoutMs} ms; last: ${JSON.stringify(this.history.slice(-3))}`));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  #onMessage(ws: WebSocket, raw: string): void {
    if (ws !== this.ws) return;
    const m = JSON.parse(raw) as ServerMessage;
    if (m.type !== 'pong' && m.type !== 'presence' && m.type !== 'billing') this.history.push(m);
    // A match outside the plan (a requeued partner meeting another): leave it at once.
    if (m.type === 'matched' && this.callId !== undefined && m.callId !== this.callId) this.send({ type: 'leave', callId: m.callId });
    // Requeued after the planned call ended: this person is done for the wave.
    if (m.type === 'call_ended' && m.then === 'waiting') this.send({ type: 'leave' });
    for (const w of [...this.#waiters]) {
      if (!w.test(m)) continue;
      this.#waiters = this.#waiters.filter((x) => x !== w);
      w.resolve(m);
    }
  }
}
