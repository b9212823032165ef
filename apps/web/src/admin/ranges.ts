import type { TimeRange } from './api.js';

export const RANGES = {
  '24h': { label: '24 hours', long: 'Last 24 hours', spanMs: 24 * 3_600_000, bucket: 'hour' },
  '7d': { label: '7 days', long: 'Last 7 days', spanMs: 7 * 86_400_000, bucket: 'day' },
  '30d': { label: '30 days', long: 'Last 30 days', spanMs: 30 * 86_400_000, bucket: 'day' },
} as const;

export type RangeKey = keyof typeof RANGES;
export const RANGE_KEYS = Object.keys(RANGES) as RangeKey[];

/** The range ending now. */
export function rangeFor(key: RangeKey, now = Date.now()): TimeRange {
  const r = RANGES[key];
  return { from: now - r.spanMs, to: now, bucket: r.bucket };
}
