import { setTimeout as sleep } from 'node:timers/promises';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient, expiresIn, isConditionFailure, tableName } from './client.ts';

/**
 * A lease is one item per leased resource, `LEASE#<name>` / `LEASE`: who holds it (`holder`) and until when
 * (`heldUntil`, epoch milliseconds). It is taken with one conditional Put, so at most one holder at a time, and
 * lapses on its own when a holder dies before releasing it; the TTL removes the item later.
 */
export const leaseKey = (name: string) => ({ pk: `LEASE#${name}`, sk: 'LEASE' });

/** Thrown when a lease stayed held by someone else for the whole wait. */
export class LeaseBusyError extends Error {
  constructor(readonly leaseName: string) {
    super(`${leaseName} is held by another worker`);
    this.name = 'LeaseBusyError';
  }
}

/** Takes the lease `name` for `holder` for `ttlMs` if it is free, lapsed, or already the holder's. */
export async function tryAcquireLease(name: string, holder: string, ttlMs: number, now = Date.now()): Promise<boolean> {
  try {
    await documentClient.send(
      new PutCommand({
        TableName: tableName(),
        Item: { ...leaseKey(name), entity: 'Lease', holder, heldUntil: now + ttlMs, expiresAt: expiresIn(ttlMs / 1000 + 3600, now) },
        ConditionExpression: 'attribute_not_exists(pk) OR heldUntil < :now OR holder = :holder',
        ExpressionAttributeValues: { ':now': now, ':holder': holder },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** Gives the lease up, unless it lapsed and someone else holds it now. */
export async function releaseLease(name: string, holder: string): Promise<void> {
  try {
    await documentClient.send(
      new DeleteCommand({ TableName: tableName(), Key: leaseKey(name), ConditionExpression: 'holder = :holder', ExpressionAttributeValues: { ':holder': holder } }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}

export interface LeaseOptions {
  /** How long the lease lasts if it is not released: longer than `fn` can run. */
  readonly ttlMs: number;
  /** How long to wait for a busy lease before {@link LeaseBusyError}. */
  readonly waitMs: number;
  /** Pause between attempts; a random part of it is added so that waiters do not retry in step. */
  readonly pollMs?: number;
}

/** Runs `fn` holding the lease `name`, waiting for it while another holder has it, and releases it after. */
export async function withLease<T>(name: string, holder: string, options: LeaseOptions, fn: () => Promise<T>): Promise<T> {
  const pollMs = options.pollMs ?? 250;
  const deadline = Date.now() + options.waitMs;
  while (!(await tryAcquireLease(name, holder, options.ttlMs))) {
    if (Date.now() >= deadline) throw new LeaseBusyError(name);
    await sleep(pollMs / 2 + Math.random() * pollMs);
  }
  try {
    return await fn();
  } finally {
    await releaseLease(name, holder);
  }
}
