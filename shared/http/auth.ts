import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import * as v from 'valibot';
import { isTokenRevoked } from '../db/revoked-tokens.ts';
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
});
export type AuthUser = v.InferOutput<typeof TokenClaimsSchema>;

const ALGORITHM = 'HS256';

async function signingKey(): Promise<Uint8Array> {
  return new TextEncoder().encode(await requireSecret('JWT_SECRET'));
}

/** Signs an access token for `user` (HS256 with JWT_SECRET); a fresh `jti` unless one is given. */
export async function signAccessToken(
  user: Pick<AuthUser, 'userId' | 'email' | 'subscription'>,
  options: { expiresIn?: string | number; jti?: string } = {},
): Promise<string> {
  return new SignJWT({ userId: user.userId, email: user.email, subscription: user.subscription })
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setIssuedAt()
    .setJti(options.jti ?? crypto.randomUUID())
    .setExpirationTime(options.expiresIn ?? process.env.JWT_EXPIRY ?? '7d')
    .sign(await signingKey());
}

/**
 * Verifies a token: signature (HS256 only), expiry, the claim shape and that its `jti` is not revoked.
 * Every failure is a 401 UNAUTHORIZED whose message does not echo the token.
 */
export async function verifyAccessToken(token: string | undefined): Promise<AuthUser> {
  if (!token) throw new UnauthorizedError('A bearer token is required');
  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(token, await signingKey(), { algorithms: [ALGORITHM] }));
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw new UnauthorizedError('The token has expired');
    if (error instanceof joseErrors.JOSEError) throw new UnauthorizedError('The token is not valid');
    throw error;
  }
  const claims = v.safeParse(TokenClaimsSchema, payload);
  if (!claims.success) throw new UnauthorizedError('The token is missing required claims');
  if (await isTokenRevoked(claims.output.jti)) throw new UnauthorizedError('The token has been revoked');
  return claims.output;
}

/** The token of an `Authorization: Bearer <jwt>` header, or undefined. */
export function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1];
}
