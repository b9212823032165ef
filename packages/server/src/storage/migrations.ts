import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';

/**
 * Versioned migrations, applied in name order at start. Never edit a migration that has shipped:
 * add a new one. Types are chosen to mean the same on SQLite and PostgreSQL.
 */
const migrations: Record<string, Migration> = {
  '0001_users_and_calls': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('users')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('rules_accepted_at', 'bigint')
        .addColumn('rules_version', 'integer')
        .execute();
      await db.schema
        .createTable('calls')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('user_a', 'varchar(36)', (c) => c.notNull().references('users.id'))
        .addColumn('user_b', 'varchar(36)', (c) => c.notNull().references('users.id'))
        .addColumn('state', 'varchar(16)', (c) => c.notNull())
        .addColumn('matched_at', 'bigint', (c) => c.notNull())
        .addColumn('connecting_at', 'bigint')
        .addColumn('connected_at', 'bigint')
        .addColumn('ended_at', 'bigint')
        .addColumn('end_reason', 'varchar(32)')
        .addColumn('ended_by', 'varchar(36)')
        .execute();
      await db.schema.createIndex('calls_matched_at').on('calls').column('matched_at').execute();
      await db.schema.createIndex('calls_user_a').on('calls').column('user_a').execute();
      await db.schema.createIndex('calls_user_b').on('calls').column('user_b').execute();
    },
  },
  '0002_blocks_and_reports': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('blocks')
        .addColumn('blocker_id', 'varchar(36)', (c) => c.notNull().references('users.id'))
        .addColumn('blocked_id', 'varchar(36)', (c) => c.notNull().references('users.id'))
        .addColumn('call_id', 'varchar(36)')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('blocks_pk', ['blocker_id', 'blocked_id'])
        .execute();
      await db.schema.createIndex('blocks_blocked_id').on('blocks').column('blocked_id').execute();
      await db.schema
        .createTable('reports')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('call_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('reporter_id', 'varchar(36)', (c) => c.notNull().references('users.id'))
        .addColumn('reported_id', 'varchar(36)', (c) => c.notNull().references('users.id'))
        .addColumn('reason', 'varchar(32)', (c) => c.notNull())
        .addColumn('comment', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('reports_reported_id').on('reports').column('reported_id').execute();
    },
  },
};

const provider: MigrationProvider = { getMigrations: () => Promise.resolve(migrations) };

export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
