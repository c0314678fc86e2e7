import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient, getItem, isConditionFailure, tableName } from './client.ts';
import type { WindowCount } from './rate-limits.ts';

/**
 * One item per user, `USER#<uid>` / `ACCESS`: the user's current fixed rate-limit window (`windowStart`, `count`)
 * and the access tokens revoked before their expiry (`revoked`: jti → the token's `exp`, epoch seconds).
 * Both live on one item so that an authenticated request is counted and its token checked in a single
 * UpdateItem, which also reads the item's latest state: a logout takes effect on the very next request.
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
 * Counts one request of `userId` in the fixed window of `windowSeconds` containing `now` and says whether the
 * token `jti` is revoked, in one UpdateItem: `ADD count` while the stored window is the current one; the first
 * request of a new window re-opens it (`SET windowStart, count = 1`).
 */
export async function countUserRequest(userId: string, jti: string, windowSeconds: number, now = Date.now()): Promise<CountedRequest> {
  const nowSeconds = Math.floor(now / 1000);
  const windowStart = nowSeconds - (nowSeconds % windowSeconds);
  const resetsInSeconds = Math.max(1, windowStart + windowSeconds - nowSeconds);
  const base = { TableName: tableName(), Key: userAccessKey(userId), ReturnValues: 'ALL_NEW' as const };
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    try {
      const { Attributes } = await documentClient.send(
        new UpdateCommand({
          ...base,
          UpdateExpression: 'ADD #count :one',
          ConditionExpression: 'windowStart = :start',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: { ':one': 1, ':start': windowStart },
        }),
      );
      const access = Attributes as UserAccess | undefined;
      return { count: Number(access?.count ?? 1), resetsInSeconds, revoked: isRevokedIn(access, jti, nowSeconds) };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    try {
      const { Attributes } = await documentClient.send(
        new UpdateCommand({
          ...base,
          UpdateExpression: 'SET windowStart = :start, #count = :one, entity = if_not_exists(entity, :entity)',
          ConditionExpression: 'attribute_not_exists(windowStart) OR windowStart < :start',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: { ':one': 1, ':start': windowStart, ':entity': 'UserAccess' },
        }),
      );
      return { count: 1, resetsInSeconds, revoked: isRevokedIn(Attributes as UserAccess | undefined, jti, nowSeconds) };
    } catch (error) {
      // Another request opened this window first: count in it.
      if (!isConditionFailure(error)) throw error;
    }
  }
  throw new Error(`Could not count a request of user ${userId}: its rate-limit window kept changing`);
}

/** Is the token `jti` of `userId` revoked? Strongly consistent, for requests that are not counted. */
export async function isTokenRevoked(userId: string, jti: string, now = Date.now()): Promise<boolean> {
  return isRevokedIn(await getItem<UserAccess>(userAccessKey(userId), { consistent: true }), jti, Math.floor(now / 1000));
}

/**
 * Revokes the token `jti` of `userId` until `expiresAtEpochSeconds` (its own `exp`), and drops revocations of
 * tokens that have expired since, so the item holds only tokens that could still be presented.
 */
export async function revokeToken(jti: string, userId: string, expiresAtEpochSeconds: number, now = Date.now()): Promise<void> {
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
      return revokeToken(jti, userId, expiresAtEpochSeconds, now);
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
