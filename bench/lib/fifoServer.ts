/**
 * The floor for `bench:crowd`: a minimal correct matchmaking server with Duet's HTTP and WebSocket
 * shape (POST /api/session, POST /api/rules/accept, /ws with hello → welcome, join, next, leave,
 * requeue; matched and call_ended as Duet sends them), everything in memory and one FIFO queue. It does what
 * any server must do for the crowd and nothing more, so Duet's figures can be read as a ratio to it
 * measured in the same sitting on the same machine.
 *
 *   node --import tsx bench/lib/fifoServer.ts --port=PORT
 *
 * Correct means: a person is in the queue at most once, never in two calls, and told of a partner
 * only when both are free; moves name their call; the partner left behind by next or leave is queued
 * again as soon as its client answers `requeue` (Duet's protocol since 03208c5).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { arg } from './machine.js';

interface Person {
  readonly userId: string;
  rulesAccepted: boolean;
  socket: WebSocket | undefined;
  status: 'idle' | 'waiting' | 'in_call';
  call: Call | undefined;
  /** The call whose end this person must acknowledge (`requeue`) before being queued again. */
  pendingRequeue: string | undefined;
}

interface Call {
  readonly id: string;
  readonly people: readonly [Person, Person];
}

const byToken = new Map<string, Person>();
/** Waiting people in arrival order; a Set keeps the order and makes removal O(1). */
const queue = new Set<Person>();
let online = 0;

function send(p: Person, message: object): void {
  if (p.socket?.readyState === 1) p.socket.send(JSON.stringify(message));
}

function enqueue(p: Person): void {
  p.status = 'waiting';
  queue.add(p);
  match();
}

function match(): void {
  while (queue.size >= 2) {
    const it = queue.values();
    const a = it.next().value!;
    const b = it.next().value!;
    queue.delete(a);
    queue.delete(b);
    const call: Call = { id: randomUUID(), people: [a, b] };
    for (const [p, role] of [
      [a, 'offerer'],
      [b, 'answerer'],
    ] as const) {
      p.status = 'in_call';
      p.call = call;
      send(p, { type: 'matched', callId: call.id, role, iceServers: [], connectTimeoutMs: 15_000 });
    }
  }
}

/** Ends `by`'s call; `by` goes back to the queue when `requeue`, the partner once it answers `requeue`. */
function endCall(by: Person, reason: 'next' | 'leave' | 'connection_lost', requeue: boolean): void {
  const call = by.call!;
  const partner = call.people[0] === by ? call.people[1] : call.people[0];
  for (const p of call.people) p.call = undefined;
  by.status = 'idle';
  partner.status = 'idle';
  send(by, { type: 'call_ended', callId: call.id, reason, by: 'you', then: requeue ? 'waiting' : 'idle' });
  send(partner, { type: 'call_ended', callId: call.id, reason, by: 'partner', then: partner.socket ? 'waiting' : 'idle' });
  if (requeue) enqueue(by);
  if (partner.socket) partner.pendingRequeue = call.id;
}

function onMessage(p: Person, text: string): void {
  let m: { type?: unknown; callId?: unknown };
  try {
    m = JSON.parse(text) as { type?: unknown; callId?: unknown };
  } catch {
    return send(p, { type: 'error', code: 'bad_json', message: 'The message is not valid JSON.' });
  }
  switch (m.type) {
    case 'join':
      if (!p.rulesAccepted) return send(p, { type: 'error', code: 'rules_not_accepted', message: 'Accept the rules first.', ref: 'join' });
      if (p.status === 'idle') enqueue(p);
      return;
    case 'next':
      if (p.call && m.callId === p.call.id) return endCall(p, 'next', true);
      if (p.call) return send(p, { type: 'error', code: 'stale_call', message: 'Not your current call.', ref: 'next' });
      if (p.status === 'idle') enqueue(p);
      return;
    case 'requeue':
      if (p.status !== 'idle' || m.callId !== p.pendingRequeue)
        return send(p, { type: 'error', code: 'stale_call', message: 'Not your current call.', ref: 'requeue' });
      p.pendingRequeue = undefined;
      return enqueue(p);
    case 'leave':
      p.pendingRequeue = undefined;
      if (p.call && m.callId === p.call.id) return endCall(p, 'leave', false);
      if (p.call) return send(p, { type: 'error', code: 'stale_call', message: 'Not your current call.', ref: 'leave' });
      queue.delete(p);
      p.status = 'idle';
      return send(p, { type: 'idle' });
    default:
      return;
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function bearer(req: IncomingMessage): Person | undefined {
  const h = req.headers.authorization;
  return h?.startsWith('Bearer ') ? byToken.get(h.slice(7)) : undefined;
}

const http = createServer((req, res) => {
  // Bodies are read and dropped: the floor trusts the shape its own load sends.
  req.resume();
  req.on('end', () => {
    if (req.method === 'POST' && req.url === '/api/session') {
      const token = randomBytes(24).toString('base64url');
      const p: Person = {
        userId: randomUUID(),
        rulesAccepted: false,
        socket: undefined,
        status: 'idle',
        call: undefined,
        pendingRequeue: undefined,
      };
      byToken.set(token, p);
      return json(res, 200, { token, userId: p.userId, rulesAccepted: false, rulesVersion: 1 });
    }
    if (req.method === 'POST' && req.url === '/api/rules/accept') {
      const p = bearer(req);
      if (!p) return json(res, 401, { error: { code: 'invalid_token', message: 'Sign in again.' } });
      p.rulesAccepted = true;
      res.writeHead(204).end();
      return;
    }
    if (req.url === '/healthz') return json(res, 200, { status: 'ok', online, waiting: queue.size });
    json(res, 404, { error: { code: 'not_found', message: 'Nothing here.' } });
  });
});
http.keepAliveTimeout = 30_000;

const wss = new WebSocketServer({ server: http, path: '/ws', perMessageDeflate: false, maxPayload: 256 * 1024 });
wss.on('connection', (socket) => {
  let me: Person | undefined;
  socket.on('error', () => undefined);
  socket.on('message', (data) => {
    const text = data.toString();
    if (me) return onMessage(me, text);
    const m = JSON.parse(text) as { type?: string; token?: string };
    const p = m.type === 'hello' && m.token ? byToken.get(m.token) : undefined;
    if (!p) {
      socket.send(JSON.stringify({ type: 'error', code: 'invalid_token', message: 'The session token is invalid or expired.' }));
      return socket.close(4001, 'invalid token');
    }
    if (p.socket) p.socket.close(4002, 'session replaced');
    me = p;
    p.socket = socket;
    online += 1;
    socket.send(JSON.stringify({ type: 'welcome', v: 1, userId: p.userId, online }));
  });
  socket.on('close', () => {
    if (!me || me.socket !== socket) return;
    online -= 1;
    me.socket = undefined;
    if (me.call) endCall(me, 'connection_lost', false);
    queue.delete(me);
    me.status = 'idle';
  });
});

const port = Number(arg('port', '0'));
http.listen({ port, host: '127.0.0.1', backlog: Number(arg('backlog', '511')) }, () => {
  process.stdout.write(`fifo server listening on ${(http.address() as { port: number }).port}\n`);
});
const stop = () => {
  for (const c of wss.clients) c.terminate();
  http.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2_000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
