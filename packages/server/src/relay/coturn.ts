import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';

/** Peer ranges a public relay must never send to (loopback, private, link-local, multicast, ...). */
export const DENIED_PEER_RANGES = [
  '0.0.0.0-0.255.255.255',
  '10.0.0.0-10.255.255.255',
  '100.64.0.0-100.127.255.255',
  '127.0.0.0-127.255.255.255',
  '169.254.0.0-169.254.255.255',
  '172.16.0.0-172.31.255.255',
  '192.0.0.0-192.0.0.255',
  '192.168.0.0-192.168.255.255',
  '198.18.0.0-198.19.255.255',
  '224.0.0.0-255.255.255.255',
  '::1',
  '64:ff9b::-64:ff9b::ffff:ffff',
  'fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
  'fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
];

export interface CoturnOptions {
  binary: string;
  dataDir: string;
  /** coturn's SQLite user database, where the REST API secrets live (so they can rotate live). */
  userDb: string;
  realm: string;
  listenIps: readonly string[];
  port: number;
  minPort: number;
  maxPort: number;
  /** Ranges allowed even though they are denied above (a LAN deployment, a lab). */
  allowedPeerIps: readonly string[];
  /** Only for tests on one machine: relay to loopback addresses. Never in production. */
  allowLoopbackPeers: boolean;
  userQuota: number;
  totalQuota: number;
  maxBytesPerSecond: number;
  tls: { certFile: string; keyFile: string; port: number } | undefined;
  log: Logger;
  /** coturn's own accounting of each allocation, as it reports it. */
  onUsage?: (usage: RelayUsage) => void;
}

/** One of coturn's accounting reports: bytes on an allocation's client leg since its previous report. */
export interface RelayUsage {
  /** coturn's session id (one allocation). */
  session: string;
  /** The TURN REST username the allocation was made with: `<expiry>:<userId>`. */
  username: string;
  /** Received from plus sent to the browser (rb + sb). */
  bytes: number;
}

// coturn 4.6 (verbose): "session 001000000000000001: usage: realm=<duet>, username=<1796613363:u>, rp=208, rb=101688, sp=208, sb=101488",
// logged every 4096 packets and when the allocation closes; the counters restart after each report.
// ("peer usage" lines count the relay-to-peer leg, which for a call is another browser's client leg.)
// Anchored whole-line, with the username in the form Duet issues: a client's own text in some other
// log line (a refused username, say) cannot pass for a report.
const USAGE_LINE =
  /^\d+: (?:[A-Za-z]*: )?session (\d+): usage: realm=<[^<>]*>, username=<(\d+:[\w-]+)>, rp=\d+, rb=(\d+), sp=\d+, sb=(\d+)\s*$/;

export function parseUsage(line: string): RelayUsage | undefined {
  const m = USAGE_LINE.exec(line);
  if (!m) return undefined;
  return { session: m[1]!, username: m[2]!, bytes: Number(m[3]) + Number(m[4]) };
}

/** The hardened configuration Duet runs coturn with; written with owner-only permissions. */
export function coturnConfig(o: Omit<CoturnOptions, 'binary' | 'log'>): string {
  const lines = [
    '# Written by Duet at start; edits are overwritten.',
    // Secrets are rows of turn_secret in the user database: coturn reads them on every
    // authentication, so Duet rotates them without restarting the relay (and dropping calls).
    'use-auth-secret',
    `userdb=${o.userDb}`,
    `realm=${o.realm}`,
    'fingerprint',
    'no-cli',
    'no-software-attribute',
    'no-multicast-peers',
    'no-tlsv1',
    'no-tlsv1_1',
    'stale-nonce=600',
    `listening-port=${o.port}`,
    ...o.listenIps.map((ip) => `listening-ip=${ip}`),
    `min-port=${o.minPort}`,
    `max-port=${o.maxPort}`,
    `user-quota=${o.userQuota}`,
    `total-quota=${o.totalQuota}`,
    `max-bps=${o.maxBytesPerSecond}`,
    ...DENIED_PEER_RANGES.filter((r) => !(o.allowLoopbackPeers && r.startsWith('127.'))).map((r) => `denied-peer-ip=${r}`),
    ...o.allowedPeerIps.map((r) => `allowed-peer-ip=${r}`),
    ...(o.allowLoopbackPeers ? ['allow-loopback-peers'] : []),
    ...(o.tls ? [`tls-listening-port=${o.tls.port}`, `cert=${o.tls.certFile}`, `pkey=${o.tls.keyFile}`] : ['no-tls', 'no-dtls']),
    'simple-log',
    'log-file=stdout',
    // Without it coturn does not log its per-allocation usage, which is Duet's relay accounting.
    'verbose',
    `pidfile=${path.join(o.dataDir, 'turnserver.pid')}`,
  ];
  return lines.join('\n') + '\n';
}

