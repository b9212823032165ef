import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../packages/server/src/testing/net.js';

/** A free TCP port on loopback, so a restarted server comes back at the same address. */
export { freePort };

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The built server (`node packages/server/dist/main.js`, as `npm start` runs it) on simulated time:
 * DUET_CLOCK=ipc makes its clock stand still until this process moves it, so the test knows the
 * exact server time of every heartbeat. Everything else is real: sockets, SQLite, the ledger.
 */
export class ChaosServer {
  readonly #child: ChildProcess;
  #now: number;
  #pending: ((now: number) => void) | undefined;

  private constructor(child: ChildProcess, now: number) {
    this.#child = child;
    this.#now = now;
    child.on('message', (m: { type?: string; now?: number }) => {
      if (m.type !== 'clock' || typeof m.now !== 'number') return;
      const resolve = this.#pending;
      this.#pending = undefined;
      resolve?.(m.now);
    });
  }

  static async start(env: Record<string, string>, now: number, errors: string[]): Promise<ChaosServer> {
    const child = fork(path.join(ROOT, 'packages/server/dist/main.js'), [], {
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        TURN_MODE: 'off',
        ...env,
        DUET_CLOCK: 'ipc',
        DUET_CLOCK_START: String(now),
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const server = new ChaosServer(child, now);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    // Errors and worse, whatever the process: the test expects none.
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      if (/"level":(50|60)/.test(line)) errors.push(line);
    });
    let exited: number | null | undefined;
    child.once('exit', (code) => (exited = code));
    const base = `http://127.0.0.1:${env.PORT}`;
    for (let i = 0; ; i++) {
      if (exited !== undefined) throw new Error(`server exited with ${exited}\n${stderr}`);
      if (i > 300) throw new Error(`server did not start in 30 s\n${stderr}`);
      const up = await fetch(`${base}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return server;
  }

  get now(): number {
    return this.#now;
  }

  /** Moves the server's clock to `to`; resolves once due timers ran and its writes are done. */
  async advance(to: number): Promise<void> {
    if (this.#pending) throw new Error('one clock move at a time');
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = new Promise<number>((resolve, reject) => {
      this.#pending = resolve;
      timer = setTimeout(() => reject(new Error(`the server did not move its clock to ${to} in 60 s`)), 60_000);
    });
    this.#child.send({ type: 'clock', to });
    try {
      this.#now = await done;
    } finally {
      clearTimeout(timer);
    }
  }

  /** kill -9: no shutdown, no flush; whatever the process held in memory is gone. */
  async kill9(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    this.#child.kill('SIGKILL');
    await exited;
  }
}
