// Scoring credentials: keys compared in constant time as SHA-256 digests, short-lived HS256 tokens (jose) signed with the home's secret, or none.
import * as crypto from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import { homeSecret } from '../core/secrets.js';
import { BerthError } from '../errors/catalogue.js';
import type { Clock } from '../core/clock.js';

export type AuthMode = 'key' | 'token' | 'none';

/** DESIGN.md: short-lived tokens; the classic service's lifetime is 12 h. */
export const DEFAULT_TOKEN_LIFETIME_S = 12 * 3600;
const ISSUER = 'berth';

/** A service's auth, prepared once per change: keys are kept only as digests, so every check compares 32 bytes with 32. */
export type CompiledAuth =
  | { readonly mode: 'key'; readonly digests: readonly [Buffer, Buffer] }
  | { readonly mode: 'token' }
  | { readonly mode: 'none' };

/**
 * SHA-256 of `text`. The one-shot crypto.hash (Node >= 20.12) makes no Hash object: a createHash object per request
 * leaves a weak handle behind, which made the gateway's young-generation GC pauses several times longer. createHash
 * only where crypto.hash is missing.
 */
export const sha256: (text: string) => Buffer = typeof crypto.hash === 'function'
  ? (text) => crypto.hash('sha256', text, 'buffer')
  : (text) => crypto.createHash('sha256').update(text).digest();

export function compileAuth(mode: AuthMode, primaryKey: string, secondaryKey: string): CompiledAuth {
  return mode === 'key' ? { mode, digests: [sha256(primaryKey), sha256(secondaryKey)] } : { mode };
}

/**
 * Whether `credential` is one of the keys whose digests are given. Digests are all 32 bytes, so timingSafeEqual's time
 * says nothing about the credential's length or where it differs; both comparisons always run, so which key matched (or
 * that none did) does not show either.
 */
export function keyMatches(credential: string, digests: readonly [Buffer, Buffer]): boolean {
  const given = sha256(credential);
  const primary = crypto.timingSafeEqual(given, digests[0]);
  const secondary = crypto.timingSafeEqual(given, digests[1]);
  return primary || secondary;
}

/** The credential of `Authorization: Bearer <credential>`; undefined when the header is absent or of another scheme. */
export function bearer(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

export interface IssuedToken {
  readonly access_token: string;
  readonly token_type: 'Bearer';
  readonly expires_on: string;
  /** When a client should fetch a new one: half-way through its life. */
  readonly refresh_after: string;
}

/** Signs and checks tokens for every service of one control plane; a token names its service as audience, so it opens no other. */
export class TokenAuthority {
  constructor(private readonly secret: Uint8Array, private readonly clock: Clock) {}

  /** The secret in `<home>/secrets/token-signing.key`, made (0600) on first use; it survives restarts, so tokens do too. */
  static fromHome(home: string, clock: Clock): TokenAuthority {
    return new TokenAuthority(homeSecret(home, 'token-signing.key'), clock);
  }

  async mint(service: string, lifetimeS = DEFAULT_TOKEN_LIFETIME_S): Promise<IssuedToken> {
    const now = Math.floor(this.clock.now() / 1000);
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER).setAudience(service).setSubject(service).setIssuedAt(now).setExpirationTime(now + lifetimeS)
      .sign(this.secret);
    const iso = (s: number): string => new Date(s * 1000).toISOString();
    return { access_token: token, token_type: 'Bearer', expires_on: iso(now + lifetimeS), refresh_after: iso(now + Math.floor(lifetimeS / 2)) };
  }

  /** Resolves for a valid, unexpired token of `service`; SCORING_UNAUTHORIZED saying what is wrong otherwise. */
  async verify(token: string, service: string): Promise<void> {
    try {
      await jwtVerify(token, this.secret, { algorithms: ['HS256'], issuer: ISSUER, audience: service, currentDate: new Date(this.clock.now()) });
    } catch (err) {
      const e = err as { code?: string; payload?: { exp?: number }; claim?: string };
      const detail = e.code === 'ERR_JWT_EXPIRED'
        ? `the token expired at ${new Date((e.payload?.exp ?? 0) * 1000).toISOString()}; get a new one with: berth service token ${service}`
        : e.code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && e.claim === 'aud'
          ? 'the token was issued for another service'
          : `invalid token (${e.code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' ? 'signature verification failed' : (err as Error).message})`;
      throw unauthorized(service, detail);
    }
  }
}

export function unauthorized(service: string, detail: string): BerthError {
  return new BerthError('SCORING_UNAUTHORIZED', { service, detail });
}

/**
 * Checks the request's credential against the service's auth; throws SCORING_UNAUTHORIZED (401), or returns a promise
 * that rejects with it for a token. Keys are checked synchronously: no promise on the hot path.
 */
export function authenticate(auth: CompiledAuth, header: string | undefined, service: string, tokens: TokenAuthority): Promise<void> | undefined {
  if (auth.mode === 'none') return undefined;
  const credential = bearer(header);
  if (credential === undefined) {
    const what = auth.mode === 'key' ? `a key (berth service keys ${service})` : `a token (berth service token ${service})`;
    throw unauthorized(service, `${header === undefined ? 'no Authorization header' : 'the Authorization header is not of the form "Bearer <credential>"'}; send Authorization: Bearer <credential> with ${what}`);
  }
  if (auth.mode === 'token') return tokens.verify(credential, service);
  if (!keyMatches(credential, auth.digests)) throw unauthorized(service, 'invalid key');
  return undefined;
}
