import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { migrateToLatest } from './migrations.js';
import type { Logger } from 'pino';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;

export interface StorageOptions {
  /** postgres:// URL; when absent, SQLite in `dataDir`. */
  databaseUrl?: string | undefined;
  dataDir: string;
  /** ':memory:' for tests. */
  sqliteFile?: string;
  /** Where storage's own trouble is told (the background checkpoints). */
  log?: Pick<Logger, 'warn' | 'error'>;
}

export interface Storage {
  readonly db: Db;
  readonly kind: 'sqlite' | 'postgres';
  /** Migration names applied by this start. */
  readonly applied: string[];
  close(): Promise<void>;
}

const INT8_OID = 20;

export async function openStorage(options: StorageOptions): Promise<Storage> {
  const kind = options.databaseUrl ? 'postgres' : 'sqlite';
  const { dialect, stop } =
    kind === 'postgres' ? { dialect: postgresDialect(options.databaseUrl!), stop: undefined } : sqliteDialect(options);
  const db = new Kysely<Database>({ dialect });
  const close = async () => {
    await stop?.();
    await db.destroy();
  };
  try {
    const applied = await migrateToLatest(db);
    return { db, kind, applied, close };
  } catch (err) {
    await close();
    throw err;
  }
}

function sqliteDialect(options: StorageOptions): { dialect: SqliteDialect; stop: (() => Promise<void>) | undefined } {
  let file = options.sqliteFile;
  if (!file) {
    fs.mkdirSync(options.dataDir, { recursive: true });
    file = path.join(options.dataDir, 'duet.sqlite');
  }
  const sqlite = new SQLite(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const checkpoints = sqlite.memory ? undefined : checkpointApart(sqlite, options);
  return { dialect: new SqliteDialect({ database: withStatementCache(sqlite) }), stop: checkpoints?.stop };
}

/**
 * The checkpointer's own code: a connection of its own to the node's database file (never a new
 * one), a passive checkpoint every interval, and word back when the log is long and a checkpoint
 * could not take all of it (a reader holding an old snapshot, a backup, say).
 */
const CHECKPOINTER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
const timer = setInterval(() => {
  const [r] = db.pragma('wal_checkpoint(PASSIVE)');
  if (r.log > workerData.longLog && r.checkpointed < r.log) parentPort.postMessage(r);
}, workerData.intervalMs);
parentPort.once('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/**
 * WAL checkpoints off the event loop. SQLite copies the write-ahead log back into the database,
 * and syncs both to disk, inside whichever commit takes the log past 1,000 pages: in a crowd of
 * newcomers those commits took 1–35 ms of the event loop, most of a node's time in the database
 * (docs/benchmarks.md). Here the node's connection never checkpoints; a worker thread with a
 * connection of its own does, passively (a writer is never made to wait), every 250 ms. Should the
 * worker not start or fail, the node's connection checkpoints for itself again; a log that
 * checkpoints cannot empty is warned about (a minute apart). On close the node's connection, the
 * last one, checkpoints what is left.
 */
export function checkpointApart(
  sqlite: SQLite.Database,
  options: { intervalMs?: number; log?: Pick<Logger, 'warn' | 'error'>; longLogPages?: number } = {},
): { stop: () => Promise<void> } {
  const log = options.log ?? console;
  const selfReliant = () => {
    if (sqlite.open) sqlite.pragma('wal_autocheckpoint = 1000');
  };
  const file = (sqlite.pragma('database_list') as Array<{ name: string; file: string }>).find((d) => d.name === 'main')!.file;
  let worker: Worker;
  try {
    worker = new Worker(CHECKPOINTER, {
      eval: true,
      execArgv: [],
      workerData: {
        driver: createRequire(import.meta.url).resolve('better-sqlite3'),
        file,
        intervalMs: options.intervalMs ?? 250,
        longLog: options.longLogPages ?? 10_000,
      },
    });
  } catch (err) {
    log.error({ err }, 'SQLite checkpoints could not move to a thread of their own; the connection checkpoints for itself');
    return { stop: async () => undefined };
  }
  sqlite.pragma('wal_autocheckpoint = 0');
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  let stopping = false;
  let warned = 0;
  worker.on('message', (r: { log: number; checkpointed: number }) => {
    if (Date.now() - warned < 60_000) return;
    warned = Date.now();
    log.warn(
      { walPages: r.log, checkpointed: r.checkpointed },
      'the SQLite write-ahead log is long and checkpoints cannot empty it: is a reader holding an old snapshot?',
    );
  });
  worker.once('error', (err) => {
    log.error({ err }, 'SQLite checkpointer failed; the connection checkpoints for itself again');
    selfReliant();
  });
  worker.once('exit', () => stopping || selfReliant());
  worker.unref();
  return {
    stop: async () => {
      stopping = true;
      worker.postMessage('stop');
      const slow = setTimeout(() => void worker.terminate(), 2_000);
      await exited;
      clearTimeout(slow);
    },
  };
}

type Statement = SQLite.Statement<unknown[]>;

/**
 * Kysely's SQLite driver prepares every query anew; preparing cost as much CPU as running the
 * statements when a crowd arrived (7 % of a node's profile). The same SQL text gets the same
 * prepared statement back: the driver runs one query at a time (its connection mutex), and a
 * statement still busy (an unfinished `iterate`) is never handed out twice. Bounded: the oldest
 * statements go first (queries with IN lists of varying length make many texts).
 */
export function withStatementCache(sqlite: SQLite.Database, size = 512): { prepare(sql: string): Statement; close(): void } {
  const cache = new Map<string, Statement>();
  return {
    prepare(sql) {
      const hit = cache.get(sql);
      if (hit && !hit.busy) return hit;
      const stmt = sqlite.prepare(sql);
      if (!hit) {
        cache.set(sql, stmt);
        if (cache.size > size) cache.delete(cache.keys().next().value!);
      }
      return stmt;
    },
    close: () => {
      cache.clear();
      sqlite.close();
    },
  };
}

function postgresDialect(url: string): PostgresDialect {
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    // Commits do not wait for the WAL to reach the disk, except the ledger's (money: see
    // Ledger.post, which asks for a synchronous commit; that flush carries every earlier commit
    // with it). What a PostgreSQL crash — not a Duet crash — can lose is the last fraction of a
    // second of sessions, rules accepted, call records and funnel steps; waiting for an fsync per
    // statement is what held a node on PostgreSQL to ~100 newcomers a second (docs/benchmarks.md).
    options: '-c synchronous_commit=off',
    // Millisecond timestamps are int8; they fit a JS number exactly until the year 287396.
    types: {
      getTypeParser: (oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text'),
    },
  });
  // An idle client losing its connection (a database restart) must not crash the process:
  // the pool replaces it on the next query.
  pool.on('error', (err) => console.error('PostgreSQL connection error (will reconnect):', err.message));
  return new PostgresDialect({ pool });
}
