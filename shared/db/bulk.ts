import { BatchWriteCommand, QueryCommand, type NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import { decodeCursor, encodeCursor } from '../http/pagination.ts';
import { documentClient, tableName, type IndexName, type ItemKey } from './client.ts';

// Batched writes and filled, filtered pages: the bulk side of the resource entities.

const BATCH_SIZE = 25;
const MAX_BATCH_ATTEMPTS = 8;

type WriteRequest = { PutRequest: { Item: Record<string, NativeAttributeValue> } } | { DeleteRequest: { Key: Record<string, string> } };

async function batchWrite(requests: readonly WriteRequest[]): Promise<void> {
  const table = tableName();
  for (let i = 0; i < requests.length; i += BATCH_SIZE) {
    let pending = requests.slice(i, i + BATCH_SIZE);
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= MAX_BATCH_ATTEMPTS) throw new Error(`${pending.length} batch writes were still unprocessed after ${attempt} attempts`);
      if (attempt > 0) await new Promise((r) => setTimeout(r, 20 * 2 ** attempt));
      const answer = await documentClient.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
      pending = (answer.UnprocessedItems?.[table] ?? []) as WriteRequest[];
    }
  }
}

/** Puts many items, 25 per request, retrying unprocessed ones with backoff. */
export async function batchPut<T extends ItemKey>(items: readonly T[]): Promise<void> {
  await batchWrite(items.map((item) => ({ PutRequest: { Item: { ...item } as Record<string, NativeAttributeValue> } })));
}

/** Deletes many items by key, 25 per request, retrying unprocessed ones with backoff. */
export async function batchDelete(keys: readonly ItemKey[]): Promise<void> {
  await batchWrite(keys.map((key) => ({ DeleteRequest: { Key: { pk: key.pk, sk: key.sk } } })));
}

export interface Filter {
  /** A FilterExpression over `#f…`/`:f…` placeholders given below. */
  readonly expression: string;
  readonly names: Readonly<Record<string, string>>;
  readonly values: Readonly<Record<string, unknown>>;
}

export interface FilledQuery {
  readonly index?: IndexName;
  readonly pk: string;
  readonly skBeginsWith?: string;
  /** Inclusive sort-key range. */
  readonly skBetween?: readonly [string, string];
  readonly descending?: boolean;
  /** Conditions the key cannot express; applied by DynamoDB after the key condition. */
  readonly filter?: Filter;
  readonly limit: number;
  /** Matching items to pass over first (numbered pages without a cursor). */
  readonly skip?: number;
  readonly cursor?: string;
  /**
   * Only these attributes travel back (the keys the cursor needs are added): a list reads what its answer shows,
   * not whole items.
   */
  readonly attributes?: readonly string[];
}

function keyCondition(query: Pick<FilledQuery, 'index' | 'pk' | 'skBeginsWith' | 'skBetween' | 'filter'>) {
  const pkName = query.index ? `${query.index}pk` : 'pk';
  const skName = query.index ? `${query.index}sk` : 'sk';
  const names: Record<string, string> = { '#pk': pkName, ...query.filter?.names };
  const values: Record<string, unknown> = { ':pk': query.pk, ...query.filter?.values };
  let condition = '#pk = :pk';
  if (query.skBeginsWith !== undefined) {
    condition += ' AND begins_with(#sk, :sk)';
    names['#sk'] = skName;
    values[':sk'] = query.skBeginsWith;
  } else if (query.skBetween) {
    condition += ' AND #sk BETWEEN :from AND :to';
    names['#sk'] = skName;
    values[':from'] = query.skBetween[0];
    values[':to'] = query.skBetween[1];
  }
  return { condition, names, values };
}

/**
 * One page of `limit` matching items: a key-condition Query (never a Scan), repeated from where it stopped
 * until the page is full or the key range is exhausted, so a selective filter still answers full pages. The
 * next cursor is the key of the last item returned, so no matching item is skipped between pages.
 */
export async function queryFilled<T>(query: FilledQuery): Promise<{ items: T[]; nextCursor?: string }> {
  const keyNames = query.index ? ['pk', 'sk', `${query.index}pk`, `${query.index}sk`] : ['pk', 'sk'];
  const { condition, names, values } = keyCondition(query);
  let projection: string | undefined;
  if (query.attributes) {
    const wanted = [...new Set([...keyNames, ...query.attributes])];
    wanted.forEach((name, i) => (names[`#p${i}`] = name));
    projection = wanted.map((_, i) => `#p${i}`).join(', ');
  }
  let startKey: Record<string, string> | undefined = decodeCursor(query.cursor, keyNames);
  let toSkip = query.skip ?? 0;
  const items: Record<string, unknown>[] = [];
  for (;;) {
    const wanted = toSkip + query.limit - items.length;
    const answer = await documentClient.send(
      new QueryCommand({
        TableName: tableName(),
        IndexName: query.index,
        KeyConditionExpression: condition,
        FilterExpression: query.filter?.expression,
        ProjectionExpression: projection,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        // A filter discards items after they are read, so read more per round trip when one is set.
        Limit: query.filter ? Math.min(1000, Math.max(wanted * 4, 100)) : Math.min(1000, wanted),
        ExclusiveStartKey: startKey,
        ScanIndexForward: !query.descending,
      }),
    );
    let page = (answer.Items ?? []) as Record<string, unknown>[];
    if (toSkip > 0) {
      const skipped = Math.min(toSkip, page.length);
      toSkip -= skipped;
      page = page.slice(skipped);
    }
    const room = query.limit - items.length;
    items.push(...page.slice(0, room));
    const full = items.length >= query.limit;
    if (full && (page.length > room || answer.LastEvaluatedKey)) {
      const last = items[items.length - 1] as Record<string, string>;
      return { items: items as T[], nextCursor: encodeCursor(Object.fromEntries(keyNames.map((k) => [k, last[k]]))) };
    }
    if (!answer.LastEvaluatedKey) return { items: items as T[] };
    startKey = answer.LastEvaluatedKey as Record<string, string>;
  }
}

/** How many items match a key condition and filter (DynamoDB counts; no items travel back). */
export async function queryCount(query: Omit<FilledQuery, 'limit' | 'skip' | 'cursor' | 'descending'>): Promise<number> {
  const { condition, names, values } = keyCondition(query);
  let total = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const answer = await documentClient.send(
      new QueryCommand({
        TableName: tableName(),
        IndexName: query.index,
        KeyConditionExpression: condition,
        FilterExpression: query.filter?.expression,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        Select: 'COUNT',
        ExclusiveStartKey: startKey,
      }),
    );
    total += answer.Count ?? 0;
    startKey = answer.LastEvaluatedKey;
  } while (startKey);
  return total;
}
