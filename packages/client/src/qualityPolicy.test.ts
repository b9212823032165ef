import { describe, expect, it } from 'vitest';
import { opusForVoice } from './peer.js';
import {
  decide,
  FRESH_FEEDBACK_MS,
  initialPolicy,
  levelOf,
  PAUSED,
  PROBE_KBPS,
  RESUME_HOLD_MS,
  roundTrip,
  sendTier,
  TIERS,
  tierForBandwidth,
  worst,
  type PolicyState,
  type ReceiveReport,
  type SendObservation,
} from './qualityPolicy.js';

const clean: SendObservation = { availableKbps: 2500, loss: 0, rttMs: 40, minRttMs: 40, partner: null };
const report = (r: Partial<ReceiveReport> = {}): ReceiveReport => ({
  loss: 0,
  concealment: 0,
  fps: 24,
  height: 480,
  delayMs: 90,
  sendingVideo: true,
  ...r,
});

/** Feeds one observation a second for `seconds`, from `state` at time `t0`. */
function run(state: PolicyState, o: SendObservation, seconds: number, t0 = 0): PolicyState {
  let s = state;
  for (let i = 1; i <= seconds; i++) s = decide(s, o, t0 + i * 1000);
  return s;
}

/** A policy past the bandwidth estimate's ramp-up at t = 0, after a few clean seconds at 2.5 Mbps. */
const warm = () => run(initialPolicy(-20_000, 0), clean, 3, -4000);
const LAST = TIERS.length - 1;

