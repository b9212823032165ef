/**
 * The NAT lab: real Linux network namespaces, veth pairs and iptables NAT (run as root).
 *
 *                         ┌──────────── <id>-inet ("the internet") ────────────┐
 *                         │ bridge <id>br: 203.0.113.1/24, 198.51.100.1/24       │
 *                         │ routes to no-NAT LANs (192.0.2.x/28) via their router │
 *                         │ default: blackhole (unroutable → dropped silently)    │
 *                         └──┬───────────────────┬─────────────────────┬─────────┘
 *        <id>-pub            │        <id>-ra    │            <id>-rb  │
 *   203.0.113.10 (+ extras)  │  WAN 198.51.100.10│      WAN 198.51.100.11
 *   Duet server, coturn …    │  NAT + firewall   │      NAT + firewall
 *                            │        │ LAN      │             │ LAN
 *                            │     <id>-ha       │          <id>-hb
 *                            │  192.168.10.2     │       192.168.20.2   (or 192.0.2.x with nat 'none')
 *                            │  Chromium (peer a)│       Chromium (peer b)
 *
 * Only documentation addresses (203.0.113.0/24, 198.51.100.0/24, 192.0.2.0/24) and private LANs
 * inside the lab's own namespaces are used; no namespace has a link to the host, so nothing can
 * leave the lab. Every name carries a per-run id `dl<4 hex>`; namespaces, veth ends, processes and
 * the temp folder are removed by `destroy()`, and by a synchronous handler at process exit.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The Duet server's address on the public segment. */
export const PUBLIC_IP = '203.0.113.10';
const PUBLIC_GW = '203.0.113.1';
const WAN_GW = '198.51.100.1';

/**
 * How a site's router connects its LAN to the internet.
 * - `none`: no NAT, the peer has a public address (192.0.2.x).
 * - `cone`: `MASQUERADE` (keeps the source port): port-restricted cone NAT.
 * - `symmetric`: `MASQUERADE --random-fully`: a new random port per destination.
 * - `udp-blocked`: like `cone`, but every outbound UDP packet is dropped (TCP only).
 */
export type Nat = 'none' | 'cone' | 'symmetric' | 'udp-blocked';

export interface SiteOptions {
  nat: Nat;
  /**
   * Stateful firewall on the router: inbound packets from the WAN are accepted only when they belong
   * to a connection opened from inside (conntrack ESTABLISHED,RELATED), everything else is dropped,
   * on both INPUT and FORWARD. Default: on for every NAT type, off for `none`.
   */
  firewall?: boolean;
}

const ID_RE = /^dl[0-9a-f]{4}$/;
const NS_RE = /^(dl[0-9a-f]{4})-[a-z0-9]+$/;

function ownerDir(id: string): string {
  return path.join(os.tmpdir(), `duet-netlab-${id}`);
}

