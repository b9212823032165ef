import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../storage/database.js';

export interface Posting {
  /** Idempotency key: posting the same ref again changes nothing. */
  ref: string;
  kind: 'charge' | 'grant' | 'topup' | 'adjustment' | 'refund';
  entries: Array<{ account: string; amount: number }>;
  meta?: Record<string, unknown>;
  /** Refuse (and post nothing) if this account would end below `min`. */
  floor?: { account: string; min: number };
}

export type PostResult = 'posted' | 'duplicate' | 'insufficient';

export const userAccount = (userId: string) => `user:${userId}`;

/**
 * An append-only double-entry journal. Every transaction's entries sum to zero; a balance is the
 * sum of an account's entries (never stored separately); a ref is posted at most once (a unique
 * constraint, so duplicates lose even when they race).
 */
export class Ledger {
  readonly #db: Db;
  readonly #postgres: boolean;
  constructor(db: Db, kind: 'sqlite' | 'postgres') {
    this.#db = db;
    this.#postgres = kind === 'postgres';
  }

  async post(p: Posting, now: number): Promise<PostResult> {
    if (p.entries.length < 2) throw new Error('a transaction needs at least two entries');
    if (p.entries.some((e) => !Number.isSafeInteger(e.amount))) throw new Error('amounts are whole micro-credits');
    if (p.entries.reduce((sum, e) => sum + e.amount, 0) !== 0) throw new Error(`transaction ${p.ref} does not balance`);
    try {
      return await this.#db.transaction().execute(async (trx) => {
        // Money is committed durably, whatever the connection's default (see postgresDialect).
        if (this.#postgres) await sql`SET LOCAL synchronous_commit = on`.execute(trx);
        if (this.#postgres && p.floor) {
          // Serialise postings on one account, so two cannot both pass the floor check.
          await sql`SELECT pg_advisory_xact_lock(hashtext(${p.floor.account}))`.execute(trx);
        }
        const existing = await trx.selectFrom('ledger_txns').select('id').where('ref', '=', p.ref).executeTakeFirst();
        if (existing) return 'duplicate';
        if (p.floor) {
          const delta = p.entries.filter((e) => e.account === p.floor!.account).reduce((s, e) => s + e.amount, 0);
          const balance = await balanceIn(trx, p.floor.account);
          if (delta < 0 && balance + delta < p.floor.min) return 'insufficient';
        }
        const id = randomUUID();
        await trx
          .insertInto('ledger_txns')
          .values({ id, ref: p.ref, kind: p.kind, created_at: now, meta: p.meta ? JSON.stringify(p.meta) : null })
          .execute();
        await trx
          .insertInto('ledger_entries')
          .values(p.entries.map((e) => ({ txn_id: id, account: e.account, amount: e.amount })))
          .execute();
        return 'posted';
      });
    } catch (err) {
      // Lost a race on the same ref: the other posting won, which is the same posting.
      if (/unique|duplicate key/i.test(String((err as Error).message))) return 'duplicate';
      throw err;
    }
  }

  balance(account: string): Promise<number> {
    return balanceIn(this.#db, account);
  }

  /** Sum of the entries on `account` from transactions whose ref starts with `prefix`. */
  async sumByRef(account: string, prefix: string): Promise<number> {
    const row = await this.#db
      .selectFrom('ledger_entries')
      .innerJoin('ledger_txns', 'ledger_txns.id', 'ledger_entries.txn_id')
      .select((eb) => eb.fn.sum<number | string | null>('ledger_entries.amount').as('s'))
      .where('ledger_entries.account', '=', account)
      .where('ledger_txns.ref', 'like', `${prefix}%`)
      .executeTakeFirstOrThrow();
    return Number(row.s ?? 0);
  }

  /** An account's movements, newest first. */
  async history(account: string, limit = 100) {
    return this.#db
      .selectFrom('ledger_entries')
      .innerJoin('ledger_txns', 'ledger_txns.id', 'ledger_entries.txn_id')
      .select([
        'ledger_txns.id',
        'ledger_txns.kind',
        'ledger_txns.ref',
        'ledger_txns.created_at',
        'ledger_txns.meta',
        'ledger_entries.amount',
      ])
      .where('ledger_entries.account', '=', account)
      .orderBy('ledger_txns.created_at', 'desc')
      .limit(limit)
      .execute();
  }

  /** Invariant check: transactions whose entries do not sum to zero (there must be none). */
  async unbalanced(): Promise<string[]> {
    const rows = await this.#db
      .selectFrom('ledger_entries')
      .select(['txn_id', (eb) => eb.fn.sum<number | string>('amount').as('s')])
      .groupBy('txn_id')
      .having((eb) => eb.fn.sum('amount'), '!=', 0)
      .execute();
    return rows.map((r) => r.txn_id);
  }
}

async function balanceIn(db: Pick<Db, 'selectFrom'>, account: string): Promise<number> {
  const row = await db
    .selectFrom('ledger_entries')
    .select((eb) => eb.fn.sum<number | string | null>('amount').as('s'))
    .where('account', '=', account)
    .executeTakeFirstOrThrow();
  return Number(row.s ?? 0);
}
