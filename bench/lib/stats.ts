/** Percentiles and medians over plain numbers. */

/** A growable sample of numbers; percentiles sort a copy once. */
export class Samples {
  #data = new Float64Array(1024);
  #n = 0;

  get count(): number {
    return this.#n;
  }

  add(x: number): void {
    if (this.#n === this.#data.length) {
      const bigger = new Float64Array(this.#data.length * 2);
      bigger.set(this.#data);
      this.#data = bigger;
    }
    this.#data[this.#n++] = x;
  }

  /** p in [0, 100]; nearest-rank. NaN when empty. */
  percentiles(...ps: number[]): number[] {
    if (this.#n === 0) return ps.map(() => Number.NaN);
    const sorted = this.#data.slice(0, this.#n).sort();
    return ps.map((p) => sorted[Math.min(this.#n - 1, Math.max(0, Math.ceil((p / 100) * this.#n) - 1))]!);
  }

  mean(): number {
    let s = 0;
    for (let i = 0; i < this.#n; i++) s += this.#data[i]!;
    return this.#n === 0 ? Number.NaN : s / this.#n;
  }
}

export function median(xs: readonly number[]): number {
  const finite = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const mid = finite.length >> 1;
  return finite.length % 2 === 1 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2;
}

/** 1234567 → "1,234,567"; fractions keep `digits`. */
export function fmt(x: number, digits = 0): string {
  if (!Number.isFinite(x)) return '–';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Writes a line to stdout (the repository's lint keeps console.log out of code). */
export function out(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** A markdown table. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`];
  for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n');
}
