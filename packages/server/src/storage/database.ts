import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { migrateToLatest } from './migrations.js';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;

export interface StorageOptions {
  /** postgres:// URL; when absent, SQLite in `dataDir`. */
  databaseUrl?: string | undefined;
  dataDir: string;
  /** ':memory:' for tests. */
  sqliteFile?: string;
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
  const db = new Kysely<Database>({ dialect: kind === 'postgres' ? postgresDialect(options.databaseUrl!) : sqliteDialect(options) });
  try {
    const applied = await migrateToLatest(db);
    return { db, kind, applied, close: () => db.destroy() };
  } catch (err) {
    await db.destroy();
    throw err;
  }
}

function sqliteDialect(options: StorageOptions): SqliteDialect {
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
  return new SqliteDialect({ database: withStatementCache(sqlite) });
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
