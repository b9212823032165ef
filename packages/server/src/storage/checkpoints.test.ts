import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkpointApart } from './database.js';

async function until(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('checkpointApart', () => {
  let dir: string;
  let file: string;
  let sqlite: SQLite.Database;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duet-checkpoints-'));
    file = path.join(dir, 'duet.sqlite');
    sqlite = new SQLite(file);
    sqlite.pragma('journal_mode = WAL');
    // As the node opens it (storage/database.ts): a commit does not wait for the disk. With the
    // default (FULL) each of the thousands of commits below synced the disk, 5 s and more on a busy machine.
    sqlite.pragma('synchronous = NORMAL');
    sqlite.exec('CREATE TABLE t (id TEXT PRIMARY KEY, at INTEGER)');
  });

  afterEach(() => {
    if (sqlite.open) sqlite.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const autocheckpoint = () => sqlite.pragma('wal_autocheckpoint', { simple: true }) as number;
  const told: Array<{ level: 'warn' | 'error'; msg: string }> = [];
  const log = {
    warn: (_obj: unknown, msg?: string) => void told.push({ level: 'warn', msg: msg ?? '' }),
    error: (_obj: unknown, msg?: string) => void told.push({ level: 'error', msg: msg ?? '' }),
  };
  beforeEach(() => void (told.length = 0));

  it("moves the log into the database from its own thread while the node's connection never checkpoints", { timeout: 30_000 }, async () => {
    const checkpoints = checkpointApart(sqlite, { intervalMs: 50, log });
    expect(autocheckpoint()).toBe(0);
    const insert = sqlite.prepare('INSERT INTO t (id, at) VALUES (?, ?)');
    // Measured before the writes: the worker checkpoints while they go on (on a busy machine it had
    // taken most of the log by the time they ended, and a size read after them saw little growth).
    const before = fs.statSync(file).size;
    // Each row its own commit, as a crowd writes: far past the 1,000 pages SQLite would checkpoint at.
    for (let i = 0; i < 3_000; i++) insert.run(`row-${i}-${'x'.repeat(200)}`, i);
    await until('the database file to take the log', () => fs.statSync(file).size > before + 500_000);
    await checkpoints.stop();
    expect(sqlite.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 3_000 });
    expect(told).toEqual([]);
  });

  it('warns when a reader holding an old snapshot keeps checkpoints from emptying the log', { timeout: 30_000 }, async () => {
    const checkpoints = checkpointApart(sqlite, { intervalMs: 50, log, longLogPages: 100 });
    const reader = new SQLite(file, { readonly: true });
    try {
      reader.prepare('BEGIN').run();
      reader.prepare('SELECT count(*) FROM t').get(); // the snapshot is taken at the first read
      const insert = sqlite.prepare('INSERT INTO t (id, at) VALUES (?, ?)');
      for (let i = 0; i < 1_000; i++) insert.run(`row-${i}-${'x'.repeat(200)}`, i);
      await until('a warning', () => told.length > 0);
      expect(told[0]).toMatchObject({ level: 'warn', msg: expect.stringContaining('old snapshot') });
    } finally {
      reader.close();
      await checkpoints.stop();
    }
  });

  it(
    'gives checkpoints back to the connection when the worker cannot open the database, and never makes a new one',
    { timeout: 30_000 },
    async () => {
      fs.rmSync(file); // the node's connection still holds it open; the worker finds no file
      checkpointApart(sqlite, { intervalMs: 50, log });
      await until('the connection to checkpoint for itself', () => autocheckpoint() === 1_000);
      expect(told).toEqual([{ level: 'error', msg: expect.stringContaining('checkpointer failed') }]);
      expect(fs.existsSync(file)).toBe(false);
    },
  );
});
