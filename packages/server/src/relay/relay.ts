import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { IceServer } from '@duet/protocol';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { ManagedCoturn } from './coturn.js';
import { turnCredential } from './credentials.js';

export type RelayMode = 'managed' | 'external' | 'off';

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
  readonly #secret: string | undefined;
  readonly #coturn: ManagedCoturn | undefined;
  readonly #urls: string[];
  readonly #stunUrls: string[];

  constructor(config: Config, log: Logger) {
    this.#config = config;
    this.#log = log.child({ module: 'relay' });
    const t = config.turn;
    const binary = findBinary(t.binary);
    this.mode = t.mode === 'auto' ? (binary ? 'managed' : 'off') : t.mode;
    if (this.mode === 'managed' && !binary) throw new Error(`TURN_MODE=managed but "${t.binary}" is not installed (apt-get install coturn)`);
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
        secret: this.#secret,
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
      });
    } else {
      this.#urls = [];
    }
  }

  async start(): Promise<void> {
    if (this.mode === 'off') {
      this.#log.warn('no TURN relay: calls between people behind symmetric NAT or UDP-blocking firewalls will fail. Install coturn or set TURN_MODE=external.');
      return;
    }
    if (this.#coturn) {
      await this.#coturn.start();
      this.#log.info({ urls: this.#urls, pid: this.#coturn.pid }, 'managed relay (coturn) running');
    } else {
      this.#log.info({ urls: this.#urls }, 'external relay configured');
    }
  }

  stop(): Promise<void> {
    return this.#coturn?.stop() ?? Promise.resolve();
  }

  get available(): boolean {
    return this.mode !== 'off';
  }

  status(): RelayStatus {
    if (this.mode === 'off') return { mode: 'off', state: 'off', warning: 'No TURN relay: some calls cannot connect.' };
    if (this.mode === 'external') return { mode: 'external', state: 'configured' };
    return { mode: 'managed', state: this.#coturn!.status };
  }

  /** ICE servers for one person and call: STUN, and TURN with a credential of their own. */
  iceServersFor(userId: string, now: number): IceServer[] {
    const servers: IceServer[] = [];
    if (this.#stunUrls.length > 0) servers.push({ urls: [...this.#stunUrls] });
    if (this.#secret && this.#urls.length > 0) {
      const { username, credential } = turnCredential(this.#secret, userId, now, this.#config.turn.credentialTtlSeconds);
      servers.push({ urls: [...this.#urls], username, credential });
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
