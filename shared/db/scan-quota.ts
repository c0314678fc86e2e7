import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { TooManyRequestsError } from '../http/errors.ts';
import { config } from '../runtime/env.ts';
import { documentClient, getItem, isConditionFailure, tableName } from './client.ts';
import type { Subscription } from './users.ts';

/** Quota items are kept two days: long enough to read yesterday's use, short enough to cost nothing. */
const QUOTA_TTL_SECONDS = 2 * 24 * 3600;

const dayOf = (now: number) => new Date(now).toISOString().slice(0, 10);
const quotaKey = (userId: string, day: string) => ({ pk: `QUOTA#${userId}`, sk: day });

/** Scans per UTC day for a tier: `RATE_LIMIT_FREE_TIER` (10) for free, `RATE_LIMIT_PRO_TIER` (unlimited) otherwise. */
export function dailyScanLimit(subscription: Subscription): number {
  const settings = config();
  return subscription === 'free' ? settings.rateLimitFreeTier : settings.rateLimitProTier;
}

function secondsUntilUtcMidnight(now: number): number {
  const next = new Date(now);
  next.setUTCHours(24, 0, 0, 0);
  return Math.ceil((next.getTime() - now) / 1000);
}

/**
 * Count one scan against the user's daily quota, or throw 429 `SCAN_QUOTA_EXCEEDED` (Retry-After: until UTC
 * midnight) without counting it. One conditional `ADD` on `QUOTA#<userId>` / `<yyyy-mm-dd>`, so concurrent scans
 * cannot overshoot. An unlimited tier writes nothing.
 */
export async function consumeScanQuota(userId: string, subscription: Subscription, now = Date.now()): Promise<{ used: number; limit: number }> {
  const limit = dailyScanLimit(subscription);
  if (!Number.isFinite(limit)) return { used: 0, limit };
  const exceeded = () =>
    new TooManyRequestsError(secondsUntilUtcMidnight(now), `Daily scan quota of ${limit} reached`, 'SCAN_QUOTA_EXCEEDED', { limit });
  if (limit === 0) throw exceeded();
  try {
    const answer = await documentClient.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: quotaKey(userId, dayOf(now)),
        UpdateExpression: 'ADD #count :one SET expiresAt = if_not_exists(expiresAt, :ttl), entity = if_not_exists(entity, :entity)',
        ConditionExpression: 'attribute_not_exists(#count) OR #count < :limit',
        ExpressionAttributeNames: { '#count': 'count' },
        ExpressionAttributeValues: { ':one': 1, ':limit': limit, ':ttl': Math.floor(now / 1000) + QUOTA_TTL_SECONDS, ':entity': 'ScanQuota' },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return { used: Number(answer.Attributes?.count ?? 1), limit };
  } catch (error) {
    if (isConditionFailure(error)) throw exceeded();
    throw error;
  }
}

/** Scans counted today for the user (for showing the remaining quota). */
export async function scanQuotaUsage(userId: string, subscription: Subscription, now = Date.now()): Promise<{ used: number; limit: number }> {
  const item = await getItem<{ count: number }>(quotaKey(userId, dayOf(now)), { consistent: true });
  return { used: item?.count ?? 0, limit: dailyScanLimit(subscription) };
}
