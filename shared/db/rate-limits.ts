import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient, tableName } from './client.ts';

export interface WindowCount {
  /** Requests counted in the current window, this one included. */
  readonly count: number;
  /** Seconds until the window ends. */
  readonly resetsInSeconds: number;
}

/**
 * Count one request in the fixed window of `windowSeconds` that contains `now`, for `scope` (`ip`, `user`…) and
 * `key`: one atomic `ADD` on `RATE#<scope>#<key>` / `<windowStart>`; the item expires (TTL) one window after it ends.
 */
export async function countInWindow(scope: string, key: string, windowSeconds: number, now = Date.now()): Promise<WindowCount> {
  const nowSeconds = Math.floor(now / 1000);
  const windowStart = nowSeconds - (nowSeconds % windowSeconds);
  const windowEnd = windowStart + windowSeconds;
  const answer = await documentClient.send(
    new UpdateCommand({
      TableName: tableName(),
      Key: { pk: `RATE#${scope}#${key}`, sk: String(windowStart) },
      UpdateExpression: 'ADD #count :one SET expiresAt = if_not_exists(expiresAt, :ttl), entity = if_not_exists(entity, :entity)',
      ExpressionAttributeNames: { '#count': 'count' },
      ExpressionAttributeValues: { ':one': 1, ':ttl': windowEnd + windowSeconds, ':entity': 'RateLimitWindow' },
      ReturnValues: 'UPDATED_NEW',
    }),
  );
  return { count: Number(answer.Attributes?.count ?? 1), resetsInSeconds: Math.max(1, windowEnd - nowSeconds) };
}
