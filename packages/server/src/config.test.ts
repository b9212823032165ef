import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('gives a working single node with no environment at all', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      databaseUrl: undefined,
      tls: undefined,
      connectTimeoutMs: 15_000,
      stunUrls: [],
    });
    expect(c.dataDir).toBe(path.resolve('./data'));
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reads every documented variable', () => {
    const c = loadConfig({
      PORT: '9000',
      DATABASE_URL: 'postgres://u@db.example.test:5432/duet',
      TLS_CERT_FILE: '/etc/duet/cert.pem',
      TLS_KEY_FILE: '/etc/duet/key.pem',
      TRUST_PROXY: 'true',
      STUN_URLS: 'stun:stun.example.test:3478, stuns:stun.example.test:5349',
      CONNECT_TIMEOUT_MS: '20000',
    });
    expect(c.port).toBe(9000);
    expect(c.tls).toEqual({ certFile: '/etc/duet/cert.pem', keyFile: '/etc/duet/key.pem' });
    expect(c.trustProxy).toBe(true);
    expect(c.stunUrls).toEqual(['stun:stun.example.test:3478', 'stuns:stun.example.test:5349']);
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ DUET_SECRET: 'short' }, 'DUET_SECRET must be at least 32 characters'],
    [{ TLS_CERT_FILE: '/x.pem' }, 'TLS_CERT_FILE and TLS_KEY_FILE must be set together'],
    [{ STUN_URLS: 'http://nope' }, 'STUN_URLS entries start with stun:'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
  ])('rejects %j with a clear message', (env, text) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(text);
  });
});
