/** Command-line flags and a one-line description of the machine a benchmark ran on. */
import { readFileSync } from 'node:fs';
import os from 'node:os';

export function arg(name: string, fallback: string): string;
export function arg(name: string, fallback: undefined): string | undefined;
export function arg(name: string, fallback: string | undefined): string | undefined {
  const prefix = `--${name}=`;
  const hit = process.argv.find((a) => a.startsWith(prefix));
  return hit === undefined ? fallback : hit.slice(prefix.length);
}

export function argList(name: string, fallback: string[]): string[] {
  const v = arg(name, undefined);
  return v === undefined
    ? fallback
    : v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
}

export function flag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}

export function machine(): string {
  let cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  try {
    cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpu;
  } catch {
    // not Linux
  }
  return `${os.availableParallelism()} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`;
}
