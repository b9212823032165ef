import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { IceServer } from '@duet/protocol';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { ManagedCoturn, type RelayUsage } from './coturn.js';
import { turnCredential } from './credentials.js';
import { TurnSecrets } from './turnDb.js';

export type RelayMode = 'managed' | 'external' | 'off';

export interface RelayListener {
  /** A person was handed relay credentials for a call. */
  issued?(grant: { username: string; userId: string; callId: string }): void;
  /** Managed mode: coturn reported bytes an allocation carried. */
  usage?(usage: RelayUsage): void;
}

export interface RelayStatus {
  mode: RelayMode;
  /** managed: the coturn process state; external: 'configured'; off: 'off'. */
  state: string;
  warning?: string;
}

/** Whether an executable is on PATH (or is a path that exists). */
export function findBinary(name: string): string | undefined {
  if (name.includes('/')) return fs.existsSync(name) ? name : undefined;
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * The TURN relay: a local coturn Duet runs and supervises (managed), an operator's fleet sharing a
 * secret (external), or none (off — calls behind symmetric NAT or UDP-blocking networks then fail).
 * Hands every person short-lived credentials of their own with each match.
 */
export class Relay {
  readonly mode: RelayMode;
  readonly #config: Config;
  readonly #log: Logger;
  #secret: string | undefined;
  readonly #coturn: ManagedCoturn | undefined;
  #secrets: TurnSecrets | undefined;
  #rotation: NodeJS.Timeout | undefined;
  readonly #retiring = new Set<NodeJS.Timeout>();
  readonly #urls: string[];
  readonly #stunUrls: string[];
  readonly #listeners: RelayListener[] = [];

  constructor(config: Config, log: Logger) {
    this.#config = config;
    this.#log = log.child({ module: 'relay' });
    const t = config.turn;
    const binary = findBinary(t.binary);
    this.mode = t.mode === 'auto' ? (binary ? 'managed' : 'off') : t.mode;
    if (this.mode === 'managed' && !binary)
      throw new Error(`TURN_MODE=managed but "${t.binary}" is not installed (apt-get install coturn)`);
    this.#stunUrls = [...config.stunUrls];
    if (this.mode === 'external') {
      this.#secret = t.secret;
      this.#urls = [...t.urls];
    } else if (this.mode === 'managed') {
      this.#secret = t.secret ?? persistedSecret(config.dataDir);
      const host = t.host;
      this.#urls = [`turn:${host}:${t.port}?transport=udp`, `turn:${host}:${t.port}?transport=tcp`];
      if (config.tls) this.#urls.push(`turns:${host}:${t.tlsPort}?transport=tcp`);
      this.#stunUrls.push(`stun:${host}:${t.port}`);
      this.#coturn = new ManagedCoturn({
        binary: binary!,
        dataDir: path.join(config.dataDir, 'coturn'),
        userDb: path.join(config.dataDir, 'coturn', 'turndb'),
        realm: t.realm,
        listenIps: t.listenIps,
        port: t.port,
        minPort: t.minPort,
        maxPort: t.maxPort,
        allowedPeerIps: t.allowedPeerIps,
        allowLoopbackPeers: t.allowLoopbackPeers,
        userQuota: t.userQuota,
        totalQuota: t.totalQuota,
        maxBytesPerSecond: t.maxBytesPerSecond,
        tls: config.tls ? { ...config.tls, port: t.tlsPort } : undefined,
        log: this.#log,
        onUsage: (usage) => this.#listeners.forEach((l) => l.usage?.(usage)),
      });
    } else {
      this.#urls = [];
    }
  }

  async start(): Promise<void> {
    if (this.mode === 'off') {
      this.#log.warn(
        'no TURN relay: calls between people behind symmetric NAT or UDP-blocking firewalls will fail. Install coturn or set TURN_MODE=external.',
      );
      return;
    }
    if (this.#coturn && this.#config.turn.hostDefaulted) {
      this.#log.warn(
        { turnHost: this.#config.turn.host },
        'TURN_HOST is not set: browsers are told to reach the relay at 127.0.0.1, which works only on this machine. Set TURN_HOST to the public address of this server.',
      );
    }
    if (this.#coturn) {
      fs.mkdirSync(path.join(this.#config.dataDir, 'coturn'), { recursive: true });
      this.#secrets = new TurnSecrets(path.join(this.#config.dataDir, 'coturn', 'turndb'), this.#config.turn.realm);
      // A fresh relay holds no allocations: only the current secret needs to be accepted.
      this.#secrets.set([this.#secret!]);
      await this.#coturn.start();
      this.#log.info({ urls: this.#urls, pid: this.#coturn.pid }, 'managed relay (coturn) running');
      const every = this.#config.turn.rotateSecretSeconds * 1000;
      if (every > 0) {
        this.#rotation = setInterval(() => this.rotateSecret(), every);
        this.#rotation.unref();
      }
    } else {
      this.#log.info({ urls: this.#urls }, 'external relay configured');
    }
  }

  /**
   * Managed mode: a new secret signs every credential from now on; the old one stays accepted until
   * the last credential signed with it expires. Live relayed calls are untouched (coturn is not
   * restarted, and it checks credentials only when an allocation is created).
   */
  rotateSecret(): void {
    if (!this.#secrets || !this.#secret) return;
    const old = this.#secret;
    const next = randomBytes(32).toString('hex');
    this.#secrets.set([...this.#secrets.list(), next]);
    this.#secret = next;
    fs.writeFileSync(path.join(this.#config.dataDir, 'turn-secret.key'), next + '\n', { mode: 0o600 });
    const retire = setTimeout(
      () => {
        this.#retiring.delete(retire);
        this.#secrets?.set(this.#secrets.list().filter((s) => s !== old));
        this.#log.info('previous relay secret retired');
      },
      (this.#config.turn.credentialTtlSeconds + 60) * 1000,
    );
    retire.unref();
    this.#retiring.add(retire);
    this.#log.info('relay secret rotated');
  }

  /** Kills the managed relay at once (a forced exit). */
  kill(): void {
    this.#coturn?.kill();
  }

  /** How many secrets the managed relay accepts right now (1, or 2 during a rotation). */
  acceptedSecrets(): number {
    return this.#secrets?.list().length ?? 0;
  }

  async stop(): Promise<void> {
    clearInterval(this.#rotation);
    for (const t of this.#retiring) clearTimeout(t);
    await this.#coturn?.stop();
    this.#secrets?.close();
    this.#secrets = undefined;
  }

  get available(): boolean {
    return this.mode !== 'off';
  }

  status(): RelayStatus {
    if (this.mode === 'off') return { mode: 'off', state: 'off', warning: 'No TURN relay: some calls cannot connect.' };
    if (this.mode === 'external') return { mode: 'external', state: 'configured' };
    if (this.#config.turn.hostDefaulted)
      return {
        mode: 'managed',
        state: this.#coturn!.status,
        warning: 'TURN_HOST is not set: only browsers on this machine can use the relay.',
      };
    return { mode: 'managed', state: this.#coturn!.status };
  }

  /** Hears of every credential handed out and (managed) coturn's accounting of its allocations. */
  listen(listener: RelayListener): void {
    this.#listeners.push(listener);
  }

  /** ICE servers for one person and call: STUN, and TURN with a credential of their own. */
  iceServersFor(userId: string, now: number, callId?: string): IceServer[] {
    const servers: IceServer[] = [];
    if (this.#stunUrls.length > 0) servers.push({ urls: [...this.#stunUrls] });
    if (this.#secret && this.#urls.length > 0) {
      const { username, credential } = turnCredential(this.#secret, userId, now, this.#config.turn.credentialTtlSeconds);
      servers.push({ urls: [...this.#urls], username, credential });
      if (callId !== undefined) for (const l of this.#listeners) l.issued?.({ username, userId, callId });
    }
    return servers;
  }
}

function persistedSecret(dataDir: string): string {
  const file = path.join(dataDir, 'turn-secret.key');
  try {
    const s = fs.readFileSync(file, 'utf8').trim();
    if (s.length >= 32) return s;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('hex');
  fs.writeFileSync(file, secret + '\n', { mode: 0o600 });
  return secret;
}
