import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { TooManyRequestsError } from '../http/errors.ts';
import { config } from '../runtime/env.ts';
import { documentClient, getItem, isConditionFailure, tableName, type TransactItem } from './client.ts';
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

/** One scan counted against a day's quota, so that it can be given back if the scan is not queued after all. */
export interface QuotaCharge {
  readonly userId: string;
  readonly day: string;
}

/**
 * The quota side of recording a scan, as a transaction item: `ADD count :1` on today's item with the limit as its
 * condition, written in the same transaction as the scan (no `item` for an unlimited tier, which counts nothing).
 * When the transaction is cancelled on this item's condition, `exceeded()` is the answer.
 */
export function scanQuotaCharge(userId: string, subscription: Subscription, now = Date.now()) {
  const limit = dailyScanLimit(subscription);
  const exceeded = () => new TooManyRequestsError(secondsUntilUtcMidnight(now), `Daily scan quota of ${limit} reached`, 'SCAN_QUOTA_EXCEEDED', { limit });
  if (!Number.isFinite(limit)) return { exceeded };
  if (limit === 0) throw exceeded();
  const charge: QuotaCharge = { userId, day: dayOf(now) };
  const item: TransactItem = {
    Update: {
      Key: quotaKey(userId, charge.day),
      UpdateExpression: 'ADD #count :one SET expiresAt = if_not_exists(expiresAt, :ttl), entity = if_not_exists(entity, :entity)',
      ConditionExpression: 'attribute_not_exists(#count) OR #count < :limit',
      ExpressionAttributeNames: { '#count': 'count' },
      ExpressionAttributeValues: { ':one': 1, ':limit': limit, ':ttl': Math.floor(now / 1000) + QUOTA_TTL_SECONDS, ':entity': 'ScanQuota' },
    },
  };
  return { charge, item, exceeded };
}

/** The transaction item that gives a charged scan back to the day it was counted on (never below zero). */
export function scanQuotaRefund(charge: QuotaCharge): TransactItem {
  return {
    Update: {
      Key: quotaKey(charge.userId, charge.day),
      UpdateExpression: 'ADD #count :minusOne',
      ConditionExpression: '#count > :zero',
      ExpressionAttributeNames: { '#count': 'count' },
      ExpressionAttributeValues: { ':minusOne': -1, ':zero': 0 },
    },
  };
}

/**
 * Count one scan against the user's daily quota, or throw 429 `SCAN_QUOTA_EXCEEDED` (Retry-After: until UTC
 * midnight) without counting it. One conditional `ADD` on `QUOTA#<userId>` / `<yyyy-mm-dd>`, so concurrent scans
 * cannot overshoot. An unlimited tier writes nothing.
 */
export async function consumeScanQuota(userId: string, subscription: Subscription, now = Date.now()): Promise<{ used: number; limit: number }> {
  const limit = dailyScanLimit(subscription);
  const { item, exceeded } = scanQuotaCharge(userId, subscription, now);
  if (!item?.Update) return { used: 0, limit };
  try {
    const answer = await documentClient.send(new UpdateCommand({ ...item.Update, TableName: tableName(), ReturnValues: 'UPDATED_NEW' }));
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
