import type { Logger } from 'pino';
import { CallRecords } from '../calls/recorder.js';
import type { Db } from '../storage/database.js';
import { dayOf } from './funnel.js';

export interface RetentionPolicy {
  /** Quality samples older than this are deleted. */
  qualityDays: number;
  /** Call records (and what hangs off them) older than this are deleted. */
  callDays: number;
}

const DAY = 86_400_000;

/** Deletes telemetry past its retention, so storage stays bounded however long Duet runs. */
export async function pruneTelemetry(db: Db, policy: RetentionPolicy, now: number, log: Logger): Promise<void> {
  const quality = await db
    .deleteFrom('call_quality')
    .where('at', '<', now - policy.qualityDays * DAY)
    .executeTakeFirst();
  const oldCalls = now - policy.callDays * DAY;
  const calls = await CallRecords.prune(db, oldCalls);
  const funnel = await db.deleteFrom('funnel').where('day', '<', dayOf(oldCalls)).executeTakeFirst();
  const removed = { quality: Number(quality.numDeletedRows), calls, funnel: Number(funnel.numDeletedRows) };
  if (removed.quality + removed.calls + removed.funnel > 0) log.info({ removed }, 'telemetry retention');
}