describe('audio-first video policy', () => {
  it('keeps full video on a clean link', () => {
    expect(run(warm(), clean, 20).tier).toBe(0);
  });

  it('does not step down for a low estimate alone, without a queue, loss or a fall', () => {
    expect(run(initialPolicy(-20_000, 0), { ...clean, availableKbps: 300 }, 20).tier).toBe(0);
  });

  it('does not take the estimate’s ramp-up at the start of a call for a squeeze', () => {
    expect(run(initialPolicy(0, 0), { ...clean, availableKbps: 350 }, 5).tier).toBe(0);
  });

  it('starts a call at the thumbnail and climbs a tier a second while the estimate has room', () => {
    const start = initialPolicy(0);
    expect(start.tier).toBe(LAST);
    // The first two seconds' estimate is the browser's start rate: no climb on it.
    expect([1, 2, 3, 4, 5, 6].map((n) => run(start, clean, n).tier)).toEqual([LAST, LAST, LAST - 1, 2, 1, 0]);
    // A 500 kbps estimate: up to the tier that fits beside the voice, no further.
    expect(run(start, { ...clean, availableKbps: 480 }, 9).tier).toBe(1);
    // At a 150 kbps cap the estimate reads up to ~180 kbps: not enough to leave the thumbnail.
    expect(run(start, { ...clean, availableKbps: 180 }, 9).tier).toBe(LAST);
    // A 150 kbps link (the thumbnail and the voice measure ~100 kbps on it): the thumbnail, with no
    // full-size keyframe or start rate to fill its queue.
    expect(run(start, { ...clean, availableKbps: 100 }, 8).tier).toBe(LAST);
    // Not into a queue or loss.
    expect(run(start, { ...clean, rttMs: 40 + 150 }, 3).tier).toBe(LAST);
    expect(run(start, { ...clean, loss: 0.03 }, 1).tier).toBe(LAST);
    // Under 10 % loss the estimate stays low while only the thumbnail is sent: no pause for that.
    expect(run(start, { ...clean, loss: 0.1, availableKbps: 89, rttMs: 40 + 600 }, 5).tier).toBe(LAST);
  });

  it('does not probe at the start: the estimate has not been measured yet', () => {
    // On a 150 kbps link it read 144–151 kbps at 3 s; a thumbnail filling it queued the voice 700 ms.
    const start = initialPolicy(0);
    for (const n of [1, 3, 6, 9, 12]) {
      const s = run(start, { ...clean, availableKbps: 120 }, n);
      expect(s).toMatchObject({ tier: LAST, probing: false });
      expect(sendTier(s)).toEqual(TIERS[LAST]);
    }
  });

  it('probes after a resume (the thumbnail sent with a higher cap, still 120p at 8 fps) until it meets a queue, loss or broken voice', () => {
    let s = run(warm(), { ...clean, availableKbps: 90 }, 1);
    expect(s.tier).toBe(PAUSED);
    expect(sendTier(s)).toBeNull();
    // While paused the estimate saw only the voice (60–90 kbps): the resumed thumbnail probes at once.
    const voiceOnly = { ...clean, availableKbps: 70 };
    s = run(s, voiceOnly, RESUME_HOLD_MS / 1000 + 1, 1000);
    expect(s).toMatchObject({ tier: LAST, probing: true });
    expect(sendTier(s)).toEqual({ ...TIERS[LAST]!, maxKbps: PROBE_KBPS });
    const at = 1000 + (RESUME_HOLD_MS / 1000 + 1) * 1000;
    for (const bad of [
      { ...voiceOnly, rttMs: 40 + 150 },
      { ...voiceOnly, loss: 0.03 },
      { ...voiceOnly, partner: report({ concealment: 0.05 }) },
    ]) {
      const spent = run(s, bad, 1, at);
      expect(spent).toMatchObject({ tier: LAST, probing: false, probeSpent: true });
      // The link clears again: the thumbnail stays plain until the next resume.
      expect(run(spent, voiceOnly, 3, at + 1000).probing).toBe(false);
    }
    // Ten seconds after the resume the thumbnail is plain again.
    expect(run(s, voiceOnly, 10, at).probing).toBe(false);
    // The estimate grows with what is sent: the climb takes over and the probe ends.
    const climbed = run(s, { ...clean, availableKbps: 260 }, 1, at);
    expect(climbed).toMatchObject({ tier: LAST - 1, probing: false });
    expect(sendTier(climbed)).toEqual(TIERS[LAST - 1]);
    // Nor on a thumbnail the video stepped down to (the link just showed it has no room).
    const down = run(climbed, { ...clean, availableKbps: 260, rttMs: 40 + 250 }, 2, at + 1000);
    expect(down).toMatchObject({ tier: LAST, probing: false, probeSpent: true });
    expect(run(down, voiceOnly, 2, at + 3000).probing).toBe(false);
    // A later resume probes again.
    let again = run(down, { ...voiceOnly, availableKbps: 40, rttMs: 40 + 500 }, 1, at + 3000);
    expect(again.tier).toBe(PAUSED);
    again = run(again, voiceOnly, 10, at + 4000);
    expect(again).toMatchObject({ tier: LAST, probing: true, probeSpent: false });
  });

  it('climbs a tier a second after a resume while the estimate has room, as at the start', () => {
    let s = run(warm(), { ...clean, availableKbps: 90 }, 1);
    s = run(s, { ...clean, availableKbps: 70 }, RESUME_HOLD_MS / 1000 + 1, 1000);
    expect(s.tier).toBe(LAST);
    const at = 1000 + (RESUME_HOLD_MS / 1000 + 1) * 1000;
    // The estimate jumps (a probe: 126 → 543 kbps in a second, measured after a cap lifted).
    const up = [1, 2, 3].map((n) => run(s, { ...clean, availableKbps: 550 }, n, at).tier);
    expect(up).toEqual([LAST - 1, 2, 1]);
    // Out of the thumbnail it wants the start's headroom; below that the usual climb (2 s a tier) applies.
    expect(run(s, { ...clean, availableKbps: 200 }, 1, at).tier).toBe(LAST);
    expect(run(s, { ...clean, availableKbps: 200 }, 3, at).tier).toBe(LAST - 1);
  });

  it('sees the lowest fresh round trip, the lower of two seconds (three while paused)', () => {
    // The reports' round trip lags after heavy loss; RTCP's or the ICE checks' shows the drained queue.
    expect(roundTrip([950, 30], 950, [], false).rttMs).toBe(30);
    // Nothing new: the pair's last.
    expect(roundTrip([], 40, [], false).rttMs).toBe(40);
    expect(roundTrip([], null, [30], false)).toEqual({ rttMs: null, recent: [30] });
    // One jump on a busy CPU does not count; a queue that lasts does.
    let r = roundTrip([20], null, [], false);
    r = roundTrip([300], null, r.recent, false);
    expect(r.rttMs).toBe(20);
    expect(roundTrip([300], null, r.recent, false).rttMs).toBe(300);
    // Paused, two jumps in a row do not either.
    r = roundTrip([300], null, [20, 300], true);
    expect(r.rttMs).toBe(20);
    expect(roundTrip([300], null, r.recent, true).rttMs).toBe(300);
  });

  it('picks the tier that fits beside the voice, and pauses below the last one', () => {
    expect(tierForBandwidth(3000)).toBe(0);
    expect(tierForBandwidth(500)).toBe(1);
    expect(tierForBandwidth(300)).toBe(2);
    expect(tierForBandwidth(200)).toBe(3);
    expect(tierForBandwidth(130)).toBe(LAST);
    expect(tierForBandwidth(100)).toBe(PAUSED);
  });

  it('drops to a thumbnail at once when the estimate falls to 150 kbps, and pauses below it', () => {
    expect(run(warm(), { ...clean, availableKbps: 140 }, 1).tier).toBe(LAST);
    const s = run(warm(), { ...clean, availableKbps: 90 }, 1);
    expect(s.tier).toBe(PAUSED);
    // Stays paused while the queue stays long.
    expect(run(s, { ...clean, availableKbps: 90, rttMs: 700 }, 30, 1000).tier).toBe(PAUSED);
  });

  it('steps down under 10 % loss but keeps video; pauses only under very heavy loss', () => {
    expect(run(warm(), { ...clean, loss: 0.1 }, 3).tier).toBe(LAST - 1);
    expect(run(warm(), { ...clean, loss: 0.35 }, 1).tier).toBe(PAUSED);
  });

  it('steps down after two seconds of a long queue (bufferbloat), even during the ramp-up, down to the thumbnail', () => {
    let s = run(initialPolicy(0, 0), { ...clean, rttMs: 40 + 500 }, 1);
    expect(s.tier).toBe(0);
    s = run(s, { ...clean, rttMs: 40 + 500 }, 1, 1000);
    expect(s.tier).toBe(1);
    s = run(s, { ...clean, rttMs: 40 + 500 }, 10, 2000);
    // A queue alone (a starved CPU looks the same) does not pause the video ...
    expect(s.tier).toBe(LAST);
    // ... the partner hearing broken voice does.
    s = run(s, { ...clean, rttMs: 40 + 500, partner: report({ concealment: 0.08 }) }, 2, 12_000);
    expect(s.tier).toBe(PAUSED);
  });

  it('steps down at once when the estimate falls sharply and the queue grows', () => {
    expect(run(warm(), { ...clean, availableKbps: 600, rttMs: 40 + 500 }, 1).tier).toBe(1);
    expect(run(warm(), { ...clean, availableKbps: 400, rttMs: 40 + 500 }, 1).tier).toBe(2);
    // Down to what leaves only the thumbnail beside the voice: a collapse, paused (below).
    expect(run(warm(), { ...clean, availableKbps: 150, rttMs: 40 + 500 }, 1).tier).toBe(PAUSED);
  });

  it('pauses at once when the estimate collapses under half its peak and the queue is twice too deep', () => {
    // 2 Mbps → 150 kbps: the estimate reads ~130 kbps a second later, the round trip 0.5–2 s.
    expect(run(warm(), { ...clean, availableKbps: 130, rttMs: 40 + 500 }, 1).tier).toBe(PAUSED);
    // From the thumbnail too (a queue alone would stop there).
    const thumb = run(warm(), { ...clean, availableKbps: 140 }, 1);
    expect(thumb.tier).toBe(LAST);
    expect(run(thumb, { ...clean, availableKbps: 60, rttMs: 40 + 900 }, 1, 1000).tier).toBe(PAUSED);
    // Or with the partner missing 30 % of what was sent (the round trip lags: its first reports
    // after a drop answer reports sent before it). A second of 10 % random loss can read 22 %.
    expect(run(warm(), { ...clean, availableKbps: 130, partner: report({ loss: 0.4 }) }, 1).tier).toBe(PAUSED);
    expect(run(warm(), { ...clean, availableKbps: 130, partner: report({ loss: 0.22 }) }, 1).tier).toBeLessThan(PAUSED);
    // Not for a fall without a queue (loss), nor a queue with the estimate above half its peak.
    expect(run(warm(), { ...clean, availableKbps: 900, rttMs: 40 + 500 }, 1).tier).toBeLessThan(PAUSED);
    expect(run(warm(), { ...clean, availableKbps: 130, loss: 0.1 }, 1).tier).toBeLessThan(PAUSED);
  });

  it('steps down when the partner hears broken audio for two seconds, not for one', () => {
    expect(run(warm(), { ...clean, partner: report({ concealment: 0.08 }) }, 1).tier).toBe(0);
    expect(run(warm(), { ...clean, partner: report({ concealment: 0.08 }) }, 2).tier).toBeGreaterThan(0);
  });

  it('resumes after the hold once the link clears, then climbs one tier at a time', () => {
    let s = run(warm(), { ...clean, availableKbps: 90 }, 1);
    expect(s.tier).toBe(PAUSED);
    // Paused, the estimate sees only the voice (90 kbps): the queue and loss decide.
    const quiet = { ...clean, availableKbps: 90 };
    s = run(s, quiet, RESUME_HOLD_MS / 1000, 1000);
    expect(s.tier).toBe(PAUSED);
    s = run(s, quiet, 1, 1000 + RESUME_HOLD_MS);
    expect(s.tier).toBe(LAST);
    s = run(s, clean, 40, 10_000);
    expect(s.tier).toBe(0);
  });

  it('climbs, starts and resumes only on fresh feedback: a late report means the link is not known to be clear', () => {
    const late = { ...clean, feedbackAgeMs: FRESH_FEEDBACK_MS + 700 };
    const onTime = { ...clean, feedbackAgeMs: 900 };
    // One tier below the top, after the start: up on fresh reports only.
    const one = run(initialPolicy(-20_000, 1), clean, 1, -1000);
    expect(run(one, late, 20).tier).toBe(1);
    expect(run(one, onTime, 20).tier).toBe(0);
    // The start's climb waits for them too.
    expect(run(initialPolicy(0), late, 6).tier).toBe(LAST);
    expect(run(initialPolicy(0), onTime, 6).tier).toBe(0);
    // A pause holds while the partner's reports are late.
    const paused = run(warm(), { ...clean, availableKbps: 90 }, 1);
    expect(paused.tier).toBe(PAUSED);
    expect(run(paused, { ...late, availableKbps: 90 }, 10, 1000).tier).toBe(PAUSED);
    expect(run(paused, { ...onTime, availableKbps: 90 }, 10, 1000).tier).toBe(LAST);
    // Late reports are no reason to step down by themselves.
    expect(run(warm(), late, 20).tier).toBe(0);
  });

  it('waits twice as long after a resume that failed', () => {
    let s = run(warm(), { ...clean, availableKbps: 90 }, 1);
    s = run(s, { ...clean, availableKbps: 90 }, 4, 1000);
    // Just resumed: the audio-only estimate is no reason to pause again, a growing queue is.
    expect(s.tier).toBe(LAST);
    s = run(s, { ...clean, availableKbps: 90, rttMs: 40 + 500 }, 1, 5000);
    expect(s.tier).toBe(PAUSED);
    expect(s.resumeHoldMs).toBe(2 * RESUME_HOLD_MS);
  });
});

