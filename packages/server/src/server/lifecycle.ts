import type { EventEmitter } from 'node:events';
import type { Call } from '../calls/call.js';
import type { CallEvents } from '../calls/calls.js';
import type { CallRecords } from '../calls/recorder.js';
import type { Meter } from '../metering/meter.js';
import type { RelayAccounting } from '../metering/relayBooks.js';
import type { Funnel } from '../telemetry/funnel.js';
import type { DuetMetrics } from '../telemetry/metrics.js';
import type { QualityRecorder } from '../telemetry/quality.js';

export interface CallListeners {
  records: Pick<CallRecords, 'callMatched' | 'callMoved'>;
  meter: Pick<Meter, 'callConnected' | 'callEnded'>;
  metrics: Pick<DuetMetrics, 'callMatched' | 'callConnected' | 'callEnded'>;
  funnel: Pick<Funnel, 'callMatched' | 'callConnected' | 'callEnded'>;
  quality: Pick<QualityRecorder, 'callMatched' | 'callEnded'>;
  relay: Pick<RelayAccounting, 'callMatched' | 'callEnded'>;
}

/**
 * Who reacts to a call's moves, and in which order: the one place that lists them (they never
 * subscribe themselves). The record is written first, so every later write about the call (the
 * meter's, the quality recorder's) lands after the row it updates. With several nodes, a call whose
 * two people are on two nodes exists on both; only its primary (the node that matched it) keeps the
 * record, meters it and counts it, so that is decided here, once per move. Quality samples and the
 * funnel are per person, so every node takes its own people's.
 */
export function wireCallLifecycle(observer: EventEmitter<CallEvents>, l: CallListeners): void {
  const primary = (call: Call) => call.primary;
  observer.on('call:matched', (call) => {
    if (primary(call)) {
      l.records.callMatched(call);
      l.metrics.callMatched(call);
    }
    l.funnel.callMatched(call);
    l.relay.callMatched(call);
    l.quality.callMatched(call);
  });
  observer.on('call:connecting', (call) => {
    if (primary(call)) l.records.callMoved(call);
  });
  observer.on('call:connected', (call) => {
    if (primary(call)) {
      l.records.callMoved(call);
      l.metrics.callConnected(call);
      l.meter.callConnected(call);
    }
    l.funnel.callConnected(call);
  });
  observer.on('call:ended', (call) => {
    if (primary(call)) {
      l.records.callMoved(call);
      l.metrics.callEnded(call);
    }
    // The meter closes every call it meters (only primaries); the quality recorder every call it tracks.
    l.meter.callEnded(call);
    l.funnel.callEnded(call);
    l.relay.callEnded(call);
    l.quality.callEnded(call);
  });
}
