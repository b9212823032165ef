import { randomUUID } from 'node:crypto';
import type { Db } from '../storage/database.js';

export interface User {
  id: string;
  createdAt: number;
  rulesAcceptedAt: number | null;
  /** Passed the liveness check; verified until then (null: not verified). */
  verifiedUntil: number | null;
}

/** Version of the house rules a person accepts; bump when the rules text changes materially. */
export const RULES_VERSION = 1;

export class UserRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  /** A new guest, with the browser's device id when it sent one (one statement: a newcomer's first write). */
  async create(now: number, deviceId?: string): Promise<User> {
    const user = { id: randomUUID(), created_at: now, rules_accepted_at: null, rules_version: null, device_id: deviceId ?? null };
    await this.#db.insertInto('users').values(user).execute();
    return { id: user.id, createdAt: now, rulesAcceptedAt: null, verifiedUntil: null };
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
    };
  }

  /** Remembers the browser's device id (set once; a ban by device follows it to new guests). */
  async setDevice(id: string, deviceId: string): Promise<void> {
    await this.#db.updateTable('users').set({ device_id: deviceId }).where('id', '=', id).where('device_id', 'is', null).execute();
  }

  async acceptRules(id: string, now: number): Promise<void> {
    await this.#db.updateTable('users').set({ rules_accepted_at: now, rules_version: RULES_VERSION }).where('id', '=', id).execute();
  }
}
