/**
 * A userspace UDP impairment proxy (the lab has no `tc netem`): it sits between one site's browser
 * and the TURN relay and forwards every datagram both ways through two impaired links, `up`
 * (browser → relay) and `down` (relay → browser). Each link has a one-way delay with jitter (packets
 * stay in order, as behind one queue), random loss, bursty loss (a two-state Gilbert model), and a
 * rate cap whose queue can hold `queueMs` of traffic before it tail-drops (a deep queue is
 * bufferbloat). Settings change mid-call: one JSON line on stdin `{"up":{…},"down":{…}}`.
 *
 *   node --import tsx tests/quality/impair.ts --listen 192.0.2.1:3478 --target 203.0.113.10:3478
 *
 * Prints `impair ready <listen>` once bound, `impair set <json>` after each change, `impair second
 * <json>` every second (kbit/s offered to each link, its queue in ms), and on `{"stats":true}` one
 * line `impair stats <json>` with per-link packet counts.
 */
import dgram from 'node:dgram';
import readline from 'node:readline';

export interface LinkSettings {
  /** One-way delay added to every packet, ms. */
  delayMs?: number;
  /** Uniform ± jitter around the delay, ms (packets are never reordered). */
  jitterMs?: number;
  /** Independent random loss, 0..1. */
  loss?: number;
  /** Bursty loss: long-run loss rate 0..1 with `burstLen` packets per burst on average. */
  burstLoss?: number;
  burstLen?: number;
  /** Rate cap in kbit/s (IP + UDP headers counted); 0 or absent: no cap. */
  rateKbps?: number;
  /** How much traffic the cap's queue holds before it drops, ms at the cap rate. */
  queueMs?: number;
}

export interface ImpairSettings {
  up?: LinkSettings;
  down?: LinkSettings;
}

interface Pending {
  at: number;
  buf: Buffer;
  send: (buf: Buffer) => void;
}

const HEADER_BYTES = 28; // IPv4 + UDP

export class Link {
  #s: Required<LinkSettings> = { delayMs: 0, jitterMs: 0, loss: 0, burstLoss: 0, burstLen: 1, rateKbps: 0, queueMs: 1000 };
  #busyUntil = 0;
  #lastOut = 0;
  #bad = false;
  readonly #queue: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;
  readonly counts = { in: 0, out: 0, lost: 0, queueDrops: 0 };
  /** Bytes offered to the link since the last `second()`. */
  #bytesIn = 0;

  set(s: LinkSettings): void {
    this.#s = { delayMs: 0, jitterMs: 0, loss: 0, burstLoss: 0, burstLen: 1, rateKbps: 0, queueMs: 1000, ...s };
  }

  push(buf: Buffer, send: (buf: Buffer) => void, now = performance.now()): void {
    const s = this.#s;
    this.counts.in++;
    this.#bytesIn += buf.length + HEADER_BYTES;
    if (s.loss > 0 && Math.random() < s.loss) {
      this.counts.lost++;
      return;
    }
    if (s.burstLoss > 0) {
      // Gilbert: good → bad with p, bad → good with 1/burstLen; every packet in the bad state is lost.
      const r = 1 / Math.max(1, s.burstLen);
      const p = (s.burstLoss * r) / Math.max(1e-6, 1 - s.burstLoss);
      this.#bad = this.#bad ? Math.random() >= r : Math.random() < p;
      if (this.#bad) {
        this.counts.lost++;
        return;
      }
    }
    let at = now;
    if (s.rateKbps > 0) {
      const start = Math.max(now, this.#busyUntil);
      if (start - now > s.queueMs) {
        this.counts.queueDrops++;
        return;
      }
      this.#busyUntil = start + ((buf.length + HEADER_BYTES) * 8) / s.rateKbps; // bits / (kbit/s) = ms
      at = this.#busyUntil;
    }
    at += s.delayMs + (s.jitterMs > 0 ? (Math.random() * 2 - 1) * s.jitterMs : 0);
    at = Math.max(at, this.#lastOut);
    this.#lastOut = at;
    this.#queue.push({ at, buf, send });
    if (this.#queue.length === 1) this.#arm();
  }

  #arm(): void {
    clearTimeout(this.#timer);
    const head = this.#queue[0];
    if (!head) return;
    this.#timer = setTimeout(() => this.#flush(), Math.max(0, head.at - performance.now()));
  }

  #flush(): void {
    const now = performance.now();
    while (this.#queue.length > 0 && this.#queue[0]!.at <= now + 0.5) {
      const p = this.#queue.shift()!;
      this.counts.out++;
      p.send(p.buf);
    }
    this.#arm();
  }

  /** What was offered to the link over the last second (kbit/s, headers counted) and the cap's queue now (ms). */
  second(now = performance.now()): { kbps: number; queueMs: number } {
    const kbps = Math.round((this.#bytesIn * 8) / 1000);
    this.#bytesIn = 0;
    return { kbps, queueMs: Math.round(Math.max(0, this.#busyUntil - now)) };
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#queue.length = 0;
  }
}

function hostPort(v: string | undefined, what: string): { host: string; port: number } {
  const m = /^([\d.]+):(\d+)$/.exec(v ?? '');
  if (!m) throw new Error(`${what}: expected IPv4:port, got ${v}`);
  return { host: m[1]!, port: Number(m[2]) };
}

function main(): void {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const listen = hostPort(arg('--listen'), '--listen');
  const target = hostPort(arg('--target'), '--target');
  const up = new Link();
  const down = new Link();
  const server = dgram.createSocket('udp4');
  /** One upstream socket per browser address, as a NAT would map it. */
  const flows = new Map<string, dgram.Socket>();
  const MAX_FLOWS = 64;

  server.on('message', (msg, rinfo) => {
    const key = `${rinfo.address}:${rinfo.port}`;
    let sock = flows.get(key);
    if (!sock) {
      if (flows.size >= MAX_FLOWS) return;
      const s = dgram.createSocket('udp4');
      s.on('message', (reply) => down.push(reply, (b) => server.send(b, rinfo.port, rinfo.address)));
      s.on('error', () => undefined);
      s.bind(0, () => undefined);
      flows.set(key, s);
      sock = s;
    }
    const out = sock;
    up.push(msg, (b) => out.send(b, target.port, target.host));
  });
  server.on('error', (err) => {
    console.error(`impair error ${err.message}`);
    process.exit(1);
  });
  server.bind(listen.port, listen.host, () => console.log(`impair ready ${listen.host}:${listen.port}`));
  // Once a second, what each link was offered and how deep its queue is: where a delay sits.
  const seconds = setInterval(() => console.log(`impair second ${JSON.stringify({ up: up.second(), down: down.second() })}`), 1000);

  readline.createInterface({ input: process.stdin }).on('line', (line) => {
    try {
      const m = JSON.parse(line) as ImpairSettings & { stats?: boolean };
      if (m.stats) {
        console.log(`impair stats ${JSON.stringify({ up: up.counts, down: down.counts, flows: flows.size })}`);
        return;
      }
      up.set(m.up ?? {});
      down.set(m.down ?? {});
      console.log(`impair set ${JSON.stringify(m)}`);
    } catch (err) {
      console.error(`impair bad line ${(err as Error).message}`);
    }
  });
  const stop = () => {
    clearInterval(seconds);
    up.close();
    down.close();
    for (const s of flows.values()) s.close();
    server.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) main();
