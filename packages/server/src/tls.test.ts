import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { PROTOCOL_VERSION } from '@duet/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createDuetServer, type DuetServer } from './app.js';
import { loadConfig } from './config.js';

/** Cameras need a secure context: with a certificate, Duet serves HTTPS and WSS on its one port. */
describe('HTTPS and WSS with a configured certificate', () => {
  let dir: string;
  let duet: DuetServer;
  let base: URL;
  let ca: Buffer;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duet-tls-'));
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    // A throwaway self-signed certificate for 127.0.0.1, trusted only by this test.
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    ca = fs.readFileSync(cert);
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dir,
      LOG_LEVEL: 'silent',
      TURN_MODE: 'off',
      TLS_CERT_FILE: cert,
      TLS_KEY_FILE: key,
    });
    duet = await createDuetServer(config, { sqliteFile: ':memory:' });
    base = new URL(await duet.listen());
  });

  afterAll(async () => {
    await duet?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const request = (method: string, p: string, body?: unknown) =>
    new Promise<{ status: number; json: unknown }>((resolve, reject) => {
      const req = https.request(new URL(p, base), { method, ca, headers: { 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : null }));
      });
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });

  it('answers health checks over https', async () => {
    expect(base.protocol).toBe('https:');
    const res = await request('GET', '/healthz');
    expect(res).toMatchObject({ status: 200, json: { status: 'ok' } });
  });

  it('accepts a signaling connection over wss', async () => {
    const { json } = await request('POST', '/api/session', {});
    const token = (json as { token: string }).token;
    const ws = new WebSocket(`wss://127.0.0.1:${base.port}/ws`, { ca });
    const welcome = await new Promise<unknown>((resolve, reject) => {
      ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, token })));
      ws.on('message', (d) => resolve(JSON.parse(d.toString())));
      ws.on('error', reject);
    });
    expect(welcome).toMatchObject({ type: 'welcome', v: PROTOCOL_VERSION });
    ws.close();
  });
});
