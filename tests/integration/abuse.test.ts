/**
 * Protocol abuse: a signed-in attacker and an anonymous one flood the signaling endpoint with
 * thousands of hostile frames while two people are in a call. The call must not notice, the server
 * must stay up, and every reply must come from the error catalogue at a bounded rate.
 * Frames come from a seeded generator, so a failure replays exactly.
 */
import { seededRandom } from '../../packages/server/src/testing/random.js';
import { CLIENT_MESSAGE_TYPES, ERROR_CODES, LIMITS, PROTOCOL_VERSION, type ErrorCode } from '@duet/protocol';
import { expect, it } from 'vitest';
import { connectCall, matchPair, useTestServer, type TestClient } from './harness.js';

const SEED = 0x5eed_d0e7;
const FLOOD_FRAMES = 3000;
/** Fresh connections that each send fewer frames than the hub's burst allowance (200), so every frame is parsed. */
const FUZZ_CONNECTIONS = 20;
const FUZZ_FRAMES_EACH = 150;
/** Over LIMITS.maxMessageBytes (64 KB) but under the 256 KB WebSocket frame cap: answered too_large. */
const LARGE_FRAME_BYTES = 100 * 1024;
/** Over the 256 KB WebSocket frame cap: ws closes the socket with 1009 (message too big). */
const OVERSIZED_FRAME_BYTES = 300 * 1024;

const server = useTestServer();

const prng = seededRandom;

interface Frame {
  data: string | Buffer;
  binary: boolean;
}

interface Target {
  /** The call the attacker tries to break into. */
  callId: string;
  /** Whether the attacking connection is signed in; anonymous ones never send a well-formed hello. */
  signedIn: boolean;
  /** A victim's real token, sent in hello by a signed-in attacker (must answer already_authenticated). */
  victimToken: string;
}

const text = (value: unknown): Frame => ({ data: typeof value === 'string' ? value : JSON.stringify(value), binary: false });

/** Draws hostile frames of every kind the brief lists. */
class GarbageGenerator {
  readonly #random: () => number;
  readonly #target: Target;
  constructor(seed: number, target: Target) {
    this.#random = prng(seed);
    this.#target = target;
  }

  frames(count: number): Frame[] {
    return Array.from({ length: count }, () => this.frame());
  }

  frame(): Frame {
    const kinds = [
      () => this.#randomBinary(),
      () => this.#invalidJson(),
      () => this.#unknownType(),
      () => this.#wrongFieldTypes(),
      () => this.#prototypePollution(),
      () => this.#intoTheCall(),
      () => this.#hello(),
      () => this.#nonObjectJson(),
    ];
    // Large frames are rare: they cost real bandwidth.
    if (this.#random() < 0.01) return text(`{"type":"chat","callId":"${this.#target.callId}","text":"${'a'.repeat(LARGE_FRAME_BYTES)}"}`);
    return this.#pick(kinds)();
  }

  #int(max: number): number {
    return Math.floor(this.#random() * max);
  }

  #pick<T>(items: readonly T[]): T {
    return items[this.#int(items.length)]!;
  }

  #word(): string {
    const letters = 'abcdefghijklmnopqrstuvwxyz_ÄéЖ中🙂';
    const chars = [...letters];
    let word = '';
    for (let i = 0, n = 1 + this.#int(12); i < n; i++) word += this.#pick(chars);
    return word;
  }

  #randomBinary(): Frame {
    const bytes = Buffer.alloc(this.#int(2048));
    for (let i = 0; i < bytes.length; i++) bytes[i] = this.#int(256);
    return { data: bytes, binary: true };
  }

  #invalidJson(): Frame {
    const valid = JSON.stringify({ type: 'signal', callId: this.#target.callId, description: { type: 'offer', sdp: 'v=0' } });
    return text(
      this.#pick([
        '{',
        '{nope',
        '}{',
        '[1,2',
        '{"type":"join"',
        '{"type":"join",}',
        "{'type':'join'}",
        'NaN',
        '',
        ' ',
        '\u0000',
        '['.repeat(5000),
        valid.slice(0, this.#int(valid.length)),
        `${this.#word()}${this.#word()}`,
      ]),
    );
  }

  #nonObjectJson(): Frame {
    return text(this.#pick(['null', 'true', '42', '1e999', '"join"', '[]', '[{"type":"join"}]', `${'['.repeat(2000)}${']'.repeat(2000)}`]));
  }

  #unknownType(): Frame {
    let type = this.#word();
    if ((CLIENT_MESSAGE_TYPES as readonly string[]).includes(type)) type += '_x';
    return text(
      this.#pick<unknown>([
        { type },
        { type: type.toUpperCase() },
        { type: 'welcome', v: 1, userId: 'me', online: 1 },
        { type: 'matched', callId: this.#target.callId, role: 'offerer' },
        { type: 'call_ended', callId: this.#target.callId, reason: 'leave' },
        { type: 'JOIN' },
        { type: 'join ' },
        { type: '' },
        { type: 42 },
        { type: null },
        { type: ['join'] },
        { type: { toString: 'join' } },
        {},
        { kind: 'join' },
      ]),
    );
  }

