import { randomUUID } from 'node:crypto';
import type { Insertable } from 'kysely';
import type { Db } from '../storage/database.js';
import type { UsersTable } from '../storage/schema.js';
import { TurnBatch } from '../util/batch.js';

export interface User {
  id: string;
  createdAt: number;
  rulesAcceptedAt: number | null;
  /** Passed the liveness check; verified until then (null: not verified). */
  verifiedUntil: number | null;
  /** The browser's device id, when it sent one (a ban by device follows it). */
  deviceId: string | null;
}

type NewUser = Insertable<UsersTable>;
/** One rules acceptance in a batch; `found` is filled in by the batch. */
type Acceptance = { id: string; at: number; found: boolean };

/** Version of the house rules a person accepts; bump when the rules text changes materially. */
export const RULES_VERSION = 1;
/** How long a new guest's row or a rules acceptance waits for others to be written with it. */
const WRITE_WINDOW_MS = 5;

export class UserRepository {
  readonly #db: Db;
  // A crowd of newcomers is written a few milliseconds at a time: one INSERT for the window's new
  // guests, one transaction for its acceptances. Each request still waits for its own row; the
  // window is short beside a page load, and at 500 arrivals a second a turn of the event loop alone
  // held one guest, so each was its own commit.
  readonly #created = new TurnBatch<NewUser>(
    async (rows) => {
      await this.#db.insertInto('users').values(rows).execute();
    },
    { windowMs: WRITE_WINDOW_MS },
  );
  readonly #accepted = new TurnBatch<Acceptance>(
    async (rows) => {
      const accept = async (db: Db, r: Acceptance) => {
        const done = await db
          .updateTable('users')
          .set({ rules_accepted_at: r.at, rules_version: RULES_VERSION })
          .where('id', '=', r.id)
          .executeTakeFirst();
        r.found = done.numUpdatedRows > 0n;
      };
      if (rows.length === 1) await accept(this.#db, rows[0]!);
      else
        await this.#db.transaction().execute(async (trx) => {
          for (const r of rows) await accept(trx, r);
        });
    },
    { windowMs: WRITE_WINDOW_MS },
  );

  constructor(db: Db) {
    this.#db = db;
  }

  /** A new guest, with the browser's device id when it sent one (one row: a newcomer's first write). */
  async create(now: number, deviceId?: string): Promise<User> {
    const user = { id: randomUUID(), created_at: now, rules_accepted_at: null, rules_version: null, device_id: deviceId ?? null };
    await this.#created.add(user);
    return { id: user.id, createdAt: now, rulesAcceptedAt: null, verifiedUntil: null, deviceId: user.device_id };
  }

  async get(id: string): Promise<User | undefined> {
    const row = await this.#db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    const current = row.rules_version === RULES_VERSION;
    return {
      id: row.id,
      createdAt: row.created_at,
      rulesAcceptedAt: current ? row.rules_accepted_at : null,
      verifiedUntil: row.verified_until === null ? null : Number(row.verified_until),
      deviceId: row.device_id,
    };
  }

  /** Remembers the browser's device id (set once; a ban by device follows it to new guests). */
  async setDevice(id: string, deviceId: string): Promise<void> {
    await this.#db.updateTable('users').set({ device_id: deviceId }).where('id', '=', id).where('device_id', 'is', null).execute();
  }

  /** Records the acceptance; false when there is no such user (erased since its token was issued). */
  async acceptRules(id: string, now: number): Promise<boolean> {
    const acceptance: Acceptance = { id, at: now, found: false };
    await this.#accepted.add(acceptance);
    return acceptance.found;
  }
}
