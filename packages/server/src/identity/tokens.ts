import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

const ISSUER = 'duet';
const AUDIENCE = 'duet:guest';
const LIFETIME_S = 365 * 86_400;
const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256' })).toString('base64url');
const BASE64URL = /^[A-Za-z0-9_-]*$/;

export interface TokenOptions {
  /** Milliseconds since the epoch; injected in tests. */
  now?: () => number;
  /** How long a verified token is remembered (0: never). */
  cacheTtlMs?: number;
  /** At most this many remembered tokens; the oldest go first. */
  cacheSize?: number;
}

/**
 * Signs and verifies the session tokens the server issues to guests: JWTs (HS256) with the user id
 * as subject. The token names the user; nothing else about a person is trusted from the client.
 *
 * Signing and checking are node:crypto HMACs, synchronous: the WebCrypto path (`jose`) took 12 % of
 * a node's CPU in a crowd of newcomers (a key import and a thread-pool job per token). A token that
 * verified is remembered for a short while, so the rules acceptance and the hello that follow its
 * issue do not check the signature again; tokens cannot be revoked, and expiry is checked on every
 * use, so remembering one changes no answer.
 */
export class TokenIssuer {
  readonly #key: KeyObject;
  readonly #now: () => number;
  readonly #ttlMs: number;
  readonly #size: number;
  readonly #verified = new Map<string, { userId: string; exp: number; until: number }>();

  constructor(secret: string, options: TokenOptions = {}) {
    this.#key = createSecretKey(Buffer.from(secret, 'utf8'));
    this.#now = options.now ?? Date.now;
    this.#ttlMs = options.cacheTtlMs ?? 60_000;
    this.#size = options.cacheSize ?? 20_000;
  }

  /** Verified tokens remembered now (for tests and metrics). */
  get cached(): number {
    return this.#verified.size;
  }

  issue(userId: string): Promise<string> {
    const iat = Math.floor(this.#now() / 1000);
    const payload = { sub: userId, iss: ISSUER, aud: AUDIENCE, iat, exp: iat + LIFETIME_S };
    const body = `${HEADER}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
    const token = `${body}.${this.#sign(body).toString('base64url')}`;
    this.#remember(token, userId, payload.exp);
    return Promise.resolve(token);
  }

  /** The user id the token was issued to, or undefined for anything forged, expired or malformed. */
  verify(token: string): Promise<string | undefined> {
    return Promise.resolve(this.verifySync(token));
  }

  verifySync(token: string): string | undefined {
    const now = this.#now();
    const hit = this.#verified.get(token);
    if (hit) {
      if (hit.until > now && hit.exp * 1000 > now) return hit.userId;
      this.#verified.delete(token);
    }
    const parts = token.split('.');
    if (parts.length !== 3 || !parts.every((p) => BASE64URL.test(p))) return undefined;
    const [h, p, s] = parts as [string, string, string];
    const header = parseJson(h);
    // Only HS256 and nothing that changes how the token is read ("crit", unencoded payloads).
    if (!header || header.alg !== 'HS256' || 'crit' in header || 'b64' in header) return undefined;
    const expected = this.#sign(`${h}.${p}`);
    const given = Buffer.from(s, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    const claims = parseJson(p);
    if (!claims || claims.iss !== ISSUER || typeof claims.sub !== 'string') return undefined;
    const aud = claims.aud;
    if (!(aud === AUDIENCE || (Array.isArray(aud) && aud.includes(AUDIENCE)))) return undefined;
    const nowS = Math.floor(now / 1000);
    if (typeof claims.exp !== 'number' || claims.exp <= nowS) return undefined;
    if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf > nowS)) return undefined;
    if (claims.iat !== undefined && typeof claims.iat !== 'number') return undefined;
    this.#remember(token, claims.sub, claims.exp);
    return claims.sub;
  }

  #sign(data: string): Buffer {
    return createHmac('sha256', this.#key).update(data).digest();
  }

  #remember(token: string, userId: string, exp: number): void {
    if (this.#ttlMs <= 0 || this.#size <= 0) return;
    this.#verified.delete(token);
    this.#verified.set(token, { userId, exp, until: this.#now() + this.#ttlMs });
    // A Map keeps insertion order: the first keys are the oldest.
    while (this.#verified.size > this.#size) this.#verified.delete(this.#verified.keys().next().value!);
  }
}

function parseJson(part: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