  #wrongFieldTypes(): Frame {
    const callId = this.#target.callId;
    return text(
      this.#pick<unknown>([
        { type: 'join', interests: 'chess' },
        { type: 'join', interests: [1, 2, 3] },
        { type: 'join', interests: ['a', 'b', 'c', 'd', 'e', 'f'] },
        { type: 'join', interests: ['x'.repeat(LIMITS.maxInterestChars + 1)] },
        { type: 'join', interests: ['two words'] },
        { type: 'next', admin: true },
        { type: 'leave', callId: 7 },
        { type: 'signal', callId: 123 },
        { type: 'signal', callId: '' },
        { type: 'signal', callId: 'x'.repeat(65) },
        { type: 'signal', callId, description: 'offer' },
        { type: 'signal', callId, description: { type: 'offer', sdp: 'x'.repeat(LIMITS.maxSdpChars + 1) } },
        { type: 'signal', callId, description: { type: 'evil', sdp: 'v=0' } },
        { type: 'signal', callId, candidate: { candidate: 'x'.repeat(LIMITS.maxCandidateChars + 1) } },
        { type: 'signal', callId, candidate: { candidate: 'c', sdpMLineIndex: -1 } },
        { type: 'peer_state', callId, state: 'exploded' },
        { type: 'peer_state', callId, state: ['failed'] },
        { type: 'chat', callId, text: {} },
        { type: 'chat', callId, text: '   ' },
        { type: 'chat', callId, text: 'x'.repeat(LIMITS.maxChatChars + 1) },
        { type: 'report', callId, reason: 'meh' },
        { type: 'report', callId, reason: 'spam', comment: 'x'.repeat(501) },
        { type: 'block' },
        { type: 'ping', extra: true },
      ]),
    );
  }

  #prototypePollution(): Frame {
    const callId = this.#target.callId;
    return text(
      this.#pick([
        '{"__proto__":{"polluted":true},"type":"join"}',
        '{"type":"join","__proto__":{"polluted":true,"rulesAccepted":true}}',
        '{"type":"join","interests":["__proto__"]}',
        '{"type":"join","interests":{"__proto__":["x"],"length":1}}',
        '{"type":"constructor"}',
        '{"type":"__proto__"}',
        '{"type":"toString"}',
        '{"type":"hasOwnProperty"}',
        '{"type":"prototype"}',
        '{"constructor":{"prototype":{"polluted":true}},"type":"next"}',
        `{"type":"signal","callId":"${callId}","description":{"__proto__":{"polluted":true},"type":"offer"}}`,
        `{"type":"chat","callId":"__proto__","text":"hi"}`,
        `{"type":"block","callId":"constructor"}`,
      ]),
    );
  }

  #intoTheCall(): Frame {
    const callId = this.#target.callId;
    return text(
      this.#pick<unknown>([
        { type: 'signal', callId, description: { type: 'offer', sdp: 'v=0 evil' } },
        { type: 'signal', callId, candidate: { candidate: 'candidate:1 1 udp 1 203.0.113.66 9 typ host' } },
        { type: 'signal', callId, candidate: null },
        { type: 'peer_state', callId, state: 'failed' },
        { type: 'peer_state', callId, state: 'connected' },
        { type: 'chat', callId, text: 'spam' },
        { type: 'block', callId },
        { type: 'report', callId, reason: 'spam' },
        { type: 'join' },
        { type: 'next' },
        { type: 'leave' },
        { type: 'ping' },
      ]),
    );
  }

  #hello(): Frame {
    if (this.#target.signedIn) {
      return text(
        this.#pick<unknown>([
          { type: 'hello', v: PROTOCOL_VERSION, token: this.#target.victimToken },
          { type: 'hello', v: PROTOCOL_VERSION, token: 'garbage' },
          { type: 'hello', v: PROTOCOL_VERSION + 1, token: 'garbage' },
        ]),
      );
    }
    // Malformed only: a well-formed hello would sign the anonymous attacker in or close it.
    return text(
      this.#pick<unknown>([
        { type: 'hello' },
        { type: 'hello', v: '1', token: 'garbage' },
        { type: 'hello', v: 1.5, token: 'garbage' },
        { type: 'hello', v: PROTOCOL_VERSION, token: '' },
        { type: 'hello', v: PROTOCOL_VERSION, token: 5 },
        { type: 'hello', v: PROTOCOL_VERSION, token: 'x'.repeat(2049) },
        { type: 'hello', v: PROTOCOL_VERSION, token: 'garbage', userId: 'admin' },
      ]),
    );
  }
}

