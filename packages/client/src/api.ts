import type { VerificationChallengeInfo, VerificationFrame, VerificationResultInfo, VerificationStatus } from '@duet/protocol';
import { DuetClientError } from './errors.js';
import type { BanNotice } from './types.js';

/** One call on a person's bill: when, how long was billable, what it cost them — never who the partner was. */
export interface BillingCall {
  callId: string;
  /** When the call's first charge was posted (ms since epoch). */
  at: number;
  billedMs: number;
  chargeMicros: number;
}

/** Money in or out of the balance that is not a call: welcome credits, top-ups, adjustments, refunds. */
export interface BillingCredit {
  kind: 'grant' | 'topup' | 'adjustment' | 'refund' | (string & {});
  at: number;
  /** Positive: credit added; negative: taken away. */
  amountMicros: number;
}

/** `GET /api/me/billing`: balance, price and usage history. Money is integer micro-credits (1 credit = 1,000,000). */
export interface BillingInfo {
  balanceMicros: number;
  /** perMinuteMicros 0: calls are free. */
  price: { perMinuteMicros: number; rounding: 'second' | 'minute' };
  /** Free billable time per UTC day, used before any is paid (perDay 0: none); what is left of it today. */
  freeMinutes: { perDay: number; leftTodayMs: number };
  /** Newest first. */
  calls: BillingCall[];
  credits: BillingCredit[];
}

/**
 * What the page's screening found in the partner's video: the frame that was flagged (a JPEG data
 * URL, at most 320 px wide), the classifier's score for each of its classes (0..1), and how long
 * classifying took. Nothing else leaves the page.
 */
export interface ScreenFlag {
  frame: string;
  scores: Readonly<Record<string, number>>;
  ms: number;
}

/** `POST /api/session`: who this browser is, and whether it has accepted the current rules. */
export interface Session {
  token: string;
  userId: string;
  rulesAccepted: boolean;
  rulesVersion: number;
}

/**
 * The server's HTTP API, one method per endpoint. It holds the session token once `session()` has
 * issued it; failures are DuetClientErrors with the server's catalogue code.
 */
export class DuetApi {
  readonly #base: URL;
  readonly #busyRetries: number;
  #token: string | undefined;

  /** `busyRetries`: how many times a request refused with `server_busy` is tried again, after the wait the server names. */
  constructor(baseUrl: URL, options: { busyRetries?: number } = {}) {
    this.#base = baseUrl;
    this.#busyRetries = options.busyRetries ?? 8;
  }

  get token(): string | undefined {
    return this.#token;
  }

  /** Resumes the stored guest identity when `token` is still good, or creates a new one. */
  async session(token: string | undefined, deviceId: string): Promise<Session> {
    const session = await this.#post<Session>('/api/session', token ? { token, deviceId } : { deviceId });
    this.#token = session.token;
    return session;
  }

  /** Records that this person is 18 or older and accepts this version of the house rules. */
  async acceptRules(rulesVersion: number): Promise<void> {
    await this.#post('/api/rules/accept', { adult: true, rulesVersion }, true);
  }

  async banStatus(): Promise<BanNotice | null> {
    const res = await this.#get<{ banned: boolean } & Partial<BanNotice>>('/api/me/ban');
    return res.banned ? { reason: res.reason!, until: res.until ?? null, appeal: res.appeal! } : null;
  }

  billing(): Promise<BillingInfo> {
    return this.#get<BillingInfo>('/api/me/billing');
  }

  verification(): Promise<VerificationStatus> {
    return this.#get<VerificationStatus>('/api/me/verification');
  }

  verificationChallenge(): Promise<VerificationChallengeInfo> {
    return this.#post<VerificationChallengeInfo>('/api/me/verification/challenge', {}, true);
  }

  submitVerification(nonce: string, frames: VerificationFrame[]): Promise<VerificationResultInfo> {
    return this.#post<VerificationResultInfo>('/api/me/verification', { nonce, frames }, true);
  }

  async appeal(message: string): Promise<void> {
    await this.#post('/api/appeals', { message }, true);
  }

  /** Attaches a captured frame to a report the server has filed. */
  async reportEvidence(reportId: string, frame: string): Promise<void> {
    await this.#post(`/api/reports/${encodeURIComponent(reportId)}/evidence`, { frame }, true);
  }

  /** Files a screening flag on the partner's video in `callId` (see DuetClient.flagScreen). */
  async flagScreen(callId: string, flag: ScreenFlag): Promise<void> {
    await this.#post(`/api/calls/${encodeURIComponent(callId)}/screen-flag`, flag, true);
  }

  #get<T>(path: string): Promise<T> {
    return this.#request<T>(path, { headers: this.#auth() });
  }

  #post<T>(path: string, body: unknown, auth = false): Promise<T> {
    const headers = { 'content-type': 'application/json', ...(auth ? this.#auth() : {}) };
    return this.#request<T>(path, { method: 'POST', headers, body: JSON.stringify(body) });
  }

  #auth(): Record<string, string> {
    return this.#token ? { authorization: `Bearer ${this.#token}` } : {};
  }

  async #request<T>(path: string, init: RequestInit): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(new URL(path, this.#base), init);
      } catch {
        throw DuetClientError.unreachable();
      }
      if (res.ok) return (res.status === 204 ? undefined : await res.json()) as T;
      const body: unknown = await res.json().catch(() => null);
      // A saturated server refuses before doing anything, so the same request is safe to send again.
      const wait = res.status === 503 ? busyWaitMs(res, body) : undefined;
      if (wait === undefined || attempt >= this.#busyRetries) throw DuetClientError.fromResponse(res.status, body);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/** The wait a `503 server_busy` asks for: the body's milliseconds, else Retry-After's seconds; undefined if it is not one. */
function busyWaitMs(res: Response, body: unknown): number | undefined {
  const error = (body as { error?: { code?: unknown; retryAfterMs?: unknown } } | null)?.error;
  if (error?.code !== 'server_busy') return undefined;
  if (typeof error.retryAfterMs === 'number' && error.retryAfterMs >= 0) return Math.min(error.retryAfterMs, 60_000);
  const seconds = Number(res.headers.get('retry-after'));
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds * 1000, 60_000) : 1_000;
}
