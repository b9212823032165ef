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
  '0003_telemetry': {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('calls').addColumn('a_wait_ms', 'integer').execute();
      // SQLite adds one column per ALTER TABLE statement.
      for (const [name, type] of [
        ['b_wait_ms', 'integer'],
        ['a_path', 'varchar(128)'],
        ['b_path', 'varchar(128)'],
        ['bytes_relayed', 'bigint'],
      ] as const) {
        await db.schema.alterTable('calls').addColumn(name, type).execute();
      }
      await db.schema.createIndex('calls_ended_at').on('calls').column('ended_at').execute();
      await db.schema
        .createTable('call_quality')
        .addColumn('call_id', 'varchar(36)', (c) => c.notNull().references('calls.id').onDelete('cascade'))
        .addColumn('side', 'varchar(1)', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('final', 'integer', (c) => c.notNull())
        .addColumn('rtt_ms', 'real')
        .addColumn('jitter_ms', 'real')
        .addColumn('packet_loss', 'real')
        .addColumn('inbound_kbps', 'real')
        .addColumn('outbound_kbps', 'real')
        .addColumn('fps', 'real')
        .addColumn('freeze_count', 'integer')
        .addColumn('total_freezes_ms', 'real')
        .addColumn('audio_concealment', 'real')
        .addColumn('est_delay_ms', 'real')
        .addColumn('bytes_total', 'bigint')
        .addPrimaryKeyConstraint('call_quality_pk', ['call_id', 'side', 'seq'])
        .execute();
      await db.schema.createIndex('call_quality_at').on('call_quality').column('at').execute();
      await db.schema
        .createTable('funnel')
        .addColumn('day', 'varchar(10)', (c) => c.notNull())
        .addColumn('step', 'varchar(24)', (c) => c.notNull())
        .addColumn('user_id', 'varchar(36)', (c) => c.notNull())
        .addPrimaryKeyConstraint('funnel_pk', ['day', 'step', 'user_id'])
        .execute();
    },
  },
  '0004_reconnects': {
    async up(db: Kysely<any>) {
      await db.schema
        .alterTable('calls')
        .addColumn('reconnects', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .alterTable('calls')
        .addColumn('reconnecting_ms', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
    },
  },
  '0005_gathered_candidates': {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('calls').addColumn('a_gathered', 'varchar(32)').execute();
      await db.schema.alterTable('calls').addColumn('b_gathered', 'varchar(32)').execute();
    },
  },
  '0006_safety': {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('users').addColumn('device_id', 'varchar(64)').execute();
      await db.schema
        .createTable('staff')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('email', 'varchar(254)', (c) => c.notNull().unique())
        .addColumn('password_hash', 'varchar(256)', (c) => c.notNull())
        .addColumn('role', 'varchar(16)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('staff_sessions')
        .addColumn('token_hash', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('staff_id', 'varchar(36)', (c) => c.notNull().references('staff.id').onDelete('cascade'))
        .addColumn('csrf', 'varchar(64)', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .alterTable('reports')
        .addColumn('status', 'varchar(16)', (c) => c.notNull().defaultTo('open'))
        .execute();
      await db.schema.alterTable('reports').addColumn('resolved_by', 'varchar(36)').execute();
      await db.schema.alterTable('reports').addColumn('resolved_at', 'bigint').execute();
      await db.schema.alterTable('reports').addColumn('transcript', 'text').execute();
      await db.schema.alterTable('reports').addColumn('frame_jpeg', 'text').execute();
      await db.schema.createIndex('reports_status').on('reports').column('status').execute();
      await db.schema.createIndex('reports_reporter_id').on('reports').column('reporter_id').execute();
      await db.schema
        .createTable('bans')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('user_id', 'varchar(36)')
        .addColumn('device_id', 'varchar(64)')
        .addColumn('reason', 'varchar(500)', (c) => c.notNull())
        .addColumn('until', 'bigint')
        .addColumn('created_by', 'varchar(36)')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('lifted_at', 'bigint')
        .execute();
      await db.schema.createIndex('bans_user_id').on('bans').column('user_id').execute();
      await db.schema.createIndex('bans_device_id').on('bans').column('device_id').execute();
      await db.schema
        .createTable('appeals')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('user_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('ban_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('message', 'varchar(2000)', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull().defaultTo('open'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('audit_log')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('staff_id', 'varchar(36)')
        .addColumn('action', 'varchar(32)', (c) => c.notNull())
        .addColumn('target', 'varchar(64)')
        .addColumn('detail', 'text')
        .addColumn('at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_log_at').on('audit_log').column('at').execute();
    },
  },
  '0007_ledger': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('ledger_txns')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('ref', 'varchar(200)', (c) => c.notNull().unique())
        .addColumn('kind', 'varchar(32)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('meta', 'text')
        .execute();
      await db.schema
        .createTable('ledger_entries')
        .addColumn('txn_id', 'varchar(36)', (c) => c.notNull().references('ledger_txns.id'))
        .addColumn('account', 'varchar(64)', (c) => c.notNull())
        .addColumn('amount', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('ledger_entries_pk', ['txn_id', 'account'])
        .execute();
      await db.schema.createIndex('ledger_entries_account').on('ledger_entries').column('account').execute();
      await db.schema.alterTable('calls').addColumn('a_media_until', 'bigint').execute();
      await db.schema.alterTable('calls').addColumn('b_media_until', 'bigint').execute();
      await db.schema
        .alterTable('calls')
        .addColumn('billed_ms', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
    },
  },
  '0008_resumable_calls': {
    async up(db: Kysely<any>) {
      // What a restarted server needs to continue a call people come back to: the meter's state
      // (sequence numbers, byte counters, runs of evidence) and whether media must stay relay-only.
      await db.schema.alterTable('calls').addColumn('meter_state', 'text').execute();
      await db.schema
        .alterTable('calls')
        .addColumn('relay_only', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },
  },
  '0009_daily_free_minutes': {
    async up(db: Kysely<any>) {
      // Each side's free-time allowance, fixed when the call connected (null: none, the feature off).
      await db.schema.alterTable('calls').addColumn('a_free_ms', 'bigint').execute();
      await db.schema.alterTable('calls').addColumn('b_free_ms', 'bigint').execute();
      // "This person's calls connected today", read once per call connecting and per billing page.
      await db.schema.createIndex('calls_user_a_connected_at').on('calls').columns(['user_a', 'connected_at']).execute();
      await db.schema.createIndex('calls_user_b_connected_at').on('calls').columns(['user_b', 'connected_at']).execute();
    },
  },
  '0010_verification': {
    async up(db: Kysely<any>) {
      // Verified humans: until when a person counts as verified (null: not, or revoked).
      await db.schema.alterTable('users').addColumn('verified_until', 'bigint').execute();
      // Issued liveness challenges: single use (used_at is set once, by one conditional update).
      await db.schema
        .createTable('verification_challenges')
        .addColumn('nonce', 'varchar(32)', (c) => c.primaryKey())
        .addColumn('user_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('actions', 'varchar(100)', (c) => c.notNull())
        .addColumn('issued_at', 'bigint', (c) => c.notNull())
        .addColumn('deadline', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .execute();
      await db.schema.createIndex('verification_challenges_issued_at').on('verification_challenges').column('issued_at').execute();
      // Every attempt and its outcome: the rate limit on failures, and what moderators see.
      await db.schema
        .createTable('verification_attempts')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('user_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('ok', 'integer', (c) => c.notNull())
        .addColumn('reasons', 'varchar(300)', (c) => c.notNull())
        .addColumn('ms', 'integer', (c) => c.notNull())
        .addColumn('scores', 'text')
        .execute();
      await db.schema.createIndex('verification_attempts_user_at').on('verification_attempts').columns(['user_id', 'at']).execute();
    },
  },
  '0011_welcome_grants': {
    async up(db: Kysely<any>) {
      // Who got welcome credits, from which (hashed) address and browser: a few per address a day,
      // one per browser, so creating guests cannot farm them.
      await db.schema
        .createTable('welcome_grants')
        .addColumn('user_id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('address_hash', 'varchar(32)', (c) => c.notNull())
        .addColumn('device_id', 'varchar(64)')
        .addColumn('at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('welcome_grants_address_at').on('welcome_grants').columns(['address_hash', 'at']).execute();
      await db.schema.createIndex('welcome_grants_device').on('welcome_grants').column('device_id').execute();
    },
  },
  '0012_call_node': {
    async up(db: Kysely<any>) {
      // Which node kept the call's record and metered it: when that node dies, another settles its calls.
      await db.schema.alterTable('calls').addColumn('node', 'varchar(64)').execute();
      await db.schema.createIndex('calls_node').on('calls').column('node').execute();
    },
  },
  '0013_verification_requests': {
    async up(db: Kysely<any>) {
      // Challenges and uploads per person and per (hashed) address: the detector is CPU anyone
      // could otherwise buy, so its limits hold across reconnects and nodes.
      await db.schema
        .createTable('verification_requests')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('kind', 'varchar(16)', (c) => c.notNull())
        .addColumn('user_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('address_hash', 'varchar(32)', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('verification_requests_user').on('verification_requests').columns(['user_id', 'kind', 'at']).execute();
      await db.schema
        .createIndex('verification_requests_address')
        .on('verification_requests')
        .columns(['address_hash', 'kind', 'at'])
        .execute();
    },
  },
  '0014_call_relayed': {
    async up(db: Kysely<any>) {
      // Whether the relay (not a browser's say-so) carried the call's media: the relayed-calls figures.
      await db.schema
        .alterTable('calls')
        .addColumn('relayed', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },
  },
  '0016_screening': {
    async up(db: Kysely<any>) {
      // Blur-first screening: a flag is a report (reason "screening") whose evidence is the one flagged
      // frame and the model's scores, so it reaches the same queue, console and retention as reports.
      await db.schema.alterTable('reports').addColumn('screen_scores', 'text').execute();
      await db.schema.createIndex('reports_reported_reason').on('reports').columns(['reported_id', 'reason', 'status']).execute();
      // Age assurance: the estimate from the last check (a number, never the face), and where the person
      // stands: passed, refused, review (asked a moderator) or confirmed (a moderator confirmed the age).
      await db.schema.alterTable('users').addColumn('age_estimate', 'integer').execute();
      await db.schema.alterTable('users').addColumn('age_status', 'varchar(16)').execute();
      await db.schema.alterTable('users').addColumn('age_checked_at', 'bigint').execute();
      await db.schema.alterTable('users').addColumn('age_review_note', 'varchar(500)').execute();
      await db.schema.createIndex('users_age_status').on('users').column('age_status').execute();
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
