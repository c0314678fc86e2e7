import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { countInWindow } from '../db/rate-limits.ts';
import { ConfigError } from '../runtime/env.ts';
import { logger } from '../runtime/powertools.ts';
import { TooManyRequestsError } from './errors.ts';

/** SPEC §4: public routes 100 requests / 15 min per IP; authenticated routes 1000 / hour per user. */
export const RATE_LIMITS = {
  public: { env: 'RATE_LIMIT_PUBLIC', requests: 100, windowSeconds: 15 * 60, scope: 'ip' },
  user: { env: 'RATE_LIMIT_USER', requests: 1000, windowSeconds: 3600, scope: 'user' },
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

/**
 * Counts this request against its window (per source IP for public routes, per user for authenticated ones) and
 * throws 429 `RATE_LIMITED` with `Retry-After` past the limit. The table being unreachable does not take the API
 * down with it: the request is let through and the failure logged.
 */
export async function enforceRateLimit(access: RateLimitedAccess, event: APIGatewayProxyEventV2, userId?: string): Promise<void> {
  const { scope, windowSeconds } = RATE_LIMITS[access];
  const key = access === 'user' ? userId : event.requestContext?.http?.sourceIp;
  if (!key) return;
  const limit = requestLimit(access);
  let window;
  try {
    window = await countInWindow(scope, key, windowSeconds);
  } catch (error) {
    logger.warn('Rate limit not checked: the table did not answer', { error: error as Error });
    return;
  }
  if (window.count > limit) {
    throw new TooManyRequestsError(window.resetsInSeconds, `Rate limit of ${limit} requests per ${windowSeconds / 60} minutes exceeded`, 'RATE_LIMITED', { limit });
  }
}