/** Runs a command; on failure the error names the command and its stderr. */
async function run(cmd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync(cmd, args, { encoding: 'utf8' });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`, { cause: err });
  }
}

function runSync(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
}

function listNamespaces(): string[] {
  return runSync('ip', ['netns', 'list'])
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

function pidsIn(ns: string): number[] {
  return runSync('ip', ['netns', 'pids', ns])
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Synchronous, best-effort removal of one lab: kill what runs in its namespaces (only processes
 * this harness started live there), delete the veth ends, then the namespaces, then its temp folder.
 */
function teardownSync(id: string, namespaces: string[], links: Array<[ns: string, dev: string]>, pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const ns of namespaces) {
    for (const pid of pidsIn(ns)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  for (const [ns, dev] of links) runSync('ip', ['-n', ns, 'link', 'del', dev]);
  for (const ns of namespaces) runSync('ip', ['netns', 'del', ns]);
  fs.rmSync(ownerDir(id), { recursive: true, force: true });
}

/**
 * Removes labs left behind by a run that was killed outright (SIGKILL leaves no chance to clean up):
 * namespaces named `dl<hex>-…` whose owner process is gone. A lab whose owner still runs (another
 * run in parallel) is left alone.
 */
export function sweepStaleLabs(): string[] {
  const byId = new Map<string, string[]>();
  for (const ns of listNamespaces()) {
    const m = NS_RE.exec(ns);
    if (m) byId.set(m[1]!, [...(byId.get(m[1]!) ?? []), ns]);
  }
  const swept: string[] = [];
  for (const [id, namespaces] of byId) {
    let owner = 0;
    try {
      owner = Number(fs.readFileSync(path.join(ownerDir(id), 'owner.pid'), 'utf8'));
    } catch {
      // no owner file: abandoned
    }
    if (owner > 0 && alive(owner)) continue;
    teardownSync(id, namespaces, [], []);
    swept.push(id);
  }
  return swept;
}

/** Labs not yet destroyed, removed synchronously if the process exits first. */
const liveLabs = new Set<Lab>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const lab of liveLabs) lab.destroySync();
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      for (const lab of liveLabs) lab.destroySync();
      process.kill(process.pid, signal);
    });
  }
}

/** A process started inside one of the lab's namespaces. */
export class LabProcess {
  readonly lines: string[] = [];
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;
  #waiters: Array<{ re: RegExp; resolve: (line: string) => void }> = [];

  constructor(
    readonly name: string,
    child: ChildProcess,
  ) {
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      readline.createInterface({ input: stream }).on('line', (line) => {
        if (this.lines.length < 5000) this.lines.push(line);
        this.#waiters = this.#waiters.filter((w) => {
          if (!w.re.test(line)) return true;
          w.resolve(line);
          return false;
        });
      });
    }
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Writes one line to the process's stdin (started with `stdin: true`); false if it has none. */
  writeLine(line: string): boolean {
    const stdin = this.#child.stdin;
    if (!stdin || !this.running) return false;
    stdin.write(`${line}\n`);
    return true;
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Resolves with the first output line (stdout or stderr) matching `re`, seen before or after the call. */
  waitForLine(re: RegExp, timeoutMs: number): Promise<string> {
    const seen = this.lines.find((l) => re.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.re !== re);
        reject(new Error(`${this.name}: no line matching ${re} in ${timeoutMs} ms\n${this.lines.slice(-30).join('\n')}`));
      }, timeoutMs);
      void this.#exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${code}) before printing ${re}\n${this.lines.slice(-30).join('\n')}`));
      });
      this.#waiters.push({
        re,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
    });
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (-1 if killed by a signal). */
  async stop(graceMs = 5000): Promise<number | null> {
    if (!this.running) return this.#exited;
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
    try {
      return await this.#exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** One peer's network: a router namespace (WAN on the internet, LAN inside) and a LAN host namespace. */
export class Site {
  constructor(
    private readonly lab: Lab,
    readonly name: string,
    readonly nat: Nat,
    readonly firewall: boolean,
    /** Namespace of the router (NAT and firewall live here). */
    readonly routerNs: string,
    /** Namespace of the LAN host, where this peer's browser runs. */
    readonly hostNs: string,
    readonly wanDev: string,
    readonly lanDev: string,
    /** The router's address on the internet. */
    readonly wanIp: string,
    /** The host's own address (public 192.0.2.x with `none`, private otherwise). */
    readonly hostIp: string,
    /** The router's address on the LAN (the host's gateway). */
    readonly routerLanIp: string,
  ) {}

  /** The address the rest of the internet sees this peer's traffic come from. */
  get publicIp(): string {
    return this.nat === 'none' ? this.hostIp : this.wanIp;
  }

  iptables(args: string[]): Promise<string> {
    return this.lab.exec(this.routerNs, ['iptables', '-w', ...args]);
  }

  /**
   * Cuts the site off the internet for `ms` (every packet through the router dropped, both ways),
   * then restores it. `link` takes the WAN link down instead — the router then also loses its route.
   */
  async cut(ms: number, how: 'drop' | 'link' = 'drop'): Promise<void> {
    await this.setCut(true, how);
    try {
      await new Promise((r) => setTimeout(r, ms));
    } finally {
      await this.setCut(false, how);
    }
  }

  async setCut(cut: boolean, how: 'drop' | 'link' = 'drop'): Promise<void> {
    if (how === 'link') {
      await this.lab.exec(this.routerNs, ['ip', 'link', 'set', this.wanDev, cut ? 'down' : 'up']);
      if (!cut) await this.lab.exec(this.routerNs, ['ip', 'route', 'replace', 'default', 'via', WAN_GW]);
      return;
    }
    const rule = ['FORWARD', '-m', 'comment', '--comment', 'duet-netlab-cut', '-j', 'DROP'];
    await this.iptables(cut ? ['-I', ...rule.slice(0, 1), '1', ...rule.slice(1)] : ['-D', ...rule]);
  }

  /** Conntrack-level view of the router's NAT table, for debugging (`ip netns exec … cat`). */
  conntrack(): Promise<string> {
    return this.lab.exec(this.routerNs, ['cat', '/proc/net/nf_conntrack']).catch(() => '');
  }
}

export interface DuetServer {
  process: LabProcess;
  /** http://203.0.113.10:<port> — what the browsers open. */
  origin: string;
  dataDir: string;
  logs: Array<Record<string, unknown>>;
  stop(): Promise<number | null>;
}

export class Lab {
  readonly id: string;
  readonly tmp: string;
  readonly inetNs: string;
  readonly pubNs: string;
  readonly sites: Site[] = [];
  readonly #namespaces: string[] = [];
  /** Veth ends to delete explicitly (deleting one end removes its peer). */
  readonly #links: Array<[ns: string, dev: string]> = [];
  readonly #processes = new Set<LabProcess>();
  readonly #bridge: string;
  readonly #pubDev: string;
  #destroyed = false;

  private constructor(id: string) {
    this.id = id;
    this.tmp = ownerDir(id);
    this.inetNs = `${id}-inet`;
    this.pubNs = `${id}-pub`;
    this.#bridge = `${id}br`;
    this.#pubDev = `${id}p0`;
  }

  /** Builds the internet and the public segment (203.0.113.10). Sites are added with `addSite`. */
  static async create(): Promise<Lab> {
    if (process.getuid?.() !== 0) throw new Error('the NAT lab needs root (network namespaces, iptables)');
    sweepStaleLabs();
    installExitHook();
    const existing = new Set(listNamespaces());
    let id = '';
    for (let i = 0; i < 20 && !id; i++) {
      const candidate = `dl${randomBytes(2).toString('hex')}`;
      if (!ID_RE.test(candidate) || [...existing].some((ns) => ns.startsWith(`${candidate}-`))) continue;
      try {
        fs.mkdirSync(ownerDir(candidate), { mode: 0o700 });
        id = candidate;
      } catch {
        // taken by a parallel run
      }
    }
    if (!id) throw new Error('could not pick a free lab id');
    // Written before any namespace exists, so a parallel sweep never takes this lab for abandoned.
    fs.writeFileSync(path.join(ownerDir(id), 'owner.pid'), String(process.pid));
    const lab = new Lab(id);
    liveLabs.add(lab);
    try {
      await lab.#buildCore();
    } catch (err) {
      await lab.destroy();
      throw err;
    }
    return lab;
  }

  /** Runs a command inside a namespace and returns its stdout. */
  exec(ns: string, argv: string[]): Promise<string> {
    return run('ip', ['netns', 'exec', ns, ...argv]);
  }

  async #addNs(ns: string, forward: boolean): Promise<void> {
    // Registered before it exists: a teardown racing this call still knows the name.
    this.#namespaces.push(ns);
    await run('ip', ['netns', 'add', ns]);
    await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    // No ICMP redirects: routers on one bridge would otherwise tell each other about shortcuts.
    const sysctls = [
      'net.ipv4.conf.all.send_redirects=0',
      'net.ipv4.conf.default.send_redirects=0',
      'net.ipv6.conf.all.disable_ipv6=1',
      'net.ipv6.conf.default.disable_ipv6=1',
    ];
    if (forward) sysctls.push('net.ipv4.ip_forward=1');
    await this.exec(ns, ['sysctl', '-qw', ...sysctls]);
  }

  /** A veth pair created directly inside the two namespaces (never in the host's namespace). */
  async #addVeth(nsA: string, devA: string, nsB: string, devB: string): Promise<void> {
    this.#links.push([nsA, devA]);
    await run('ip', ['link', 'add', devA, 'netns', nsA, 'type', 'veth', 'peer', 'name', devB, 'netns', nsB]);
  }

  async #buildCore(): Promise<void> {
    const { inetNs, pubNs, id } = this;
    const br = this.#bridge;
    await this.#addNs(inetNs, true);
    await this.#addNs(pubNs, false);
    await this.exec(inetNs, ['ip', 'link', 'add', br, 'type', 'bridge']);
    await this.exec(inetNs, ['ip', 'addr', 'add', `${PUBLIC_GW}/24`, 'dev', br]);
    await this.exec(inetNs, ['ip', 'addr', 'add', `${WAN_GW}/24`, 'dev', br]);
    await this.exec(inetNs, ['ip', 'link', 'set', br, 'up']);
    // Unroutable destinations (private peer addresses a relay is asked to reach, say) are dropped
    // silently. `blackhole` drops forwarded packets without an ICMP error; `unreachable` and
    // `prohibit` answer with ICMP errors, and a namespace without a default route makes sendto()
    // fail with ENETUNREACH, after which coturn gives up on the allocation.
    await this.exec(inetNs, ['ip', 'route', 'add', 'blackhole', 'default']);
    // Count what the internet gets that is not for the lab's public ranges (all of it is dropped
    // by the blackhole): DNS lookups that should never have left a browser, and anything else
    // (checks towards a partner's private host candidate, say). See `voidCounters()`.
    const mangle = (args: string[]) => this.exec(inetNs, ['iptables', '-w', '-t', 'mangle', '-A', 'PREROUTING', ...args]);
    for (const net of ['203.0.113.0/24', '198.51.100.0/24', '192.0.2.0/24']) await mangle(['-d', net, '-j', 'RETURN']);
    for (const proto of ['udp', 'tcp'])
      await mangle(['-p', proto, '--dport', '53', '-m', 'comment', '--comment', 'netlab-dns', '-j', 'RETURN']);
    await mangle(['-m', 'comment', '--comment', 'netlab-void']);

    await this.#addVeth(pubNs, this.#pubDev, inetNs, `${id}p1`);
    await this.exec(inetNs, ['ip', 'link', 'set', `${id}p1`, 'master', br, 'up']);
    await this.exec(pubNs, ['ip', 'addr', 'add', `${PUBLIC_IP}/24`, 'dev', this.#pubDev]);
    await this.exec(pubNs, ['ip', 'link', 'set', this.#pubDev, 'up']);
    await this.exec(pubNs, ['ip', 'route', 'add', 'default', 'via', PUBLIC_GW]);
  }

  /**
   * Packets that reached the internet for addresses outside the lab (and were dropped there):
   * `dns` to port 53, `other` everything else.
   */
  async voidCounters(): Promise<{ dns: number; other: number }> {
    const out = await this.exec(this.inetNs, ['iptables', '-w', '-t', 'mangle', '-L', 'PREROUTING', '-v', '-n', '-x']);
    const counters = { dns: 0, other: 0 };
    for (const line of out.split('\n')) {
      const pkts = Number(line.trim().split(/\s+/)[0]);
      if (line.includes('netlab-dns')) counters.dns += pkts;
      else if (line.includes('netlab-void')) counters.other += pkts;
    }
    return counters;
  }

  /** Adds another address on the public segment (203.0.113.x) to the public namespace, e.g. for a TURN server. */
  async addPublicAddress(ip: string): Promise<void> {
    if (!/^203\.0\.113\.\d{1,3}$/.test(ip)) throw new Error(`public addresses are 203.0.113.x, not ${ip}`);
    await this.exec(this.pubNs, ['ip', 'addr', 'add', `${ip}/24`, 'dev', this.#pubDev]);
  }

  /** Adds a peer's site: router namespace with NAT/firewall, and a LAN host namespace behind it. */
  async addSite(name: string, options: SiteOptions): Promise<Site> {
    if (!/^[a-z]$/.test(name) || this.sites.some((s) => s.name === name)) throw new Error(`bad or duplicate site name ${name}`);
    const k = this.sites.length;
    if (k >= 8) throw new Error('at most 8 sites');
    const { id, inetNs } = this;
    const routerNs = `${id}-r${name}`;
    const hostNs = `${id}-h${name}`;
    const wanDev = `${id}${name}w0`;
    const lanDev = `${id}${name}l0`;
    const hostDev = `${id}${name}l1`;
    const wanIp = `198.51.100.${10 + k}`;
    const nat = options.nat;
    const firewall = options.firewall ?? nat !== 'none';
    // No NAT: the LAN is a public /28 out of 192.0.2.0/24 that the internet routes to the router.
    const lanNet = nat === 'none' ? `192.0.2.${16 * k}` : `192.168.${10 * (k + 1)}.0`;
    const prefix = nat === 'none' ? 28 : 24;
    const base = lanNet.split('.').map(Number);
    const routerLanIp = [...base.slice(0, 3), base[3]! + 1].join('.');
    const hostIp = [...base.slice(0, 3), base[3]! + 2].join('.');

    await this.#addNs(routerNs, true);
    await this.#addNs(hostNs, false);
    await this.#addVeth(routerNs, wanDev, inetNs, `${id}${name}w1`);
    await this.exec(inetNs, ['ip', 'link', 'set', `${id}${name}w1`, 'master', this.#bridge, 'up']);
    await this.exec(routerNs, ['ip', 'addr', 'add', `${wanIp}/24`, 'dev', wanDev]);
    await this.exec(routerNs, ['ip', 'link', 'set', wanDev, 'up']);
    await this.exec(routerNs, ['ip', 'route', 'add', 'default', 'via', WAN_GW]);

    await this.#addVeth(routerNs, lanDev, hostNs, hostDev);
    await this.exec(routerNs, ['ip', 'addr', 'add', `${routerLanIp}/${prefix}`, 'dev', lanDev]);
    await this.exec(routerNs, ['ip', 'link', 'set', lanDev, 'up']);
    await this.exec(hostNs, ['ip', 'addr', 'add', `${hostIp}/${prefix}`, 'dev', hostDev]);
    await this.exec(hostNs, ['ip', 'link', 'set', hostDev, 'up']);
    await this.exec(hostNs, ['ip', 'route', 'add', 'default', 'via', routerLanIp]);
    if (nat === 'none') await this.exec(inetNs, ['ip', 'route', 'add', `${lanNet}/${prefix}`, 'via', wanIp]);

    const ipt = (args: string[]) => this.exec(routerNs, ['iptables', '-w', ...args]);
    if (nat !== 'none') {
      await ipt(['-t', 'nat', '-A', 'POSTROUTING', '-o', wanDev, '-j', 'MASQUERADE', ...(nat === 'symmetric' ? ['--random-fully'] : [])]);
    }
    if (nat === 'udp-blocked') await ipt(['-A', 'FORWARD', '-i', lanDev, '-o', wanDev, '-p', 'udp', '-j', 'DROP']);
    if (firewall) {
      // Like every home router: from the WAN, only replies to what the inside started. INPUT matters
      // as much as FORWARD: an unsolicited packet to the router's own address and a port with no
      // mapping is delivered locally, and if accepted it leaves a conntrack entry that makes the
      // NAT pick a different port for the inside host's later packets to that sender.
      for (const chain of ['INPUT', 'FORWARD']) {
        await ipt(['-A', chain, '-i', wanDev, '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT']);
        await ipt(['-A', chain, '-i', wanDev, '-j', 'DROP']);
      }
    }
    const site = new Site(this, name, nat, firewall, routerNs, hostNs, wanDev, lanDev, wanIp, hostIp, routerLanIp);
    this.sites.push(site);
    return site;
  }

  /**
   * Starts any program inside a namespace (the public one by default): `ip netns exec <ns> cmd …`.
   * The process is stopped by `destroy()` if the caller has not stopped it.
   */
  spawn(
    command: string,
    args: string[],
    options: { ns?: string; env?: Record<string, string>; name?: string; cwd?: string; stdin?: boolean } = {},
  ): LabProcess {
    const child = spawn('ip', ['netns', 'exec', options.ns ?? this.pubNs, command, ...args], {
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', HOME: process.env.HOME ?? '/root', ...options.env },
      cwd: options.cwd ?? this.tmp,
      stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    const proc = new LabProcess(options.name ?? path.basename(command), child);
    this.#processes.add(proc);
    return proc;
  }

  /**
   * The real Duet server (`node packages/server/dist/main.js`) in the public namespace, on
   * 203.0.113.10:<port>, with its own data folder; resolves once it logged "Duet is ready".
   * `main` runs another build of the server (a copy kept inside the repository, so its imports resolve).
   */
  async startServer(
    env: Record<string, string> = {},
    port = 8080,
    main = path.join(ROOT, 'packages/server/dist/main.js'),
  ): Promise<DuetServer> {
    const dataDir = fs.mkdtempSync(path.join(this.tmp, 'data-'));
    const proc = this.spawn(process.execPath, [main], {
      name: 'duet-server',
      cwd: ROOT,
      // Load shedding off, as in the other harnesses: browsers and servers share the machine's cores,
      // and this lab is about reaching each other, not about refusing newcomers.
      env: { PORT: String(port), HOST: '0.0.0.0', DATA_DIR: dataDir, LOG_LEVEL: 'info', BUSY_LAG_MS: '0', ...env },
    });
    await proc.waitForLine(/"msg":"Duet is ready/, 20_000);
    const logs: Array<Record<string, unknown>> = [];
    return {
      process: proc,
      origin: `http://${PUBLIC_IP}:${port}`,
      dataDir,
      get logs() {
        logs.length = 0;
        for (const line of proc.lines) {
          try {
            logs.push(JSON.parse(line) as Record<string, unknown>);
          } catch {
            // not a log line
          }
        }
        return logs;
      },
      stop: () => proc.stop(),
    };
  }

  /**
   * coturn in STUN-only mode on `ip`:3478 inside the public namespace (no TURN, no TLS, no config
   * file, nothing written outside the lab's temp folder). Resolves once its UDP listener is open.
   */
  async startStun(ip = PUBLIC_IP, port = 3478): Promise<LabProcess> {
    const proc = this.spawn(
      'turnserver',
      [
        '-n',
        `--listening-ip=${ip}`,
        `--listening-port=${port}`,
        '--stun-only',
        '--no-cli',
        '--no-tls',
        '--no-dtls',
        '--log-file=stdout',
        '--simple-log',
        '--verbose',
        `--pidfile=${path.join(this.tmp, `turnserver-${port}.pid`)}`,
        `--userdb=${path.join(this.tmp, `turndb-${port}`)}`,
      ],
      { name: 'coturn-stun' },
    );
    await proc.waitForLine(new RegExp(`UDP listener opened on\\s*:\\s*${ip.replace(/\./g, '\\.')}:${port}`), 10_000);
    return proc;
  }

  /**
   * A copy of the built web app (apps/web/dist) in the lab's temp folder, for the server's WEB_DIR:
   * a rebuild of the working tree while the lab runs cannot pull the page out from under it.
   */
  snapshotWebApp(): string {
    const src = path.join(ROOT, 'apps/web/dist');
    if (!fs.existsSync(path.join(src, 'index.html'))) throw new Error(`no built web app in ${src}: run npm run build first`);
    const dest = path.join(this.tmp, 'web');
    fs.cpSync(src, dest, { recursive: true, filter: (f) => !f.endsWith('.map') });
    return dest;
  }

  /**
   * A one-line launcher that runs Chromium inside a namespace: Playwright starts it as the browser
   * executable and keeps talking to it over the inherited pipe (no network needed for CDP).
   */
  chromiumLauncher(ns: string): string {
    const file = path.join(this.tmp, `chromium-${ns}.sh`);
    const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
    fs.writeFileSync(file, `#!/bin/sh\nexec ip netns exec ${ns} ${chromium} "$@"\n`, { mode: 0o755 });
    return file;
  }

  /** Stops every process, deletes veth ends and namespaces and the temp folder. Safe to call twice. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    await Promise.all([...this.#processes].map((p) => p.stop(3000)));
    this.destroySync();
  }

  destroySync(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    liveLabs.delete(this);
    const pids = [...this.#processes].filter((p) => p.running && p.pid).map((p) => p.pid!);
    teardownSync(this.id, [...this.#namespaces].reverse(), [...this.#links].reverse(), pids);
  }
}

/** Namespaces of this lab that still exist (for tests of the cleanup). */
export function namespacesOf(id: string): string[] {
  return listNamespaces().filter((ns) => ns.startsWith(`${id}-`));
}

export function hasCommand(cmd: string): boolean {
  return runSync('sh', ['-c', `command -v ${cmd}`]).trim() !== '';
}
