import SQLite from 'better-sqlite3';

/** coturn's SQLite user database schema (as shipped in coturn's schema.sql), created if missing. */
const SCHEMA = [
  "CREATE TABLE IF NOT EXISTS turnusers_lt (realm varchar(127) default '', name varchar(512), hmackey char(128), PRIMARY KEY (realm, name))",
  "CREATE TABLE IF NOT EXISTS turn_secret (realm varchar(127) default '', value varchar(256), primary key (realm, value))",
  "CREATE TABLE IF NOT EXISTS allowed_peer_ip (realm varchar(127) default '', ip_range varchar(256), primary key (realm, ip_range))",
  "CREATE TABLE IF NOT EXISTS denied_peer_ip (realm varchar(127) default '', ip_range varchar(256), primary key (realm, ip_range))",
  'CREATE TABLE IF NOT EXISTS turn_origin_to_realm (origin varchar(127), realm varchar(127), primary key (origin))',
  "CREATE TABLE IF NOT EXISTS turn_realm_option (realm varchar(127) default '', opt varchar(32), value varchar(128), primary key (realm, opt))",
  "CREATE TABLE IF NOT EXISTS oauth_key (kid varchar(128), ikm_key varchar(256), timestamp bigint default 0, lifetime integer default 0, as_rs_alg varchar(64) default '', realm varchar(127), primary key (kid))",
  'CREATE TABLE IF NOT EXISTS admin_user (name varchar(32), realm varchar(127), password varchar(127), primary key (name))',
];

/** The REST API secrets the managed relay accepts, kept in coturn's own database. */
export class TurnSecrets {
  readonly #db: SQLite.Database;
  constructor(
    file: string,
    readonly realm: string,
  ) {
    this.#db = new SQLite(file);
    this.#db.pragma('journal_mode = DELETE');
    for (const statement of SCHEMA) this.#db.exec(statement);
  }

  /** Exactly these secrets are accepted from now on. */
  set(secrets: readonly string[]): void {
    this.#db.transaction(() => {
      this.#db.prepare('DELETE FROM turn_secret WHERE realm = ?').run(this.realm);
      const insert = this.#db.prepare('INSERT OR IGNORE INTO turn_secret (realm, value) VALUES (?, ?)');
      for (const s of secrets) insert.run(this.realm, s);
    })();
  }

  list(): string[] {
    return (
      this.#db.prepare('SELECT value FROM turn_secret WHERE realm = ? ORDER BY value').all(this.realm) as Array<{ value: string }>
    ).map((r) => r.value);
  }

  close(): void {
    this.#db.close();
  }
}
