import type { CallRecords } from '../calls/recorder.js';
import { wireCallLifecycle } from '../server/lifecycle.js';
import type { Lobby } from '../lobby/lobby.js';
import type { Meter } from '../metering/meter.js';

const none = { callMatched: () => undefined, callConnected: () => undefined, callEnded: () => undefined };

/** The call records and the meter, wired to a lobby's calls as the server wires them (nothing else listening). */
export function wireRecordsAndMeter(lobby: Lobby, records: CallRecords, meter: Meter): void {
  wireCallLifecycle(lobby.calls.observer, { records, meter, metrics: none, funnel: none, quality: none, relay: none });
}
