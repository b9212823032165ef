import type { CallDetail, InsightsResponse } from '@duet/protocol';
import type {
  Appeal,
  AuditEntry,
  Ban,
  EconomicsReport,
  LiveCall,
  ReportDetail,
  ReportSummary,
  StaffMe,
  StaffMember,
  StaffRole,
} from './types.js';

/** Why a request to the admin API failed, in a shape the screens can switch on. */
export class AdminApiError extends Error {
  constructor(
    /** `unauthorized`, `admin_disabled`, `network`, or whatever code the server sent. */
    readonly code: string,
    message: string,
    readonly status: number | null,
  ) {
    super(message);
    this.name = 'AdminApiError';
  }
}

export type Bucket = 'hour' | 'day';

/** A review the age check's refusal asked for: the estimate and the person's note, never a picture. */
export interface AgeReview {
  userId: string;
  estimate: number | null;
  checkedAt: number;
  note: string | null;
}
export interface TimeRange {
  from: number;
  to: number;
  bucket: Bucket;
}

const TOKEN_KEY = 'duet.admin.token';
const SESSION_HINT_KEY = 'duet.admin.session';

/** The admin token lives for the browser tab only: closing the tab signs the operator out. */
export const tokenStore = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (token: string) => sessionStorage.setItem(TOKEN_KEY, token),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/**
 * Whether this browser signed in with email and password and may still hold the (HttpOnly, so
 * unreadable) session cookie. Only then does the console ask `/api/staff/me` on load, so a fresh
 * visit shows the sign-in form without a 401 in the browser's console.
 */
export const sessionHint = {
  get: (): boolean => localStorage.getItem(SESSION_HINT_KEY) === '1',
  set: () => localStorage.setItem(SESSION_HINT_KEY, '1'),
  clear: () => localStorage.removeItem(SESSION_HINT_KEY),
};

/** How the console proves who it is: the operator's bearer token, or a staff session cookie and its CSRF token. */
export type Credentials = { kind: 'token'; token: string } | { kind: 'session'; csrf: string };

/** The console's only door to the server: every request carries the bearer token, or the session cookie (and CSRF token). */
export interface UserVerification {
  verifiedUntil: number | null;
  attempts: Array<{ at: number; ok: boolean; reasons: string[]; ms: number }>;
}

export class AdminApi {
  readonly #auth: Credentials;
  constructor(auth: Credentials) {
    this.#auth = auth;
  }

  get kind(): Credentials['kind'] {
    return this.#auth.kind;
  }

