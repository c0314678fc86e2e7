import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { TokenError, createSigner, createVerifier } from 'fast-jwt';
import * as v from 'valibot';
import { isTokenRevoked } from '../db/user-access.ts';
import { requireSecret } from '../runtime/env.ts';
import { UnauthorizedError } from './errors.ts';

export const SUBSCRIPTIONS = ['free', 'pro', 'enterprise'] as const;

/** The claims every access token carries (SPEC §4). */
export const TokenClaimsSchema = v.object({
  userId: v.pipe(v.string(), v.minLength(1)),
  email: v.pipe(v.string(), v.email()),
  subscription: v.picklist(SUBSCRIPTIONS),
  iat: v.number(),
  exp: v.number(),
  jti: v.pipe(v.string(), v.minLength(1)),
  /** The sign-in session (refresh-token family) the token belongs to; logout revokes it too. */
  sid: v.optional(v.string()),
});
export type AuthUser = v.InferOutput<typeof TokenClaimsSchema>;

const ALGORITHM = 'HS256';

let cachedVerifier: { readonly secret: string; readonly verify: (token: string) => unknown } | undefined;

/**
 * The HS256 verifier of JWT_SECRET, built once per secret value. fast-jwt checks the HMAC synchronously with
 * node:crypto: verification runs on every authenticated request, and WebCrypto's thread-pool round trip put
 * milliseconds on the slowest of them.
 */
async function verifier(): Promise<(token: string) => unknown> {
  const secret = await requireSecret('JWT_SECRET');
  if (cachedVerifier?.secret !== secret) cachedVerifier = { secret, verify: createVerifier({ key: secret, algorithms: [ALGORITHM] }) };
  return cachedVerifier.verify;
}

/**
 * Signs an access token for `user` (HS256 with JWT_SECRET); a fresh `jti` unless one is given. `expiresIn` is a
 * time span (`'7d'`, `'15m'`; JWT_EXPIRY, else 7 days) or, as a number, the expiry itself in epoch seconds.
 */
export async function signAccessToken(
  user: Pick<AuthUser, 'userId' | 'email' | 'subscription'>,
  options: { expiresIn?: string | number; jti?: string; sessionId?: string } = {},
): Promise<string> {
  const claims = { userId: user.userId, email: user.email, subscription: user.subscription, jti: options.jti ?? crypto.randomUUID() };
  const lifetime = options.expiresIn ?? process.env.JWT_EXPIRY ?? '7d';
  const sign = createSigner({
    key: await requireSecret('JWT_SECRET'),
    algorithm: ALGORITHM,
    ...(typeof lifetime === 'string' ? { expiresIn: lifetime } : {}),
  });
  return sign({ ...claims, ...(options.sessionId ? { sid: options.sessionId } : {}), ...(typeof lifetime === 'number' ? { exp: lifetime } : {}) });
}

/**
 * Verifies a token's signature (HS256 only), expiry and claim shape, without the revocation lookup.
 * Every failure is a 401 UNAUTHORIZED whose message does not echo the token.
 */
export async function verifyTokenSignature(token: string | undefined): Promise<AuthUser> {
  if (!token) throw new UnauthorizedError('A bearer token is required');
  let payload: unknown;
  try {
    payload = (await verifier())(token);
  } catch (error) {
    if (error instanceof TokenError && error.code === TokenError.codes.expired) throw new UnauthorizedError('The token has expired');
    if (error instanceof TokenError) throw new UnauthorizedError('The token is not valid');
    throw error;
  }
  const claims = v.safeParse(TokenClaimsSchema, payload);
  if (!claims.success) throw new UnauthorizedError('The token is missing required claims');
  return claims.output;
}

/** Throws 401 when the token was revoked (logout). */
export async function assertNotRevoked(user: Pick<AuthUser, 'userId' | 'jti'>): Promise<void> {
  if (await isTokenRevoked(user.userId, user.jti)) throw new UnauthorizedError('The token has been revoked');
}

/** Verifies a token fully: {@link verifyTokenSignature}, then that its `jti` is not revoked. */
export async function verifyAccessToken(token: string | undefined): Promise<AuthUser> {
  const user = await verifyTokenSignature(token);
  await assertNotRevoked(user);
  return user;
}

/** The token of an `Authorization: Bearer <jwt>` header, or undefined. */
export function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1];
}

// ------------------------------------------------------------------------------------------------- passwords

/** scrypt parameters: N = 2^15, r = 8, p = 1 (≈ 32 MiB, OWASP's minimum for scrypt), 16-byte salt, 32-byte key. */
export const SCRYPT = { N: 2 ** 15, r: 8, p: 1, keyLength: 32, saltLength: 16 } as const;

function deriveKey(password: string, salt: Buffer, params: { N: number; r: number; p: number }, keyLength: number): Promise<Buffer> {
  const options: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, keyLength, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** `scrypt$N$r$p$salt$hash` (base64url), so parameters can be raised later without breaking stored hashes. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SCRYPT.saltLength);
  const key = await deriveKey(password, salt, SCRYPT, SCRYPT.keyLength);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** Constant-time check of `password` against a stored hash; a malformed hash never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  if (![params.N, params.r, params.p].every((x) => Number.isInteger(x) && x > 0)) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await deriveKey(password, Buffer.from(salt, 'base64url'), params, expected.length);
  return expected.length > 0 && timingSafeEqual(actual, expected);
}

/** A real hash of a random password: login compares unknown emails against it so both paths cost one scrypt. */
let decoyHash: Promise<string> | undefined;
export function decoyPasswordHash(): Promise<string> {
  decoyHash ??= hashPassword(randomBytes(16).toString('hex'));
  return decoyHash;
}
