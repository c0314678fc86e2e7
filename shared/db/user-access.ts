import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient, getItem, isConditionFailure, tableName } from './client.ts';
import type { WindowCount } from './rate-limits.ts';

/**
 * One item per user, `USER#<uid>` / `ACCESS`: the user's current fixed rate-limit window (`windowStart`, `count`)
 * and the access tokens revoked before their expiry (`revoked`: jti → the token's `exp`, epoch seconds).
 * Both live on one item so that an authenticated request is counted and its token checked in a single
 * UpdateItem, which also reads the item's latest state; a process writes it at most once a second per user
 * while the user is far from the limit ({@link admitRequest}).
 */
export interface UserAccess {
  readonly windowStart?: number;
  readonly count?: number;
  readonly revoked?: Readonly<Record<string, number>>;
}

export const userAccessKey = (userId: string) => ({ pk: `USER#${userId}`, sk: 'ACCESS' });

/** Windows are re-opened by a second conditional write when the first finds an older one; races retry. */
const MAX_ATTEMPTS = 4;

function isRevokedIn(access: UserAccess | undefined, jti: string, nowSeconds: number): boolean {
  const exp = access?.revoked?.[jti];
  return exp !== undefined && exp > nowSeconds;
}

export interface CountedRequest extends WindowCount {
  /** The request's token was revoked (logout) and has not expired yet. */
  readonly revoked: boolean;
}

/**
 * Counts `requests` requests of `userId` in the fixed window of `windowSeconds` containing `now` in one
 * UpdateItem, and returns the item as it is after the write: `ADD count` while the stored window is the current
 * one; the first write of a new window re-opens it (`SET windowStart, count`).
 */
async function writeRequests(userId: string, requests: number, windowStart: number): Promise<{ count: number; access: UserAccess | undefined }> {
  const base = { TableName: tableName(), Key: userAccessKey(userId), ReturnValues: 'ALL_NEW' as const };
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    try {
      const { Attributes } = await documentClient.send(
        new UpdateCommand({
          ...base,
          UpdateExpression: 'ADD #count :n',
          ConditionExpression: 'windowStart = :start',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: { ':n': requests, ':start': windowStart },
        }),
      );
      const access = Attributes as UserAccess | undefined;
      return { count: Number(access?.count ?? requests), access };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    try {
      const { Attributes } = await documentClient.send(
        new UpdateCommand({
          ...base,
          UpdateExpression: 'SET windowStart = :start, #count = :n, entity = if_not_exists(entity, :entity)',
          ConditionExpression: 'attribute_not_exists(windowStart) OR windowStart < :start',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: { ':n': requests, ':start': windowStart, ':entity': 'UserAccess' },
        }),
      );
      return { count: requests, access: Attributes as UserAccess | undefined };
    } catch (error) {
      // Another request opened this window first: count in it.
      if (!isConditionFailure(error)) throw error;
    }
  }
  throw new Error(`Could not count a request of user ${userId}: its rate-limit window kept changing`);
}

function windowOf(now: number, windowSeconds: number) {
  const nowSeconds = Math.floor(now / 1000);
  const windowStart = nowSeconds - (nowSeconds % windowSeconds);
  return { nowSeconds, windowStart, resetsInSeconds: Math.max(1, windowStart + windowSeconds - nowSeconds) };
}

/**
 * How long this process decides a user's requests from its last write of the access item before writing again.
 * It bounds how late a revocation made elsewhere is seen here and how long counts wait to be written.
 */
export const ACCESS_REFRESH_MS = 1000;

/** The access item as this process last wrote it, and the requests it admitted since. */
interface KnownAccess {
  readonly windowStart: number;
  /** The window's count as the last write returned it. */
  count: number;
  /** Requests admitted here since that write, added to the table by the next one. */
  pending: number;
  readonly revoked: Record<string, number>;
  readonly writtenAt: number;
}

const MAX_KNOWN_USERS = 10_000;
const known = new Map<string, KnownAccess>();
const writes = new Map<string, Promise<unknown>>();

function remember(userId: string, access: KnownAccess): void {
  known.delete(userId);
  known.set(userId, access);
  if (known.size > MAX_KNOWN_USERS) known.delete(known.keys().next().value as string);
}

/** Requests near the limit are always written, so the last ones before it are counted exactly. */
const headroom = (limit: number) => Math.ceil(limit / 20);

/**
 * Admits one request of `userId` under `limit` requests per window: counts it and says whether its token `jti`
 * is revoked. A process that wrote the user's access item less than {@link ACCESS_REFRESH_MS} ago, in the same
 * window and with the count short of the last twentieth of the limit, decides from what that write returned and
 * keeps the request to add with its next write; otherwise the request is written at once with those kept
 * before it. Concurrent requests of a user wait for a write already under way rather than each writing.
 * Revocations made in this process are seen at once ({@link revokeToken}); those made elsewhere within
 * {@link ACCESS_REFRESH_MS}. In one process the count is exact; across processes it lags by at most the
 * requests each admitted since its last write.
 */
