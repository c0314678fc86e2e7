import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient, putItem, tableName } from './client.ts';
import { repositorySummaryOf, SEVERITIES, type SeverityCounts } from './repositories.ts';

/** Open vulnerabilities of a user by severity at the end of one UTC day. */
export interface TrendSnapshot extends SeverityCounts {
  readonly date: string;
  readonly total: number;
}

const trendsPk = (userId: string) => `USER#${userId}#TRENDS`;

/** yyyy-mm-dd of a date in UTC. */
export const dayOf = (date: Date) => date.toISOString().slice(0, 10);

/**
 * Write today's snapshot (`USER#<uid>#TRENDS` / `<yyyy-mm-dd>`) from the user's repository summary (the sum of the
 * repository counters); called whenever findings are persisted or a status changes, so the last write of a day is
 * that day's figure.
 */
export async function recordTrendSnapshot(userId: string, now = new Date()): Promise<TrendSnapshot> {
  const counts = { ...(await repositorySummaryOf(userId)).counts.open };
  const snapshot: TrendSnapshot = { ...counts, date: dayOf(now), total: SEVERITIES.reduce((n, s) => n + counts[s], 0) };
  await putItem({ pk: trendsPk(userId), sk: snapshot.date, ...snapshot, userId, entity: 'TrendSnapshot' });
  return snapshot;
}

/** Snapshots between two days inclusive, oldest first, plus the latest one before the range (to carry forward). */
export async function trendSnapshots(userId: string, from: string, to: string): Promise<{ before?: TrendSnapshot; inRange: TrendSnapshot[] }> {
  const query = (condition: string, values: Record<string, string>, forward: boolean, limit?: number) =>
    documentClient.send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: `pk = :pk AND ${condition}`,
        ExpressionAttributeValues: { ':pk': trendsPk(userId), ...values },
        ScanIndexForward: forward,
        Limit: limit,
      }),
    );
  const [range, previous] = await Promise.all([
    query('sk BETWEEN :from AND :to', { ':from': from, ':to': to }, true),
    query('sk < :from', { ':from': from }, false, 1),
  ]);
  return { before: previous.Items?.[0] as TrendSnapshot | undefined, inRange: (range.Items ?? []) as TrendSnapshot[] };
}
