import { SignJWT, jwtVerify } from 'jose';

const ISSUER = 'duet';
const AUDIENCE = 'duet:guest';

/**
 * Signs and verifies the session tokens the server issues to guests. The token names the user;
 * nothing else about a person is trusted from the client.
 */
export class TokenIssuer {
  readonly #key: Uint8Array;
  constructor(secret: string) {
    this.#key = new TextEncoder().encode(secret);
  }

  issue(userId: string): Promise<string> {
    return new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(userId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('365d')
      .sign(this.#key);
  }

  /** The user id the token was issued to, or undefined for anything forged, expired or malformed. */
  async verify(token: string): Promise<string | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.#key, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'] });
      return typeof payload.sub === 'string' ? payload.sub : undefined;
    } catch {
      return undefined;
    }
  }
}
