import type { ServerMessage } from '@duet/protocol';
import type { Logger } from 'pino';
import type { WaitingPool } from '../matchmaking/pool.js';
import type { MatchPolicy, Ticket } from '../matchmaking/rules.js';
import type { Clock } from '../util/clock.js';
import type { Participant } from './participant.js';
import { RecentWaits } from './presence.js';

export interface QueueOptions {
  pool: WaitingPool;
  policy: MatchPolicy;
  clock: Clock;
  log: Logger;
  /** This node, written on every ticket: a claim made elsewhere knows where the person is. */
  node: string;
  send: (userId: string, message: ServerMessage) => void;
  /** The person connected here, if they are. */
  person: (userId: string) => Participant | undefined;
  verified: (p: Participant) => boolean;
  /** Someone entered the queue (not for a repeated join). */
  joined: (userId: string) => void;
  /** Two people the pool paired who are both still waiting. */
  paired: (a: Ticket, b: Ticket) => void;
  /** The counts people see changed. */
  changed: () => void;
}

/**
 * The people of this node who are waiting: their pool entries, the timers that widen their
 * matching, and the search for a partner. The pool (in process or shared) is the one truth of who
 * waits; its claims take both people out at once, so nobody is handed to two partners.
 *
 * A shared pool can go away (Redis down). Meanwhile the queue does not match at all — a local
 * match could pair someone another node is claiming — and does not touch the pool: people still
 * join, wait and leave here, and are told nothing new. When the pool is back (possibly empty),
 * everyone waiting here is put back with their original wait, those who left meanwhile are taken
 * out, and matching resumes, oldest first (`poolAvailable`).
 */
export class Queue {
  readonly #o: QueueOptions;
  readonly #waits = new RecentWaits();
  #closed = false;
  #poolDown = false;
  /** Left the queue while the pool could not be told: their entries may have survived the outage. */
  readonly #leftWhileDown = new Set<string>();

  constructor(options: QueueOptions) {
    this.#o = options;
  }

  get size(): number {
    return this.#o.pool.size;
  }

  /** Puts the person in the queue, or refreshes their entry (a repeated join keeps place and wait). */
  enqueue(p: Participant): void {
    const wasWaiting = p.status === 'waiting';
    if (!wasWaiting) p.waitingSince = this.#o.clock.now();
    p.status = 'waiting';
    this.#leftWhileDown.delete(p.userId);
    if (!this.#poolDown) this.#settle(this.#o.pool.enqueue(this.#ticket(p)), 'enqueue');
    if (!wasWaiting) {
      // Debug, not info: every join of a crowd would be a line.
      this.#o.log.debug({ userId: p.userId, mode: p.criteria.mode, interests: p.criteria.interests.length }, 'waiting');
      this.#o.joined(p.userId);
    }
    this.#scheduleWidening(p);
    this.#o.send(p.userId, { type: 'queued', waiting: this.size, estimatedWaitMs: this.estimateWait(p) });
    this.#o.changed();
  }

  /** Takes the person out of the queue. Someone not waiting has no entry: a claim took it, or none was made. */
  dequeue(p: Participant): void {
    p.cancelWidening?.();
    p.cancelWidening = undefined;
    if (p.status !== 'waiting') return;
    if (this.#poolDown) this.#leftWhileDown.add(p.userId);
    else
      this.#o.pool.remove(p.userId).catch((err: unknown) => {
        this.#leftWhileDown.add(p.userId);
        this.#failed(err, 'remove');
      });
  }

