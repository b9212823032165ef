import { createHmac } from 'node:crypto';
import type { Db } from '../storage/database.js';
import { type Ledger, userAccount } from './ledger.js';

export interface WelcomeOptions {
  db: Db;
  ledger: Ledger;
  /** Credits each new person gets (0: none). */
  micros: number;
  /** New people per client address per 24 h who get them; more guests from there start at zero. */
  perAddressPerDay: number;
  /** Key for hashing addresses: the grants table never holds an address. */
  secret: string;
}

export type WelcomeOutcome = 'granted' | 'off' | 'address_limit' | 'device_seen';

/**
 * Welcome credits, given so that they cannot be farmed: creating guests is free, so each address
 * gets at most a few grants a day, and a browser (device id) gets one ever. Addresses are stored
 * only as keyed hashes. Whoever is refused still gets an account; they start at zero and can top up
 * (or use the daily free minutes, when the operator offers them).
 */
export class WelcomeCredits {
  readonly #o: WelcomeOptions;

  constructor(options: WelcomeOptions) {
    this.#o = options;
  }

  async grant(userId: string, from: { address: string; deviceId?: string | undefined }, now: number): Promise<WelcomeOutcome> {
    const { db, micros } = this.#o;
    if (micros <= 0) return 'off';
    const addressHash = createHmac('sha256', this.#o.secret).update(`welcome:${from.address}`).digest('hex').slice(0, 32);
    if (from.deviceId) {
      const seen = await db.selectFrom('welcome_grants').select('user_id').where('device_id', '=', from.deviceId).executeTakeFirst();
      if (seen) return 'device_seen';
    }
    const recent = await db
      .selectFrom('welcome_grants')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('address_hash', '=', addressHash)
      .where('at', '>', now - 24 * 3600_000)
      .executeTakeFirstOrThrow();
    if (Number(recent.n) >= this.#o.perAddressPerDay) return 'address_limit';
    await db
      .insertInto('welcome_grants')
      .values({ user_id: userId, address_hash: addressHash, device_id: from.deviceId ?? null, at: now })
      .execute();
    await this.#o.ledger.post(
      {
        ref: `welcome:${userId}`,
        kind: 'grant',
        entries: [
          { account: 'grants', amount: -micros },
          { account: userAccount(userId), amount: micros },
        ],
      },
      now,
    );
    return 'granted';
  }
}
