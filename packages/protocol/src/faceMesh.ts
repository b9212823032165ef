/**
 * How eye and mouth openness are read from a face mesh, shared by the browser (which guides the
 * person through the liveness check) and the server (which judges it), so both read the same face
 * the same way. Points are MediaPipe face-mesh landmarks ([x, y, z?]) as @vladmandic/human gives them.
 */

export type MeshPoint = readonly number[] | undefined;

/** Eye corners and lids (p1..p6 of the usual eye aspect ratio), per eye. */
export const RIGHT_EYE = [33, 160, 158, 133, 153, 144] as const;
export const LEFT_EYE = [362, 385, 387, 263, 373, 380] as const;
/** Inner-lip pairs (upper, lower) and the mouth's corners. */
export const MOUTH_PAIRS = [
  [82, 87],
  [13, 14],
  [312, 317],
] as const;
export const MOUTH_CORNERS = [78, 308] as const;

function dist(a: MeshPoint, b: MeshPoint): number {
  if (!a || !b) return 0;
  return Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, (a[2] ?? 0) - (b[2] ?? 0));
}

/** Lid gap over eye width for one eye (0 when the eye is missing). */
export function eyeAspectRatio(mesh: readonly MeshPoint[], idx: readonly number[]): number {
  const p = idx.map((i) => mesh[i]);
  const width = dist(p[0], p[3]);
  return width === 0 ? 0 : (dist(p[1], p[5]) + dist(p[2], p[4])) / (2 * width);
}

/** Both eyes' mean aspect ratio: how open the eyes are. */
export function eyeOpenness(mesh: readonly MeshPoint[]): number {
  return (eyeAspectRatio(mesh, RIGHT_EYE) + eyeAspectRatio(mesh, LEFT_EYE)) / 2;
}

/** Inner-lip gap over mouth width: how open the mouth is. */
export function mouthOpenness(mesh: readonly MeshPoint[]): number {
  const width = dist(mesh[MOUTH_CORNERS[0]], mesh[MOUTH_CORNERS[1]]);
  if (width === 0) return 0;
  return MOUTH_PAIRS.reduce((s, [a, b]) => s + dist(mesh[a], mesh[b]), 0) / MOUTH_PAIRS.length / width;
}
