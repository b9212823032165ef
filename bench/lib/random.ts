/** Seeded randomness, so every run of a benchmark drives the same workload. */
import { seededRandom } from '../../packages/server/src/testing/random.js';

export type Rng = () => number;

/** mulberry32 (shared with the tests): small, fast and good enough for workload generation. */
export const rng: (seed: number) => Rng = seededRandom;

export const int = (r: Rng, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

/** Exponentially distributed gap with the given mean: Poisson arrivals. */
export const exponential = (r: Rng, mean: number): number => -Math.log(1 - r()) * mean;

/** Picks from `[value, weight]` pairs. */
export function weighted<T>(choices: ReadonlyArray<readonly [T, number]>): (r: Rng) => T {
  const total = choices.reduce((s, [, w]) => s + w, 0);
  const cdf = choices.map(([value], i) => [value, choices.slice(0, i + 1).reduce((s, [, w]) => s + w, 0) / total] as const);
  return (r) => {
    const x = r();
    for (const [value, c] of cdf) if (x < c) return value;
    return cdf[cdf.length - 1]![0];
  };
}

/** Zipf(s) over `n` ranks (0 is the most common), by binary search over the CDF. */
export function zipf(n: number, s: number): (r: Rng) => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) cdf[i] = sum += 1 / Math.pow(i + 1, s);
  for (let i = 0; i < n; i++) cdf[i]! /= sum;
  return (r) => {
    const x = r();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}
