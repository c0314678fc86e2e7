import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { countInWindow } from '../db/rate-limits.ts';
import { admitRequest } from '../db/user-access.ts';
import { ConfigError } from '../runtime/env.ts';
import { logger } from '../runtime/powertools.ts';
import { TooManyRequestsError, UnauthorizedError } from './errors.ts';

/** SPEC §4: public routes 100 requests / 15 min per IP; authenticated routes 1000 / hour per user. */
export const RATE_LIMITS = {
  public: { env: 'RATE_LIMIT_PUBLIC', requests: 100, windowSeconds: 15 * 60, scope: 'ip' },
  user: { env: 'RATE_LIMIT_USER', requests: 1000, windowSeconds: 3600 },
} as const;

export type RateLimitedAccess = keyof typeof RATE_LIMITS;

/** Requests per window for an access level; `RATE_LIMIT_PUBLIC` / `RATE_LIMIT_USER` override the defaults. */
export function requestLimit(access: RateLimitedAccess): number {
  const { env, requests } = RATE_LIMITS[access];
  const raw = process.env[env]?.trim();
  if (!raw) return requests;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new ConfigError(`Environment variable ${env} must be a positive integer`);
  return value;
}

function limitExceeded(access: RateLimitedAccess, resetsInSeconds: number): TooManyRequestsError {
  const limit = requestLimit(access);
  const minutes = RATE_LIMITS[access].windowSeconds / 60;
  return new TooManyRequestsError(resetsInSeconds, `Rate limit of ${limit} requests per ${minutes} minutes exceeded`, 'RATE_LIMITED', { limit });
}

/**
 * Counts a public request against its source IP's window and throws 429 `RATE_LIMITED` with `Retry-After` past
 * the limit. The table being unreachable does not take the API down with it: the request is let through and
 * the failure logged.
 */
export async function enforcePublicRateLimit(event: APIGatewayProxyEventV2): Promise<void> {
  const { scope, windowSeconds } = RATE_LIMITS.public;
  const ip = event.requestContext?.http?.sourceIp;
  if (!ip) return;
  let window;
  try {
    window = await countInWindow(scope, ip, windowSeconds);
  } catch (error) {
    logger.warn('Rate limit not checked: the table did not answer', { error: error as Error });
    return;
  }
  if (window.count > requestLimit('public')) throw limitExceeded('public', window.resetsInSeconds);
}

/**
 * Admits an authenticated request: counts it against its user's window and learns whether its token was
 * revoked, from one write of the user's access item or, within a second of this process's last one, from what
 * that write returned (shared/db/user-access.ts). 401 for a revoked token (checked first), 429 `RATE_LIMITED`
 * with `Retry-After` past the limit. Unlike the per-IP count this fails closed: when a write is due and the
 * table does not answer, the revocation is unknown.
 */
export async function admitUserRequest(user: { readonly userId: string; readonly jti: string }): Promise<void> {
  const counted = await admitRequest(user.userId, user.jti, RATE_LIMITS.user.windowSeconds, requestLimit('user'));
  if (counted.revoked) throw new UnauthorizedError('The token has been revoked');
  if (counted.count > requestLimit('user')) throw limitExceeded('user', counted.resetsInSeconds);
}
