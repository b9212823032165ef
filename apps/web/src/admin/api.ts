import type { CallDetail, InsightsResponse } from '@duet/protocol';

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
export interface TimeRange {
  from: number;
  to: number;
  bucket: Bucket;
}

const TOKEN_KEY = 'duet.admin.token';

/** The admin token lives for the browser tab only: closing the tab signs the operator out. */
export const tokenStore = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (token: string) => sessionStorage.setItem(TOKEN_KEY, token),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** The console's only door to the server: every call carries the bearer token. */
export class AdminApi {
  readonly #token: string;
  constructor(token: string) {
    this.#token = token;
  }

  insights(range: TimeRange, signal?: AbortSignal): Promise<InsightsResponse> {
    return this.#getJson(`/api/admin/insights?${query(range)}`, signal);
  }

  call(id: string, signal?: AbortSignal): Promise<CallDetail> {
    return this.#getJson(`/api/admin/calls/${encodeURIComponent(id)}`, signal);
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
    const res = await this.#fetch(path, signal);
    try {
      return (await res.json()) as T;
    } catch {
      throw new AdminApiError('bad_response', 'The server sent something the console cannot read.', res.status);
    }
  }

  async #fetch(path: string, signal?: AbortSignal): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(path, { headers: { authorization: `Bearer ${this.#token}`, accept: 'application/json' }, signal: signal ?? null });
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
      return 'That admin token was not accepted.';
    case 'admin_disabled':
      return 'The console is turned off on this server: no admin token is configured.';
    case 'not_found':
      return status === 404 ? 'Not found.' : (serverMessage ?? 'Not found.');
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
