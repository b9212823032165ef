import SQLite from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { withStatementCache } from './database.js';

describe('withStatementCache', () => {
  it('hands back the same prepared statement for the same SQL, and a fresh one while it is busy', () => {
    const sqlite = new SQLite(':memory:');
    const db = withStatementCache(sqlite, 2);
    db.prepare('CREATE TABLE t (x INTEGER)').run();
    const insert = db.prepare('INSERT INTO t (x) VALUES (?)');
    for (const x of [1, 2, 3]) insert.run(x);
    expect(db.prepare('INSERT INTO t (x) VALUES (?)')).toBe(insert);
    const select = db.prepare('SELECT x FROM t ORDER BY x');
    const rows = select.iterate();
    rows.next(); // the statement is busy until the iteration ends
    const other = db.prepare('SELECT x FROM t ORDER BY x');
    expect(other).not.toBe(select);
    expect(other.all()).toEqual([{ x: 1 }, { x: 2 }, { x: 3 }]);
    rows.return?.();
    expect(db.prepare('SELECT x FROM t ORDER BY x')).toBe(select);
    db.close();
  });

  it('keeps at most `size` statements, the oldest going first', () => {
    const sqlite = new SQLite(':memory:');
    const db = withStatementCache(sqlite, 2);
    const a = db.prepare('SELECT 1');
    db.prepare('SELECT 2');
    db.prepare('SELECT 3');
    expect(db.prepare('SELECT 1')).not.toBe(a);
    db.close();
  });
});
