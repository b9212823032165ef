import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserRepository } from '../identity/users.js';
import { SafetyRepository } from '../safety/blocks.js';
import { createTestDatabase } from '../testing/postgres.js';
import { openStorage, type Storage, type StorageOptions } from './database.js';

/** The same contract runs against embedded SQLite and the real PostgreSQL. */
const backends: Array<[string, () => Promise<{ options: StorageOptions; cleanup: () => Promise<void> }>]> = [
  [
    'sqlite',
    async () => {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'duet-storage-'));
      return { options: { dataDir }, cleanup: async () => fs.rmSync(dataDir, { recursive: true, force: true }) };
    },
  ],
  [
    'postgres',
    async () => {
      const db = await createTestDatabase();
      return { options: { dataDir: os.tmpdir(), databaseUrl: db.url }, cleanup: db.drop };
    },
  ],
];

describe.each(backends)('storage on %s', (kind, make) => {
  let storage: Storage;
  let options: StorageOptions;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ options, cleanup } = await make());
    storage = await openStorage(options);
  });
  afterAll(async () => {
    await storage?.close();
    await cleanup?.();
  });

  it('applies the migrations once', async () => {
    expect(storage.kind).toBe(kind);
    expect(storage.applied).toEqual([
      '0001_users_and_calls',
      '0002_blocks_and_reports',
      '0003_telemetry',
      '0004_reconnects',
      '0005_gathered_candidates',
      '0006_safety',
      '0007_ledger',
      '0008_resumable_calls',
      '0009_daily_free_minutes',
      '0010_verification',
      '0011_welcome_grants',
      '0012_call_node',
      '0013_verification_requests',
      '0014_call_relayed',
      '0016_screening',
    ]);
    const again = await openStorage(options);
    expect(again.applied).toEqual([]);
    await again.close();
  });

  it('creates guests and records rule acceptance', async () => {
    const users = new UserRepository(storage.db);
    const u = await users.create(1_700_000_000_123);
    expect(await users.get(u.id)).toEqual({
      id: u.id,
      createdAt: 1_700_000_000_123,
      rulesAcceptedAt: null,
      verifiedUntil: null,
      deviceId: null,
    });
    expect(await users.acceptRules(u.id, 1_700_000_000_999)).toBe(true);
    expect((await users.get(u.id))?.rulesAcceptedAt).toBe(1_700_000_000_999);
    expect(await users.get('00000000-0000-0000-0000-000000000000')).toBeUndefined();
    expect(await users.acceptRules('00000000-0000-0000-0000-000000000000', 1_700_000_001_000)).toBe(false);
  });

  it('stores a crowd of guests and acceptances that arrive in one turn, each with its own values', async () => {
    const users = new UserRepository(storage.db);
    const crowd = await Promise.all(Array.from({ length: 600 }, (_, i) => users.create(1_000 + i, i % 2 ? `device-${i}` : undefined)));
    expect(new Set(crowd.map((u) => u.id)).size).toBe(600);
    const nobody = '00000000-0000-0000-0000-000000000000';
    const accepted = await Promise.all([
      ...crowd.filter((_, i) => i % 3 === 0).map((u, i) => users.acceptRules(u.id, 5_000 + i)),
      users.acceptRules(nobody, 1),
    ]);
    expect(accepted).toEqual([...Array<boolean>(200).fill(true), false]);
    const stored = await Promise.all(crowd.map((u) => users.get(u.id)));
    stored.forEach((u, i) => {
      expect(u).toMatchObject({ createdAt: 1_000 + i, deviceId: i % 2 ? `device-${i}` : null });
      expect(u?.rulesAcceptedAt).toBe(i % 3 === 0 ? 5_000 + i / 3 : null);
    });
  });

  it('keeps blocks in both directions, idempotently, and stores reports', async () => {
    const users = new UserRepository(storage.db);
    const safety = new SafetyRepository(storage.db);
    const [a, b, c] = await Promise.all([users.create(1), users.create(2), users.create(3)]);
    await safety.block(a!.id, b!.id, null, 10);
    await safety.block(a!.id, b!.id, null, 11); // a repeated block is not an error
    expect(await safety.blockedWith(a!.id)).toEqual(new Set([b!.id]));
    expect(await safety.blockedWith(b!.id)).toEqual(new Set([a!.id]));
    expect(await safety.blockedWith(c!.id)).toEqual(new Set());
    await safety.report({ callId: 'call-1', reporterId: c!.id, reportedId: a!.id, reason: 'spam', now: 20 });
    expect(await safety.reportsAgainst(a!.id)).toEqual([{ reason: 'spam', callId: 'call-1' }]);
  });

  it('round-trips millisecond timestamps exactly', async () => {
    const users = new UserRepository(storage.db);
    const u = await users.create(Date.UTC(2026, 10, 27, 12, 0, 0, 987));
    expect((await users.get(u.id))?.createdAt).toBe(Date.UTC(2026, 10, 27, 12, 0, 0, 987));
  });
});
