import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkpointApart } from './database.js';

async function until(what: string, check: () => boolean, ms = 5_000): Promise<void> {
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
    sqlite.exec('CREATE TABLE t (id TEXT PRIMARY KEY, at INTEGER)');
  });

  afterEach(() => {
    if (sqlite.open) sqlite.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const autocheckpoint = () => sqlite.pragma('wal_autocheckpoint', { simple: true }) as number;

  it("moves the log into the database from its own thread while the node's connection never checkpoints", async () => {
    const checkpoints = checkpointApart(sqlite, file, 50);
    expect(autocheckpoint()).toBe(0);
    const insert = sqlite.prepare('INSERT INTO t (id, at) VALUES (?, ?)');
    // Each row its own commit, as a crowd writes: far past the 1,000 pages SQLite would checkpoint at.
    for (let i = 0; i < 3_000; i++) insert.run(`row-${i}-${'x'.repeat(200)}`, i);
    const before = fs.statSync(file).size;
    await until('the database file to take the log', () => fs.statSync(file).size > before + 500_000);
    await checkpoints.stop();
    expect(sqlite.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 3_000 });
  });

  it('gives checkpoints back to the connection when the worker cannot run', async () => {
    checkpointApart(sqlite, path.join(dir, 'missing', 'nowhere.sqlite'), 50);
    expect(autocheckpoint()).toBe(0);
    await until('the connection to checkpoint for itself', () => autocheckpoint() === 1_000);
  });
});