  /** Looks for a partner for the person now. */
  tryMatch(p: Participant): void {
    if (this.#closed || this.#poolDown || p.status !== 'waiting') return;
    this.#o.pool
      .matchFor(p.userId, this.#o.clock.now())
      .then(
        (claimed) => {
          if (claimed === 'retry') {
            // Other nodes won the race for everyone we tried: look again shortly, not at the next widening step.
            this.#o.clock.after(100 + Math.floor(Math.random() * 400), () => this.tryMatch(p));
          } else if (claimed) {
            this.#claimed(claimed);
          }
        },
        (err: unknown) => this.#failed(err, 'match'),
      )
      .catch((err: unknown) => this.#o.log.error({ err, userId: p.userId }, 'starting a matched call failed'));
  }

  /** Waits are remembered for estimates once a pair becomes a call. */
  matched(at: number, tickets: readonly Ticket[]): void {
    for (const t of tickets) this.#waits.record(at, at - t.joinedAt);
  }

  /**
   * An honest estimate: the median wait of matches in the last ten minutes, when there were at
   * least three; null (unknown) otherwise, or when others are waiting in the person's pool (then
   * the rules, not the crowd, decide how long it takes).
   */
  estimateWait(p: Participant): number | null {
    if (this.#o.pool.poolSize(p.criteria.mode, p.criteria.language) > 1) return null;
    return this.#waits.medianSince(this.#o.clock.now() - 10 * 60_000);
  }

  close(): void {
    this.#closed = true;
  }

  /**
   * The shared pool went away (false), or is usable again (true) and may have lost this node's
   * entries. On the way back, everyone in `people` who is waiting goes back in with their original
   * wait (a replaced entry keeps its place), and is matched, the longest wait first, once all are in.
   */
  poolAvailable(up: boolean, people: Iterable<Participant>): void {
    this.#poolDown = !up;
    if (!up || this.#closed) return;
    const left = [...this.#leftWhileDown];
    this.#leftWhileDown.clear();
    for (const userId of left) this.#settle(this.#o.pool.remove(userId), 'remove after an outage');
    this.reenter(people);
  }

  /**
   * Puts those in `people` who are waiting back in the pool with their original wait, and matches
   * them, the longest wait first, once all are in: after an outage, or when a node claimed them and
   * died before telling this one.
   */
  reenter(people: Iterable<Participant>): void {
    if (this.#closed || this.#poolDown) return;
    const waiting = [...people].filter((p) => p.status === 'waiting').sort((x, y) => x.waitingSince - y.waitingSince);
    void Promise.allSettled(waiting.map((p) => this.#o.pool.enqueue(this.#ticket(p)))).then((results) => {
      this.#o.changed();
      results.forEach((r, i) => {
        if (r.status === 'fulfilled') this.tryMatch(waiting[i]!);
        else this.#failed(r.reason, 'enter again');
      });
    });
  }

  #ticket(p: Participant): Ticket {
    const { interests, language, region, mode } = p.criteria;
    return {
      userId: p.userId,
      mode,
      language,
      region,
      interests,
      // The pool keeps the first joinedAt of a repeated join too.
      joinedAt: p.waitingSince,
      blocked: p.blockedWith,
      recent: p.recent,
      node: this.#o.node,
      ...(p.held ? { held: true } : {}),
      ...(this.#o.verified(p) ? { verified: true } : {}),
      ...(p.criteria.verifiedOnly ? { verifiedOnly: true } : {}),
    };
  }

  /**
   * Matching widens with the wait: interests become a preference, then region is dropped, then (in
   * a tiny pool) recent partners are allowed again. At each step the person is told, and matched
   * again against everyone waiting.
   */
  #scheduleWidening(p: Participant): void {
    p.cancelWidening?.();
    const { policy, clock, send } = this.#o;
    const steps: Array<[number, () => void]> = [
      [
        policy.interestsRequiredMs,
        () =>
          p.criteria.interests.length > 0 && send(p.userId, { type: 'widened', stage: 'interests', interests: [...p.criteria.interests] }),
      ],
      [policy.regionRequiredMs, () => p.criteria.region !== undefined && send(p.userId, { type: 'widened', stage: 'region' })],
      [policy.relaxRecentAfterMs, () => undefined],
    ];
    const waited = clock.now() - p.waitingSince;
    const cancels = steps
      .filter(([at]) => at > waited)
      .map(([at, announce]) =>
        clock.after(at - waited, () => {
          if (p.status !== 'waiting' || this.#o.person(p.userId) !== p) return;
          announce();
          this.tryMatch(p);
        }),
      );
    // Recent partners meet again only in a tiny pool, which the pool can turn into at any time
    // after that step, as others are matched or leave, with no search left to notice: until then,
    // someone with recent partners looks again every so often, when they find the pool tiny. (A
    // wait adds no recent partner: someone with none now, a newcomer, needs no timer.)
    const every = Math.max(policy.relaxRecentAfterMs, 1_000);
    let recheck = () => {};
    const again = (ms: number) => {
      recheck = clock.after(ms, () => {
        if (p.status !== 'waiting' || this.#o.person(p.userId) !== p) return;
        if (this.#o.pool.poolSize(p.criteria.mode, p.criteria.language) <= policy.smallPool) this.tryMatch(p);
        again(every);
      });
    };
    if (p.recent.length > 0) again(Math.max(0, policy.relaxRecentAfterMs - waited) + every);
    p.cancelWidening = () => {
      cancels.forEach((c) => c());
      recheck();
    };
  }

  /**
   * The pool answered after a wait (a microtask in process, a round trip in Redis): someone here
   * may have left meanwhile. The claim already took both out of the pool, so whoever is still
   * waiting goes straight back in.
   */
  #claimed([a, b]: [Ticket, Ticket]): void {
    // Still waiting, and on the same wait the claim was made from (not a later join).
    const stillHere = (t: Ticket) => {
      if (t.node !== this.#o.node) return true;
      const p = this.#o.person(t.userId);
      return p?.status === 'waiting' && p.waitingSince === t.joinedAt;
    };
    if (!this.#closed && stillHere(a) && stillHere(b)) return this.#o.paired(a, b);
    for (const t of [a, b]) {
      if (!stillHere(t)) continue;
      // While the pool is away, the person here stays waiting and goes back in with everyone else.
      if (this.#poolDown && t.node === this.#o.node) continue;
      this.#settle(this.#o.pool.enqueue(t), 'requeue after a lost partner');
      const p = t.node === this.#o.node ? this.#o.person(t.userId) : undefined;
      if (p) this.tryMatch(p);
    }
  }

  #settle(result: Promise<unknown>, what: string): void {
    result.catch((err: unknown) => this.#failed(err, what));
  }

  /** A pool command failed: expected while the shared pool is away (the cluster logs the outage once), an error otherwise. */
  #failed(err: unknown, what: string): void {
    if (this.#closed) return;
    if (this.#poolDown) this.#o.log.debug({ err: (err as Error)?.message }, `pool ${what} failed during an outage`);
    else this.#o.log.error({ err }, `pool ${what} failed`);
  }
}
