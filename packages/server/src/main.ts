#!/usr/bin/env node
import { ConfigError, loadConfig } from './config.js';
import { createDuetServer } from './app.js';
import { IpcClock } from './util/ipcClock.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exitCode = 78; // EX_CONFIG
      return;
    }
    throw err;
  }
  // Simulated time for the metering chaos test (tests/chaos): never set this in production.
  const ipc = process.env.DUET_CLOCK === 'ipc' ? new IpcClock(Number(process.env.DUET_CLOCK_START ?? Date.now())) : undefined;
  const duet = await createDuetServer(config, ipc ? { clock: ipc } : {});
  if (ipc) {
    duet.log.warn('DUET_CLOCK=ipc: time moves only when the parent process says so (tests only)');
    ipc.attach(
      () => duet.settled(),
      (err) => duet.log.error({ err }, 'simulated clock failed'),
    );
  }
  // A bug in one background task must not take every call on this node down with it.
  process.on('unhandledRejection', (err) => duet.log.error({ err }, 'unhandled rejection (please report)'));
  const url = await duet.listen();
  const local = new URL(url);
  if (config.host === '0.0.0.0' || config.host === '::') local.hostname = 'localhost';
  duet.log.info({ url: local.origin }, 'Duet is ready: open this address in two browser windows');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    duet.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      duet.log.error('shutdown took too long; exiting');
      duet.abort(); // never leave the managed relay running without us
      process.exit(1);
    }, config.shutdownGraceMs + 5_000);
    force.unref();
    duet.close().then(
      () => {
        process.exitCode = 0;
      },
      (err: unknown) => {
        duet.log.error({ err }, 'shutdown failed');
        process.exitCode = 1;
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error('Duet failed to start:', err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
