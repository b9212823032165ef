/** The bad-network table (docs/quality.md). Networks are end to end, per direction. */
import { network, type QualityScenario } from './lab.js';

const WARMUP_S = 6;
const MEASURE_S = 12;

function steady(id: string, name: string, n: Parameters<typeof network>[0]): QualityScenario {
  return { id, name, phases: [{ atS: 0, ...network(n), label: name }], warmupS: WARMUP_S, measureS: MEASURE_S };
}

export const SCENARIOS: QualityScenario[] = [
  steady('clean', 'clean (relay)', {}),
  steady('rtt100', '+100 ms RTT, ±20 ms jitter', { rttMs: 100, jitterMs: 20 }),
  steady('rtt300', '+300 ms RTT', { rttMs: 300 }),
  steady('loss2', '2 % random loss', { loss: 0.02 }),
  steady('loss10', '10 % random loss', { loss: 0.1 }),
  steady('burst20', '20 % loss in bursts (mean 8 packets)', { burstLoss: 0.2, burstLen: 8 }),
  steady('cap500', '500 kbps cap, 1 s queue', { rateKbps: 500, queueMs: 1000 }),
  steady('cap150', '150 kbps cap, 1 s queue', { rateKbps: 150, queueMs: 1000 }),
  {
    id: 'capdrop',
    name: '2 Mbps → 150 kbps (at 8 s) → 2 Mbps (at 18 s), 1 s queue',
    phases: [
      { atS: 0, ...network({ rateKbps: 2000, queueMs: 1000 }), label: '2 Mbps' },
      { atS: 8, ...network({ rateKbps: 150, queueMs: 1000 }), label: '150 kbps' },
      { atS: 18, ...network({ rateKbps: 2000, queueMs: 1000 }), label: '2 Mbps' },
    ],
    warmupS: WARMUP_S,
    measureS: 32,
  },
  {
    id: 'asym100',
    name: 'asymmetric: a’s uplink 100 kbps (1 s queue), b clean',
    phases: [{ atS: 0, a: { up: { rateKbps: 100, queueMs: 1000 }, down: {} }, b: { up: {}, down: {} }, label: 'asym' }],
    warmupS: WARMUP_S,
    measureS: MEASURE_S,
  },
  {
    id: 'asym',
    name: 'asymmetric: a’s uplink 150 kbps (1 s queue), b clean',
    phases: [{ atS: 0, a: { up: { rateKbps: 150, queueMs: 1000 }, down: {} }, b: { up: {}, down: {} }, label: 'asym' }],
    warmupS: WARMUP_S,
    measureS: MEASURE_S,
  },
];

/** The CI subset: the budget, loss and squeeze targets in about four minutes. */
export const CI_SCENARIOS = ['clean', 'loss10', 'cap150', 'capdrop'];