describe('quality level', () => {
  it('grades what a side receives', () => {
    expect(levelOf(report(), true)).toBe('good');
    expect(levelOf(report({ height: 240, fps: 15 }), true)).toBe('fair');
    expect(levelOf(report({ concealment: 0.02 }), true)).toBe('fair');
    expect(levelOf(report({ concealment: 0.08 }), true)).toBe('poor');
    expect(levelOf(report({ delayMs: 700 }), true)).toBe('poor');
    expect(levelOf(report({ fps: 0 }), true)).toBe('poor');
    expect(levelOf(report({ fps: 0, height: 0 }), false)).toBe('poor');
  });

  it('judges by the voice alone while the partner holds their camera off (their page is hidden)', () => {
    // Black frames at a trickle are not a frozen picture: the partner switched apps, the network is fine.
    expect(levelOf(report({ fps: 1, height: 0, delayMs: null }), false, true)).toBe('good');
    expect(levelOf(report({ fps: 1, concealment: 0.02 }), false, true)).toBe('fair');
    expect(levelOf(report({ fps: 1, loss: 0.2 }), false, true)).toBe('poor');
  });

  it('is the worst of the two sides', () => {
    expect(worst('good', 'fair')).toBe('fair');
    expect(worst('poor', 'good')).toBe('poor');
    expect(worst('good', null)).toBe('good');
  });
});

describe('Opus for the voice', () => {
  const sdp = [
    'v=0',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111 63',
    'a=rtpmap:111 opus/48000/2',
    'a=fmtp:111 minptime=10;useinbandfec=1',
    'a=rtpmap:63 red/48000/2',
    'a=fmtp:63 111/111',
    '',
  ].join('\r\n');

  it('asks for in-band FEC and DTX on Opus only', () => {
    const out = opusForVoice(sdp);
    expect(out).toContain('a=fmtp:111 minptime=10;useinbandfec=1;usedtx=1\r\n');
    expect(out).toContain('a=fmtp:63 111/111');
    expect(opusForVoice(out)).toBe(out);
  });

  it('leaves a description without Opus alone', () => {
    expect(opusForVoice('v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n')).toBe('v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n');
  });
});