export async function admitRequest(userId: string, jti: string, windowSeconds: number, limit: number, now = Date.now()): Promise<CountedRequest> {
  const { nowSeconds, windowStart, resetsInSeconds } = windowOf(now, windowSeconds);
  const underWay = writes.get(userId);
  if (underWay) await underWay.catch(() => undefined);
  const last = known.get(userId);
  if (last && last.windowStart === windowStart && now >= last.writtenAt && now - last.writtenAt < ACCESS_REFRESH_MS && last.count + last.pending + 1 <= limit - headroom(limit)) {
    last.pending += 1;
    return { count: last.count + last.pending, resetsInSeconds, revoked: isRevokedIn(last, jti, nowSeconds) };
  }
  const carried = last?.windowStart === windowStart ? last.pending : 0;
  if (last) last.pending = 0;
  const write = writeRequests(userId, carried + 1, windowStart);
  writes.set(userId, write);
  try {
    const { count, access } = await write;
    const current = known.get(userId);
    const sameWindow = current?.windowStart === windowStart;
    remember(userId, {
      windowStart,
      count: sameWindow ? Math.max(current.count, count) : count,
      pending: sameWindow ? current.pending : 0,
      revoked: { ...access?.revoked },
      writtenAt: now,
    });
    return { count, resetsInSeconds, revoked: isRevokedIn(access, jti, nowSeconds) };
  } catch (error) {
    // The kept requests are written with the next attempt.
    const current = known.get(userId);
    if (current?.windowStart === windowStart) current.pending += carried;
    throw error;
  } finally {
    if (writes.get(userId) === write) writes.delete(userId);
  }
}

/** Is the token `jti` of `userId` revoked? Strongly consistent, for requests that are not counted. */
export async function isTokenRevoked(userId: string, jti: string, now = Date.now()): Promise<boolean> {
  return isRevokedIn(await getItem<UserAccess>(userAccessKey(userId), { consistent: true }), jti, Math.floor(now / 1000));
}

/**
 * Revokes the token `jti` of `userId` until `expiresAtEpochSeconds` (its own `exp`), and drops revocations of
 * tokens that have expired since, so the item holds only tokens that could still be presented. This process
 * refuses the token from then on without waiting for its next write of the access item.
 */
export async function revokeToken(jti: string, userId: string, expiresAtEpochSeconds: number, now = Date.now()): Promise<void> {
  await writeRevocation(jti, userId, expiresAtEpochSeconds, now);
  const last = known.get(userId);
  if (last) last.revoked[jti] = expiresAtEpochSeconds;
}

async function writeRevocation(jti: string, userId: string, expiresAtEpochSeconds: number, now: number): Promise<void> {
  const key = userAccessKey(userId);
  let access: UserAccess | undefined;
  try {
    ({ Attributes: access } = await documentClient.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: key,
        UpdateExpression: 'SET revoked.#jti = :exp',
        ConditionExpression: 'attribute_exists(revoked)',
        ExpressionAttributeNames: { '#jti': jti },
        ExpressionAttributeValues: { ':exp': expiresAtEpochSeconds },
        ReturnValues: 'ALL_NEW',
      }),
    ));
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    // The user's first revocation: the map is created, unless a concurrent logout just did (then add to it).
    try {
      await documentClient.send(
        new UpdateCommand({
          TableName: tableName(),
          Key: key,
          UpdateExpression: 'SET revoked = :revoked, entity = if_not_exists(entity, :entity)',
          ConditionExpression: 'attribute_not_exists(revoked)',
          ExpressionAttributeValues: { ':revoked': { [jti]: expiresAtEpochSeconds }, ':entity': 'UserAccess' },
        }),
      );
      return;
    } catch (retry) {
      if (!isConditionFailure(retry)) throw retry;
      return writeRevocation(jti, userId, expiresAtEpochSeconds, now);
    }
  }
  const nowSeconds = Math.floor(now / 1000);
  const expired = Object.entries(access?.revoked ?? {}).filter(([, exp]) => exp <= nowSeconds).map(([id]) => id);
  if (expired.length === 0) return;
  const names = Object.fromEntries(expired.map((id, i) => [`#e${i}`, id]));
  await documentClient.send(
    new UpdateCommand({
      TableName: tableName(),
      Key: key,
      UpdateExpression: `REMOVE ${expired.map((_, i) => `revoked.#e${i}`).join(', ')}`,
      ExpressionAttributeNames: names,
    }),
  );
}