export type CoturnStatus = 'starting' | 'running' | 'restarting' | 'stopped';

/**
 * Runs and supervises a local coturn: restarts it with backoff if it dies, stops it with the server.
 */
export class ManagedCoturn {
  #child: ChildProcess | undefined;
  #status: CoturnStatus = 'stopped';
  #restarts = 0;
  #stopping = false;
  #timer: NodeJS.Timeout | undefined;
  readonly #o: CoturnOptions;
  readonly #configFile: string;

  constructor(options: CoturnOptions) {
    this.#o = options;
    this.#configFile = path.join(options.dataDir, 'turnserver.conf');
  }

  get status(): CoturnStatus {
    return this.#status;
  }
  get restarts(): number {
    return this.#restarts;
  }
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Starts coturn and resolves once it is listening (or rejects if it exits first). */
  async start(): Promise<void> {
    this.#stopping = false;
    fs.mkdirSync(this.#o.dataDir, { recursive: true });
    fs.writeFileSync(this.#configFile, coturnConfig(this.#o), { mode: 0o600 });
    await this.#spawn();
  }

  #spawn(): Promise<void> {
    this.#status = this.#restarts === 0 ? 'starting' : 'restarting';
    const child = spawn(this.#o.binary, ['-c', this.#configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    const log = this.#o.log;
    return new Promise((resolve, reject) => {
      let ready = false;
      // Chunks split lines anywhere: keep the unfinished tail for the next one.
      const partial = { stdout: '', stderr: '' };
      const onChunk = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
        const lines = (partial[stream] + chunk.toString()).split('\n');
        partial[stream] = lines.pop() ?? '';
        if (partial[stream].length > 64 * 1024) partial[stream] = '';
        onLines(lines);
      };
      const onLines = (lines: string[]) => {
        for (const line of lines) {
          if (!line.trim()) continue;
          const usage = parseUsage(line);
          if (usage) {
            this.#o.onUsage?.(usage);
            continue;
          }
          // coturn logs every allocation; keep them at debug, errors at warn.
          if (/error|cannot|fail/i.test(line)) log.warn({ coturn: line.trim() }, 'relay');
          else log.debug({ coturn: line.trim() }, 'relay');
          if (!ready && /listener opened on|Total General servers/i.test(line)) {
            ready = true;
            this.#status = 'running';
            resolve();
          }
        }
      };
      child.stdout!.on('data', onChunk('stdout'));
      child.stderr!.on('data', onChunk('stderr'));
      child.once('exit', (code, signal) => {
        this.#child = undefined;
        if (this.#stopping) {
          this.#status = 'stopped';
          return;
        }
        log.error({ code, signal }, 'relay (coturn) exited; restarting');
        if (!ready) reject(new Error(`coturn exited during start (code ${code}); see the relay log lines above`));
        this.#status = 'restarting';
        const delay = Math.min(30_000, 500 * 2 ** Math.min(this.#restarts, 6));
        this.#restarts += 1;
        this.#timer = setTimeout(() => this.#spawn().catch(() => undefined), delay);
        this.#timer.unref();
      });
      // Older builds print nothing recognisable: treat a process alive after 1.5 s as running.
      setTimeout(() => {
        if (!ready && this.#child === child && child.exitCode === null) {
          ready = true;
          this.#status = 'running';
          resolve();
        }
      }, 1_500).unref();
    });
  }

  /** Kills coturn at once, synchronously: for a process about to exit without a clean shutdown. */
  kill(): void {
    this.#stopping = true;
    clearTimeout(this.#timer);
    this.#child?.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#timer);
    const child = this.#child;
    if (!child || child.exitCode !== null) {
      this.#status = 'stopped';
      return;
    }
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), 3_000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
    this.#status = 'stopped';
  }
}
