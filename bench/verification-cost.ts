/**
 * What verification costs an attacker (issue 13): the detector time one client address can buy in a
 * minute, through the real HTTP API and the real detector (worker thread), on an in-process server.
 * `npx tsx bench/verification-cost.ts [--seconds=60] [--concurrency=8] [--payload=blank|photo]`.
 *
 * The attacker, from one address, creates guests, accepts the rules, asks for challenges and uploads
 * 24 frames per challenge as fast as the server lets it, `concurrency` uploads at a time:
 * - blank: 24 uniform grey 1280×720 JPEGs (the cheapest junk to make);
 * - photo: 24 frames of one still portrait (a face in every frame: the most a junk upload can cost).
 * Detector time is the `ms` the server logged per attempt (decode + detector + decision, excluding
 * queueing), summed over the window and scaled to one minute.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { createDuetServer } from '../packages/server/src/app.js';
import { loadConfig } from '../packages/server/src/config.js';
import { loadPortrait, makeClip, prepareSource } from '../tests/fixtures/faces/generate.js';
import { createDetector } from '../packages/server/src/verification/detector.js';
import { arg, machine } from './lib/machine.js';
import { fmt, out, table } from './lib/stats.js';

const SECONDS = Number(arg('seconds', '60'));
const CONCURRENCY = Number(arg('concurrency', '8'));
const PAYLOAD = arg('payload', 'blank');
const ATTACKER = '203.0.113.7';

async function framesFor(payload: string): Promise<string[]> {
  if (payload === 'photo') {
    const detector = await createDetector({ keepLandmarks: true });
    const source = await prepareSource(detector, loadPortrait('collins'));
    detector.close();
    // A still: the same pose in every frame (makeClip with no actions).
    const clip = makeClip(source, [], { seed: 1, stepMs: 200 });
    const still = Buffer.from(clip[0]!.jpeg).toString('base64');
    return Array.from({ length: 24 }, () => still);
  }
  const [w, h] = [1280, 720];
  const blank = jpeg.encode({ data: Buffer.alloc(w * h * 4, 128), width: w, height: h }, 80).data;
  return Array.from({ length: 24 }, () => blank.toString('base64'));
}

const dataDir = await mkdtemp(path.join(os.tmpdir(), 'duet-bench-'));
const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'silent', TURN_MODE: 'off', TRUST_PROXY: 'true' });
const duet = await createDuetServer(config, { sqliteFile: ':memory:', defaultMetrics: false });
const base = await duet.listen();
const frames = await framesFor(PAYLOAD);

interface Answer {
  status: number;
  body: { token?: string; nonce?: string; reasons?: string[] } | undefined;
}

async function call(method: string, route: string, token?: string, json?: unknown, from = ATTACKER): Promise<Answer> {
  const headers: Record<string, string> = { 'x-forwarded-for': from };
  if (token) headers.authorization = `Bearer ${token}`;
  if (json !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${route}`, { method, headers, ...(json === undefined ? {} : { body: JSON.stringify(json) }) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Answer['body']) : undefined };
}

const statuses = new Map<string, number>();
const count = (k: string) => statuses.set(k, (statuses.get(k) ?? 0) + 1);
let guest: string | undefined;
async function freshGuest(from = ATTACKER): Promise<string | undefined> {
  const s = await call('POST', '/api/session', undefined, undefined, from);
  if (from === ATTACKER) count(`session ${s.status}`);
  if (s.status !== 200 || !s.body?.token) return undefined;
  await call('POST', '/api/rules/accept', s.body.token, { adult: true, rulesVersion: 1 }, from);
  return s.body.token;
}

// Warm the detector (its models load on first use), from another address, so loading is not
// counted as bought time and the attacker's limits start untouched.
{
  const bystander = '198.51.100.1';
  const t = await freshGuest(bystander);
  const c = await call('POST', '/api/me/verification/challenge', t, {}, bystander);
  if (c.status === 200)
    await call(
      'POST',
      '/api/me/verification',
      t,
      { nonce: c.body?.nonce, frames: [0, 1, 2].map((i) => ({ offsetMs: i * 100, image: frames[0] })) },
      bystander,
    );
}

const started = Date.now();
const until = started + SECONDS * 1000;
async function attacker(): Promise<void> {
  let token: string | undefined;
  while (Date.now() < until) {
    token ??= guest ?? (guest = await freshGuest());
    if (!token) {
      await new Promise((r) => setTimeout(r, 1000));
      continue;
    }
    const c = await call('POST', '/api/me/verification/challenge', token, {});
    count(`challenge ${c.status}`);
    if (c.status !== 200) {
      // This guest is spent (failures per hour): the next loop makes another.
      if (c.status === 429 && guest === token) guest = undefined;
      token = undefined;
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    const u = await call('POST', '/api/me/verification', token, {
      nonce: c.body?.nonce,
      frames: frames.map((image, i) => ({ offsetMs: i * 100, image })),
    });
    count(`upload ${u.status}${u.body?.reasons ? ` ${u.body.reasons.join(',')}` : ''}`);
    if (u.status !== 200) await new Promise((r) => setTimeout(r, 200));
  }
}
await Promise.all(Array.from({ length: CONCURRENCY }, attacker));
const elapsed = (Date.now() - started) / 1000;

await duet.settled();
const rows = await duet.storage.db.selectFrom('verification_attempts').select(['ms', 'at']).where('at', '>=', started).execute();
const busyMs = rows.reduce((s, r) => s + Number(r.ms), 0);
const judged = rows.filter((r) => Number(r.ms) > 0).length;
await duet.close();
await rm(dataDir, { recursive: true, force: true });

out(`verification cost from one address — ${machine()}`);
out(`payload ${PAYLOAD}, ${CONCURRENCY} concurrent uploads, ${fmt(elapsed, 0)} s`);
out(
  table(
    ['what', 'count'],
    [...statuses].sort().map(([k, v]) => [k, String(v)]),
  ),
);
out(
  `attempts judged: ${judged}; server time spent judging: ${fmt(busyMs / 1000, 1)} s = ${fmt((busyMs / 1000) * (60 / elapsed), 1)} detector-seconds per minute (${fmt(judged ? busyMs / judged : 0)} ms per judged attempt)`,
);
process.exit(0);
