import type { MediaPath, QualitySample } from '@duet/protocol';

type Stat = Record<string, unknown> & { id: string; type: string; timestamp: number };

/** Cumulative counters from one getStats() call, kept to turn the next one into rates. */
export interface StatsSnapshot {
  at: number;
  bytesReceived: number;
  bytesSent: number;
  packetsReceived: number;
  packetsLost: number;
  concealedSamples: number;
  totalSamplesReceived: number;
  jitterBufferDelay: number;
  jitterBufferEmitted: number;
  totalDecodeTime: number;
  framesDecoded: number;
}

export interface ConnectionInfo {
  path: MediaPath | null;
  relayed: boolean;
  rttMs: number | null;
  estDelayMs: number | null;
  inboundKbps: number | null;
  outboundKbps: number | null;
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const CANDIDATE = new Set(['host', 'srflx', 'prflx', 'relay']);
const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;

/**
 * Reads one RTCPeerConnection's stats into a compact quality sample. Rates (bitrate, loss,
 * concealment, delay) are over the interval since `previous`; without it, over the whole call.
 */
export async function sampleQuality(
  pc: RTCPeerConnection,
  previous: StatsSnapshot | null,
): Promise<{ sample: QualitySample; snapshot: StatsSnapshot }> {
  const report = await pc.getStats();
  const all: Stat[] = [];
  report.forEach((s: Stat) => all.push(s));
  const byId = new Map(all.map((s) => [s.id, s]));

  const snap: StatsSnapshot = {
    at: performance.now(),
    bytesReceived: 0,
    bytesSent: 0,
    packetsReceived: 0,
    packetsLost: 0,
    concealedSamples: 0,
    totalSamplesReceived: 0,
    jitterBufferDelay: 0,
    jitterBufferEmitted: 0,
    totalDecodeTime: 0,
    framesDecoded: 0,
  };
  const sample: QualitySample = {};
  let freezeCount: number | undefined;
  let freezesMs: number | undefined;

  for (const s of all) {
    if (s.type === 'inbound-rtp') {
      snap.bytesReceived += num(s.bytesReceived);
      snap.packetsReceived += num(s.packetsReceived);
      snap.packetsLost += Math.max(0, num(s.packetsLost));
      if (s.kind === 'audio') {
        // Comfort noise while the partner's DTX is quiet is not broken voice.
        snap.concealedSamples += num(s.concealedSamples) - num(s.silentConcealedSamples);
        snap.totalSamplesReceived += num(s.totalSamplesReceived);
        if (typeof s.jitter === 'number') sample.jitterMs = round(s.jitter * 1000);
      } else if (s.kind === 'video') {
        snap.jitterBufferDelay += num(s.jitterBufferDelay);
        snap.jitterBufferEmitted += num(s.jitterBufferEmittedCount);
        snap.totalDecodeTime += num(s.totalDecodeTime);
        snap.framesDecoded += num(s.framesDecoded);
        if (typeof s.framesPerSecond === 'number') sample.fps = round(s.framesPerSecond);
        freezeCount = (freezeCount ?? 0) + num(s.freezeCount);
        freezesMs = (freezesMs ?? 0) + num(s.totalFreezesDuration) * 1000;
      }
    } else if (s.type === 'outbound-rtp') {
      snap.bytesSent += num(s.bytesSent);
    }
  }

  const pair = selectedPair(all, byId);
  if (pair) {
    if (typeof pair.currentRoundTripTime === 'number') sample.rttMs = round(pair.currentRoundTripTime * 1000);
    sample.bytesTotal = Math.round(num(pair.bytesSent) + num(pair.bytesReceived));
    const local = byId.get(pair.localCandidateId as string);
    const remote = byId.get(pair.remoteCandidateId as string);
    const localType = local?.candidateType as string | undefined;
    const remoteType = remote?.candidateType as string | undefined;
    if (localType && remoteType && CANDIDATE.has(localType) && CANDIDATE.has(remoteType)) {
      const path: MediaPath = {
        local: localType as MediaPath['local'],
        remote: remoteType as MediaPath['remote'],
        protocol: local?.protocol === 'tcp' ? 'tcp' : 'udp',
      };
      const relayProtocol = local?.relayProtocol;
      if (localType === 'relay' && (relayProtocol === 'udp' || relayProtocol === 'tcp' || relayProtocol === 'tls'))
        path.relayProtocol = relayProtocol;
      sample.path = path;
    }
  }

  // Without a previous snapshot, counts are over the whole call so far; bitrates need an interval.
  const base = previous ?? {
    ...snap,
    bytesReceived: 0,
    bytesSent: 0,
    packetsReceived: 0,
    packetsLost: 0,
    concealedSamples: 0,
    totalSamplesReceived: 0,
    jitterBufferDelay: 0,
    jitterBufferEmitted: 0,
    totalDecodeTime: 0,
    framesDecoded: 0,
  };
  const seconds = (snap.at - base.at) / 1000;
  if (previous && seconds >= 0.2) {
    sample.inboundKbps = round((Math.max(0, snap.bytesReceived - base.bytesReceived) * 8) / 1000 / seconds);
    sample.outboundKbps = round((Math.max(0, snap.bytesSent - base.bytesSent) * 8) / 1000 / seconds);
  }
  const received = snap.packetsReceived - base.packetsReceived;
  const lost = snap.packetsLost - base.packetsLost;
  if (received + lost > 0) sample.packetLoss = round(Math.min(1, Math.max(0, lost / (received + lost))), 4);
  const samples = snap.totalSamplesReceived - base.totalSamplesReceived;
  if (samples > 0) sample.audioConcealment = round(Math.min(1, Math.max(0, (snap.concealedSamples - base.concealedSamples) / samples)), 4);
  if (freezeCount !== undefined) sample.freezeCount = freezeCount;
  if (freezesMs !== undefined) sample.totalFreezesMs = Math.round(freezesMs);

  // One-way delay ≈ network (RTT/2) + time in the jitter buffer + decode, for video frames.
  const emitted = snap.jitterBufferEmitted - base.jitterBufferEmitted;
  const decoded = snap.framesDecoded - base.framesDecoded;
  if (sample.rttMs !== undefined && emitted > 0 && decoded > 0) {
    const buffer = ((snap.jitterBufferDelay - base.jitterBufferDelay) / emitted) * 1000;
    const decode = ((snap.totalDecodeTime - base.totalDecodeTime) / decoded) * 1000;
    sample.estDelayMs = round(Math.min(60_000, sample.rttMs / 2 + buffer + decode));
  }
  return { sample, snapshot: snap };
}

function selectedPair(all: Stat[], byId: Map<string, Stat>): Stat | undefined {
  for (const s of all) {
    if (s.type === 'transport' && typeof s.selectedCandidatePairId === 'string') {
      const pair = byId.get(s.selectedCandidatePairId);
      if (pair) return pair;
    }
  }
  return all.find((s) => s.type === 'candidate-pair' && s.nominated === true && s.state === 'succeeded');
}

export function connectionInfoOf(sample: QualitySample): ConnectionInfo {
  const path = sample.path ?? null;
  return {
    path,
    relayed: path !== null && (path.local === 'relay' || path.remote === 'relay'),
    rttMs: sample.rttMs ?? null,
    estDelayMs: sample.estDelayMs ?? null,
    inboundKbps: sample.inboundKbps ?? null,
    outboundKbps: sample.outboundKbps ?? null,
  };
}
