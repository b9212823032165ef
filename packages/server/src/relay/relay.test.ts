import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { coturnConfig, ManagedCoturn } from './coturn.js';
import { turnCredential } from './credentials.js';
import { findBinary, Relay } from './relay.js';

const log = pino({ level: 'silent' });
const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'duet-relay-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('TURN REST credentials', () => {
  it('match what coturn computes: base64(HMAC-SHA1(secret, "<expiry>:<user>"))', () => {
    const c = turnCredential('s3cret-s3cret-s3cret-s3cret-s3cret', 'user-1', 1_700_000_000_500, 600);
    expect(c.username).toBe('1700000600:user-1');
    expect(c.expiresAt).toBe(1_700_000_600_000);
    // Computed independently with openssl.
    const expected = execFileSync('sh', [
      '-c',
      `printf '%s' '${c.username}' | openssl dgst -sha1 -hmac 's3cret-s3cret-s3cret-s3cret-s3cret' -binary | base64`,
    ])
      .toString()
      .trim();
    expect(c.credential).toBe(expected);
  });
});

describe('relay configuration', () => {
  it('hardens coturn: REST auth only, no CLI, private and loopback peers denied, quotas', () => {
    const conf = coturnConfig({
      dataDir: '/tmp/x',
      userDb: '/tmp/x/turndb',
      realm: 'duet',
      listenIps: ['203.0.113.10'],
      port: 3478,
      minPort: 49160,
      maxPort: 49999,
      allowedPeerIps: [],
      allowLoopbackPeers: false,
      userQuota: 12,
      totalQuota: 2000,
      maxBytesPerSecond: 500_000,
      tls: undefined,
    });
    for (const line of [
      'use-auth-secret',
      'userdb=/tmp/x/turndb',
      'no-cli',
      'no-multicast-peers',
      'denied-peer-ip=10.0.0.0-10.255.255.255',
      'denied-peer-ip=127.0.0.0-127.255.255.255',
      'denied-peer-ip=192.168.0.0-192.168.255.255',
      'user-quota=12',
      'total-quota=2000',
      'max-bps=500000',
      'listening-ip=203.0.113.10',
      'no-tls',
    ]) {
      expect(conf.split('\n')).toContain(line);
    }
    expect(conf).not.toContain('allow-loopback-peers');
    expect(conf).not.toContain('static-auth-secret'); // secrets live in the user database, to rotate live
  });

  it('is off without coturn and says so; external mode needs urls and a secret', () => {
    const off = new Relay(loadConfig({ DATA_DIR: tmp(), TURN_MODE: 'off', STUN_URLS: 'stun:stun.example.test:3478' }), log);
    expect(off.status()).toMatchObject({ mode: 'off', warning: expect.stringContaining('No TURN relay') });
    expect(off.iceServersFor('u', 0)).toEqual([{ urls: ['stun:stun.example.test:3478'] }]);
    expect(() => loadConfig({ TURN_MODE: 'external', TURN_URLS: 'turn:turn.example.test:3478' })).toThrow('TURN_MODE=external needs');
    const ext = new Relay(
      loadConfig({
        DATA_DIR: tmp(),
        TURN_MODE: 'external',
        TURN_URLS: 'turn:turn.example.test:3478?transport=udp,turns:turn.example.test:443?transport=tcp',
        TURN_SECRET: 'e'.repeat(40),
      }),
      log,
    );
    const [turn] = ext.iceServersFor('user-9', 1_000_000);
    expect(turn).toMatchObject({
      urls: ['turn:turn.example.test:3478?transport=udp', 'turns:turn.example.test:443?transport=tcp'],
      username: `${1_000 + 3_600}:user-9`,
    });
    expect(turn!.credential).toBe(turnCredential('e'.repeat(40), 'user-9', 1_000_000, 3_600).credential);
  });
});

// CI installs coturn, so there this suite always runs.
describe.runIf(findBinary('turnserver') || process.env.CI)('managed coturn', () => {
  it('starts, hands out TURN over UDP and TCP, and is restarted when it dies', async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const config = loadConfig({
      DATA_DIR: tmp(),
      TURN_MODE: 'managed',
      TURN_PORT: String(port),
      TURN_LISTEN_IPS: '127.0.0.1',
      TURN_HOST: '127.0.0.1',
      TURN_MIN_PORT: String(port + 1),
      TURN_MAX_PORT: String(port + 40),
    });
    const relay = new Relay(config, log);
    await relay.start();
    try {
      expect(relay.status()).toEqual({ mode: 'managed', state: 'running' });
      const servers = relay.iceServersFor('u1', Date.now());
      expect(servers[0]).toEqual({ urls: [`stun:127.0.0.1:${port}`] });
      expect(servers[1]?.urls).toEqual([`turn:127.0.0.1:${port}?transport=udp`, `turn:127.0.0.1:${port}?transport=tcp`]);
      const conf = fs.readFileSync(path.join(config.dataDir, 'coturn', 'turnserver.conf'));
      expect(fs.statSync(path.join(config.dataDir, 'coturn', 'turnserver.conf')).mode & 0o077).toBe(0); // the secret is in there
      expect(conf.toString()).toContain('use-auth-secret');
      // Rotation: the new secret signs from now on, the old one stays accepted until its credentials expire.
      const before = relay.iceServersFor('u1', 1_000)[1]!.credential;
      expect(relay.acceptedSecrets()).toBe(1);
      relay.rotateSecret();
      expect(relay.acceptedSecrets()).toBe(2);
      expect(relay.iceServersFor('u1', 1_000)[1]!.credential).not.toBe(before);
      expect(relay.status().state).toBe('running'); // no restart
    } finally {
      await relay.stop();
    }
    expect(relay.status().state).toBe('stopped');
  });

  it('supervises: a crashed coturn comes back', async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const coturn = new ManagedCoturn({
      binary: findBinary('turnserver')!,
      dataDir: tmp(),
      userDb: path.join(tmp(), 'turndb'),
      realm: 'duet',
      listenIps: ['127.0.0.1'],
      port,
      minPort: port + 1,
      maxPort: port + 20,
      allowedPeerIps: [],
      allowLoopbackPeers: false,
      userQuota: 2,
      totalQuota: 10,
      maxBytesPerSecond: 100_000,
      tls: undefined,
      log,
    });
    await coturn.start();
    try {
      const first = coturn.pid!;
      process.kill(first, 'SIGKILL');
      const deadline = Date.now() + 10_000;
      while ((coturn.status !== 'running' || coturn.pid === first || coturn.pid === undefined) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      expect(coturn.status).toBe('running');
      expect(coturn.restarts).toBe(1);
      expect(coturn.pid).not.toBe(first);
    } finally {
      await coturn.stop();
    }
  });
});
