/**
 * IP privacy on the signaling path: with relay-only media, no address but the relay's may reach the
 * partner, even from a modified client.
 */

/**
 * Whether an ICE candidate is a relay candidate: the token after the first `typ` (RFC 8839:
 * foundation component transport priority address port `typ` type ...). End-of-candidates is harmless.
 */
export function isRelayCandidate(candidate: string): boolean {
  if (candidate === '') return true;
  const fields = candidate.trim().split(/\s+/);
  const typ = fields.indexOf('typ');
  return typ === 6 && fields[7] === 'relay';
}

/** The SDP with every non-relay candidate line removed (whatever its line endings). */
export function relayOnlySdp(sdp: string): string {
  return sdp
    .split(/\r?\n/)
    .filter((line) => !line.startsWith('a=candidate:') || isRelayCandidate(line.slice('a='.length)))
    .join('\r\n');
}
