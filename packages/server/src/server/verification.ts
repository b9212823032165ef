import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { TokenIssuer } from '../identity/tokens.js';
import type { StandingPort } from '../lobby/ports.js';
import type { Moderation } from '../safety/moderation.js';
import type { StaffAccounts } from '../safety/staff.js';
import type { Storage } from '../storage/database.js';
import type { Clock } from '../util/clock.js';
import type { Detector } from '../verification/detector.js';
import { verificationRoutes } from '../verification/routes.js';
import { LivenessVerifier } from '../verification/service.js';
import { SqlNonceStore, VerificationRepository } from '../verification/sqlStore.js';
import { createWorkerDetector } from '../verification/workerDetector.js';

export interface VerificationContext {
  app: FastifyInstance;
  config: Config;
  clock: Clock;
  log: Logger;
  storage: Storage;
  secret: string;
  tokens: TokenIssuer;
  staff: StaffAccounts;
  moderation: Moderation;
  lobby: Pick<StandingPort, 'setVerified'>;
}

/** The liveness check (docs/verification.md): its routes, and the detector, loaded on first use. */
export function startVerification(c: VerificationContext) {
  const { config, clock, storage } = c;
  let verifier: Promise<LivenessVerifier> | undefined;
  let detector: Detector | undefined;
  verificationRoutes(c.app, {
    settings: config.verification,
    // The detector's models load on first use, once; a failed load is retried by the next request.
    verifier: () =>
      (verifier ??= createWorkerDetector().then(
        (loaded) => {
          detector = loaded;
          const store = new SqlNonceStore(storage.db, clock);
          return new LivenessVerifier({
            detector: loaded,
            store,
            clock,
            validityMs: config.verification.validityMs,
            challenge: { ttlMs: config.verification.deadlineMs },
            ageChallenge: config.verification.age.challenge,
          });
        },
        (err: unknown) => {
          verifier = undefined;
          throw err;
        },
      )),
    repo: new VerificationRepository(storage.db),
    tokens: c.tokens,
    staff: c.staff,
    moderation: c.moderation,
    clock,
    log: c.log,
    onChange: (userId, until) => c.lobby.setVerified(userId, until),
    secret: c.secret,
  });
  return { part: { name: 'verification', needs: ['storage', 'safety'], close: () => detector?.close() } };
}