function send(client: TestClient, frames: readonly Frame[]): void {
  for (const f of frames) client.sendRaw(f.data, { binary: f.binary });
}

function errorCodes(client: TestClient): ErrorCode[] {
  return client.all('error').map((e) => e.code as ErrorCode);
}

/** Every error reply is from the catalogue, and garbage never reaches an unhandled path. */
function expectCatalogueErrorsOnly(client: TestClient): void {
  const codes = errorCodes(client);
  for (const code of codes) expect(ERROR_CODES, `${client.name} got ${code}`).toContain(code);
  expect(codes, `${client.name} hit an internal error`).not.toContain('internal');
}

it('keeps a call intact and the server up through a flood of hostile frames', async () => {
  const s = server();
  const victimA = await s.guest();
  const a = await s.client('A', { guest: victimA });
  const b = await s.client('B');
  const call = await matchPair(a, b);
  await connectCall(call);
  const { callId } = call;

  const c = await s.client('C');
  const d = await s.rawClient('D');

  // 1. Targeted attacks on A and B's call, with C's error budget still full: each answered not_in_call.
  const intrusions = [
    { type: 'signal', callId, description: { type: 'offer', sdp: 'v=0 evil' } },
    { type: 'signal', callId, candidate: { candidate: 'candidate:1 1 udp 1 203.0.113.66 9 typ host' } },
    { type: 'chat', callId, text: 'spam' },
    { type: 'peer_state', callId, state: 'failed' },
    { type: 'block', callId },
    { type: 'report', callId, reason: 'spam' },
  ] as const;
  for (const m of intrusions) {
    c.send(m);
    expect(await c.nextError('not_in_call')).toMatchObject({ ref: m.type });
  }

  // 2. Before hello, D's garbage is classified (within D's error budget).
  const prelude: Array<[Frame, ErrorCode]> = [
    [text({ type: 'join' }), 'not_authenticated'],
    [{ data: Buffer.from([0xde, 0xad, 0xbe, 0xef]), binary: true }, 'invalid_message'],
    [text('{nope'), 'bad_json'],
    [text({ type: 'launch_missiles' }), 'unknown_type'],
    [text({ type: 'next', admin: true }), 'invalid_message'],
    [text(`{"type":"ping","pad":"${'x'.repeat(LARGE_FRAME_BYTES)}"}`), 'too_large'],
    [text({ type: 'signal', callId, candidate: null }), 'not_authenticated'],
  ];
  send(
    d,
    prelude.map(([f]) => f),
  );
  for (const [, code] of prelude) expect((await d.next('error')).code).toBe(code);

  // 3. The flood: thousands of frames from each attacker, interleaved.
  const floodC = new GarbageGenerator(SEED, { callId, signedIn: true, victimToken: victimA.token }).frames(FLOOD_FRAMES);
  const floodD = new GarbageGenerator(SEED + 1, { callId, signedIn: false, victimToken: victimA.token }).frames(FLOOD_FRAMES);
  for (let i = 0; i < FLOOD_FRAMES; i++) {
    send(c, [floodC[i]!]);
    send(d, [floodD[i]!]);
  }
  // C closes normally: the server answers the close only after handling every frame before it.
  // D ends with a frame over the WebSocket cap, which the server closes with 1009.
  d.sendRaw(`{"type":"ping","pad":"${'x'.repeat(OVERSIZED_FRAME_BYTES)}"}`);
  const [closeC, closeD] = await Promise.all([c.close(), d.waitForClose(10_000)]);
  expect(closeC.code).toBe(1000);
  expect(closeD.code).toBe(1009);

  // 4. Fresh connections, each under the frame limit, so every garbage frame goes through the parser.
  const fuzzers: TestClient[] = [];
  for (let i = 0; i < FUZZ_CONNECTIONS; i++) {
    const signedIn = i % 2 === 0;
    const guest = await s.guest();
    const fuzzer = signedIn ? await s.client(`fuzz${i}`, { guest }) : await s.rawClient(`fuzz${i}`);
    send(fuzzer, new GarbageGenerator(SEED + 100 + i, { callId, signedIn, victimToken: victimA.token }).frames(FUZZ_FRAMES_EACH));
    // Still alive and in order after all of it: a signed-in fuzzer gets its pong, an anonymous one its welcome.
    if (signedIn) await fuzzer.roundTrip();
    else await fuzzer.hello(guest.token);
    fuzzers.push(fuzzer);
  }

  // The server is up and the call is untouched.
  const health = await s.request('GET', '/healthz');
  expect(health.status).toBe(200);
  expect(health.body).toMatchObject({ status: 'ok' });
  expect(s.duet.lobby.callOf(a.userId)?.id).toBe(callId);
  expect(s.duet.lobby.callOf(b.userId)?.id).toBe(callId);
  for (const victim of [a, b]) {
    await victim.roundTrip();
    expect(victim.all('call_ended'), `${victim.name}'s call ended`).toEqual([]);
    expect(victim.all('chat'), `${victim.name} got an attacker's chat`).toEqual([]);
    expect(victim.all('error'), `${victim.name} got an error`).toEqual([]);
  }
  // The only signal B ever got is A's offer from connectCall.
  expect(b.all('signal')).toHaveLength(1);
  expect(a.all('signal')).toHaveLength(0);

  // A and B still talk.
  const offer = { type: 'signal', callId, description: { type: 'offer', sdp: 'v=0 after the flood' } } as const;
  call.offerer.send(offer);
  expect(await call.answerer.next('signal')).toEqual(offer);
  call.answerer.send({ type: 'chat', callId, text: 'still here' });
  expect(await call.offerer.next('chat')).toMatchObject({ from: 'partner', text: 'still here' });

  // Replies: catalogue codes only, never more than a small fraction of the frames (the hub
  // rate-limits error replies), and nobody was ever welcomed by garbage.
  for (const attacker of [c, d, ...fuzzers]) expectCatalogueErrorsOnly(attacker);
  expect(errorCodes(c).length).toBeLessThan(FLOOD_FRAMES / 10);
  expect(errorCodes(d).length).toBeLessThan(FLOOD_FRAMES / 10);
  expect(d.all('welcome')).toEqual([]);
  for (const f of fuzzers) expect(f.all('welcome')).toHaveLength(1);

  // Nothing the attackers sent leaked into this process's prototypes.
  expect(Object.prototype).not.toHaveProperty('polluted');
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(({} as Record<string, unknown>).rulesAccepted).toBeUndefined();
});