  /** Signs a staff member in; the server sets the session cookie and answers with the CSRF token. */
  static async login(email: string, password: string): Promise<StaffMe> {
    return AdminApi.#json<StaffMe>(
      await AdminApi.#send('/api/staff/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ email, password }),
      }),
    );
  }

  /** Who the cookie session (or the token) belongs to; AdminApiError `unauthorized` when nobody. */
  static async me(auth?: Credentials): Promise<StaffMe> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (auth?.kind === 'token') headers.authorization = `Bearer ${auth.token}`;
    return AdminApi.#json<StaffMe>(await AdminApi.#send('/api/staff/me', { headers }));
  }

  async logout(): Promise<void> {
    if (this.#auth.kind === 'session') await this.#fetch('/api/staff/logout', { method: 'POST' });
  }

  insights(range: TimeRange, signal?: AbortSignal): Promise<InsightsResponse> {
    return this.#getJson(`/api/admin/insights?${query(range)}`, signal);
  }

  call(id: string, signal?: AbortSignal): Promise<CallDetail> {
    return this.#getJson(`/api/admin/calls/${encodeURIComponent(id)}`, signal);
  }

  /** Every node's live calls; `unreachable` names nodes that did not answer in time. */
  liveCalls(signal?: AbortSignal): Promise<{ calls: LiveCall[]; unreachable: string[] }> {
    return this.#getJson('/api/admin/live-calls', signal);
  }

  async endCall(id: string): Promise<void> {
    await this.#post(`/api/admin/calls/${encodeURIComponent(id)}/end`);
  }

  reports(status: 'open' | 'resolved' | 'all', signal?: AbortSignal): Promise<{ reports: ReportSummary[] }> {
    return this.#getJson(`/api/admin/reports?status=${status}`, signal);
  }

  report(id: string, signal?: AbortSignal): Promise<ReportDetail> {
    return this.#getJson(`/api/admin/reports/${encodeURIComponent(id)}`, signal);
  }

  async resolveReport(id: string, action: 'dismiss' | 'warn' | 'ban', banDays?: number): Promise<void> {
    await this.#post(`/api/admin/reports/${encodeURIComponent(id)}/resolve`, banDays === undefined ? { action } : { action, banDays });
  }

  bans(signal?: AbortSignal): Promise<{ bans: Ban[] }> {
    return this.#getJson('/api/admin/bans', signal);
  }

  async ban(b: { userId?: string; deviceId?: string; reason: string; days?: number }): Promise<void> {
    await this.#post('/api/admin/bans', b);
  }

  /** A person's liveness verification and their latest attempts. */
  userVerification(userId: string, signal?: AbortSignal): Promise<UserVerification> {
    return this.#getJson(`/api/admin/users/${encodeURIComponent(userId)}/verification`, signal);
  }

  async revokeVerification(userId: string, reason: string): Promise<void> {
    await this.#post(`/api/admin/users/${encodeURIComponent(userId)}/verification/revoke`, { reason });
  }

  async liftBan(id: string): Promise<void> {
    await this.#post(`/api/admin/bans/${encodeURIComponent(id)}/lift`);
  }

  /** People the age check refused who asked for a review, and the challenge age (0: age assurance off). */
  ageReviews(signal?: AbortSignal): Promise<{ challenge: number; reviews: AgeReview[] }> {
    return this.#getJson('/api/admin/age-reviews', signal);
  }

  async decideAge(userId: string, decision: 'confirm' | 'refuse'): Promise<void> {
    await this.#post(`/api/admin/users/${encodeURIComponent(userId)}/age`, { decision });
  }

  appeals(signal?: AbortSignal): Promise<{ appeals: Appeal[] }> {
    return this.#getJson('/api/admin/appeals', signal);
  }

  async decideAppeal(id: string, decision: 'uphold' | 'lift'): Promise<void> {
    await this.#post(`/api/admin/appeals/${encodeURIComponent(id)}/decide`, { decision });
  }

  audit(signal?: AbortSignal): Promise<{ entries: AuditEntry[] }> {
    return this.#getJson('/api/admin/audit', signal);
  }

  staff(signal?: AbortSignal): Promise<{ staff: StaffMember[] }> {
    return this.#getJson('/api/admin/staff', signal);
  }

  async createStaff(s: { email: string; password: string; role: StaffRole }): Promise<void> {
    await this.#post('/api/admin/staff', s);
  }

  /** Minutes, revenue, top-ups, relay and cost per UTC day (admins). */
  economics(range: { from: number; to: number }, signal?: AbortSignal): Promise<EconomicsReport> {
    return this.#getJson(`/api/admin/economics?from=${range.from}&to=${range.to}`, signal);
  }

  /** Adds (positive) or takes away (negative) credits, with a reason for the audit log; answers the new balance. */
  async adjustCredits(a: { userId: string; credits: number; reason: string }): Promise<{ balanceMicros: number }> {
    return AdminApi.#json(await this.#post('/api/admin/credits/adjust', a));
  }

  /** Gives back everything a person was charged for one call. */
  async refundCall(r: { userId: string; callId: string; reason: string }): Promise<{ refundedMicros: number }> {
    return AdminApi.#json(await this.#post('/api/admin/credits/refund', r));
  }

  /**
   * Downloads the call records of a range. A plain link cannot send the Authorization header,
   * so the file is fetched and handed to the browser through an object URL.
   */
  async exportCalls(range: TimeRange, format: 'csv' | 'json'): Promise<void> {
    const res = await this.#fetch(`/api/admin/calls/export?from=${range.from}&to=${range.to}&format=${format}`);
    const blob = await res.blob();
    const name = fileNameFrom(res.headers.get('content-disposition')) ?? `duet-calls-${isoDay(range.from)}-${isoDay(range.to)}.${format}`;
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    // Give the browser a moment to start the download before the URL is revoked.
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  async #getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
    return AdminApi.#json<T>(await this.#fetch(path, { signal: signal ?? null }));
  }

  async #post(path: string, body?: unknown): Promise<Response> {
    return this.#fetch(
      path,
      body === undefined
        ? { method: 'POST' }
        : { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } },
    );
  }

  #fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('accept', 'application/json');
    if (this.#auth.kind === 'token') headers.set('authorization', `Bearer ${this.#auth.token}`);
    // A cookie session proves each state-changing request comes from the console itself.
    else if (init.method && init.method !== 'GET') headers.set('x-csrf-token', this.#auth.csrf);
    return AdminApi.#send(path, { ...init, headers, credentials: 'same-origin' });
  }

  static async #json<T>(res: Response): Promise<T> {
    try {
      return (await res.json()) as T;
    } catch {
      throw new AdminApiError('bad_response', 'The server sent something the console cannot read.', res.status);
    }
  }

  static async #send(path: string, init: RequestInit): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(path, init);
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') throw err;
      throw new AdminApiError('network', 'Could not reach the Duet server. Check the connection and try again.', null);
    }
    if (res.ok) return res;
    const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
    const code = body?.error?.code ?? (res.status === 401 ? 'unauthorized' : 'http_error');
    throw new AdminApiError(code, describe(code, res.status, body?.error?.message), res.status);
  }
}

function describe(code: string, status: number, serverMessage: string | undefined): string {
  switch (code) {
    case 'unauthorized':
      return serverMessage ?? 'Sign in to the console.';
    case 'forbidden':
      return serverMessage ?? 'You are not allowed to do that.';
    case 'rate_limited':
      return serverMessage ?? 'Too many attempts. Wait a minute and try again.';
    case 'admin_disabled':
      return 'The console is turned off on this server: no admin token is configured.';
    case 'not_found':
      return serverMessage ?? 'Not found.';
    default:
      return serverMessage ?? `The server answered ${status}.`;
  }
}

function query(r: TimeRange): string {
  return new URLSearchParams({ from: String(r.from), to: String(r.to), bucket: r.bucket }).toString();
}

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function fileNameFrom(disposition: string | null): string | null {
  const m = disposition?.match(/filename\*?=(?:UTF-8'')?"?([^";]+)"?/i);
  if (!m?.[1]) return null;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return m[1];
  }
}

export function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'AbortError';
}
