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
  return new SqliteDialect({ database: sqlite });
}

function postgresDialect(url: string): PostgresDialect {
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
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
