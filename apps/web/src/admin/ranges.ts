import type { ConsoleMessageId } from '../i18n/index.js';
import type { TimeRange } from './api.js';

export const RANGES = {
  '24h': { label: 'console.range.24h', long: 'console.range.24h.long', spanMs: 24 * 3_600_000, bucket: 'hour' },
  '7d': { label: 'console.range.7d', long: 'console.range.7d.long', spanMs: 7 * 86_400_000, bucket: 'day' },
  '30d': { label: 'console.range.30d', long: 'console.range.30d.long', spanMs: 30 * 86_400_000, bucket: 'day' },
} as const satisfies Record<string, { label: ConsoleMessageId; long: ConsoleMessageId; spanMs: number; bucket: string }>;

export type RangeKey = keyof typeof RANGES;
export const RANGE_KEYS = Object.keys(RANGES) as RangeKey[];

/** The range ending now. */
export function rangeFor(key: RangeKey, now = Date.now()): TimeRange {
  const r = RANGES[key];
  return { from: now - r.spanMs, to: now, bucket: r.bucket };
}
