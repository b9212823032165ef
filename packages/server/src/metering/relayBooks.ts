import type { Logger } from 'pino';
import type { Call } from '../calls/call.js';
import type { CallRecords } from '../calls/recorder.js';
import type { Clock } from '../util/clock.js';
import type { RelayUsage } from '../relay/coturn.js';
import type { Relay, RelayMode } from '../relay/relay.js';

/**
 * Bytes the relay must carry for one call before the call counts as relayed: an allocation the
 * browsers did not pick still sees ICE checks and keepalives, a few kB over a long call.
 */
export const RELAYED_MIN_BYTES = 100_000;
/** How long after a call ends its allocations' closing reports are still attributed to it. */
const KEEP_AFTER_END_MS = 15 * 60_000;

interface Entry {
  call: Call | undefined;
  /** People handed relay credentials for this call. */
  credentialed: Set<string>;
  usernames: Set<string>;
  /** Managed: what coturn reported for the call's allocations. */
  coturnBytes: number;
  /** External: each side's bounded figure, and what is stored. */
  claimed: { a: number; b: number };
  stored: number;
  relayed: boolean;
}

/** What the quality recorder asks of the relay's books: browsers' figures go in bounded, or not at all. */
export interface RelayTruth {
  /** A browser says its media path is (or is not) relayed and how many bytes its pair carried. */
  clientClaim(call: Call, userId: string, relayedPath: boolean, bytesTotal: number | undefined): void;
  /** Whether the call counts as relayed, by the relay's evidence (managed) or a bounded claim (external). */
  relayed(callId: string): boolean;
}

export interface RelayAccountingOptions {
  relay: Pick<Relay, 'listen'> & { readonly mode: RelayMode };
  records: CallRecords;
  clock: Clock;
  log: Logger;
  /** TURN_MAX_BPS: what one allocation may carry per second each way (coturn's max-bps). */
  maxBytesPerSecond: number;
}

/**
 * The relay's books per call. Managed mode: coturn's own usage reports, attributed through the TURN
 * username Duet issued for the call, are the truth; browsers' byte counts are ignored. External mode
 * (no feed from the operator's relays): a browser's figure counts only if it was handed relay
 * credentials for that call, and never beyond what the relay could carry in the connected time.
 * Relay off: nothing is relayed, whatever a browser says.
 */
export class RelayAccounting implements RelayTruth {
  readonly #o: RelayAccountingOptions;
  readonly #calls = new Map<string, Entry>();
  readonly #byUsername = new Map<string, string>();

  constructor(options: RelayAccountingOptions) {
    this.#o = options;
    options.relay.listen({ issued: (g) => this.#issued(g), usage: (u) => this.#usage(u) });
  }

  callMatched(call: Call): void {
    this.#entry(call.id).call = call;
  }

  /** The relay's last usage lines for a call may come after it ends: its books stay open a while. */
  callEnded(call: Call): void {
    this.#o.clock.after(KEEP_AFTER_END_MS, () => {
      for (const u of this.#calls.get(call.id)?.usernames ?? []) if (this.#byUsername.get(u) === call.id) this.#byUsername.delete(u);
      this.#calls.delete(call.id);
    });
  }

  relayed(callId: string): boolean {
    return this.#calls.get(callId)?.relayed ?? false;
  }

  clientClaim(call: Call, userId: string, relayedPath: boolean, bytesTotal: number | undefined): void {
    if (this.#o.relay.mode !== 'external' || !relayedPath) return;
    const e = this.#calls.get(call.id);
    // Nobody relays through a fleet they hold no credentials for.
    if (!e?.credentialed.has(userId)) return;
    const connectedMs = call.at.connected === undefined ? 0 : (call.at.ended ?? this.#o.clock.now()) - call.at.connected;
    // Two legs (one per browser), each at most max-bps: the most a relay could have carried so far.
    const cap = Math.floor((Math.max(0, connectedMs) / 1000) * this.#o.maxBytesPerSecond * 2);
    if (cap <= 0) return;
    const side = call.sideOf(userId);
    const claimed = Math.min(Math.max(0, bytesTotal ?? 0), cap);
    if ((bytesTotal ?? 0) > cap)
      this.#o.log.warn({ callId: call.id, userId, bytesTotal, cap }, 'relayed bytes claimed beyond what the relay could carry; capped');
    e.claimed[side] = Math.max(e.claimed[side], claimed);
    // Both browsers count the same relayed traffic from their end; the larger (bounded) count is the truer one.
    const bytes = Math.min(cap, Math.max(e.claimed.a, e.claimed.b));
    const first = !e.relayed;
    e.relayed = true;
    if (bytes <= e.stored && !first) return;
    e.stored = Math.max(e.stored, bytes);
    this.#o.records.relayClaimed(call.id, e.stored);
  }

  #entry(callId: string): Entry {
    let e = this.#calls.get(callId);
    if (!e)
      this.#calls.set(
        callId,
        (e = {
          call: undefined,
          credentialed: new Set(),
          usernames: new Set(),
          coturnBytes: 0,
          claimed: { a: 0, b: 0 },
          stored: 0,
          relayed: false,
        }),
      );
    return e;
  }

  #issued(g: { username: string; userId: string; callId: string }): void {
    const e = this.#entry(g.callId);
    e.credentialed.add(g.userId);
    e.usernames.add(g.username);
    this.#byUsername.set(g.username, g.callId);
  }

  #usage(u: RelayUsage): void {
    const callId = this.#byUsername.get(u.username);
    const e = callId === undefined ? undefined : this.#calls.get(callId);
    if (!callId || !e || u.bytes <= 0) {
      if (u.bytes > 0) this.#o.log.debug({ username: u.username, bytes: u.bytes }, 'relay usage for no known call');
      return;
    }
    // coturn enforces max-bps per allocation each way; a report beyond what the call's time allows
    // is not coturn's (defence in depth against a forged log line).
    const since = e.call ? e.call.at.matched : this.#o.clock.now();
    const cap = Math.floor(((this.#o.clock.now() - since) / 1000 + 60) * this.#o.maxBytesPerSecond * 4);
    const bytes = Math.min(u.bytes, Math.max(0, cap - e.coturnBytes));
    if (bytes < u.bytes)
      this.#o.log.warn({ callId, session: u.session, reported: u.bytes, cap }, 'relay usage beyond what the call could carry; capped');
    if (bytes <= 0) return;
    e.coturnBytes += bytes;
    const relayedNow = !e.relayed && e.coturnBytes >= RELAYED_MIN_BYTES;
    if (relayedNow) e.relayed = true;
    // An increment, not a total: several reports (and, with several nodes, several relays) add up.
    this.#o.records.relayed(callId, bytes, relayedNow);
  }
}
