import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { ENV } from '../platform/declarations.ts';
import { requireEnv } from '../runtime/env.ts';
import { documentClient } from '../runtime/clients.ts';
import { BadRequestError } from '../http/errors.ts';
import { TTL_ATTRIBUTE } from './table-definition.ts';

export { documentClient };

/** The single table's name, required at first use. */
export function tableName(): string {
  return requireEnv(ENV.tableName);
}

export interface ItemKey {
  readonly pk: string;
  readonly sk: string;
}

/** Every stored item: its keys plus the entity's own attributes. */
export type Item<T> = T & ItemKey & { readonly [TTL_ATTRIBUTE]?: number };

export type IndexName = 'gsi1' | 'gsi2' | 'gsi3';

/** Epoch seconds `seconds` from now, for the TTL attribute. */
export function expiresIn(seconds: number, now = Date.now()): number {
  return Math.floor(now / 1000) + Math.ceil(seconds);
}

/** DynamoDB TTL deletes lazily (up to days late): readers treat an item past its TTL as gone. */
export function isExpired(item: { readonly [TTL_ATTRIBUTE]?: unknown }, now = Date.now()): boolean {
  const ttl = item[TTL_ATTRIBUTE];
  return typeof ttl === 'number' && ttl * 1000 <= now;
}

/** One item by its full key, or undefined; expired items count as absent. */
export async function getItem<T>(key: ItemKey, options: { consistent?: boolean } = {}): Promise<Item<T> | undefined> {
  const answer = await documentClient.send(
    new GetCommand({ TableName: tableName(), Key: { pk: key.pk, sk: key.sk }, ConsistentRead: options.consistent }),
  );
  const item = answer.Item as Item<T> | undefined;
  return item && !isExpired(item) ? item : undefined;
}

/** Writes an item; `ifAbsent` makes it fail with ConditionalCheckFailedException when the key exists. */
export async function putItem<T extends ItemKey>(item: T, options: { ifAbsent?: boolean } = {}): Promise<void> {
  await documentClient.send(
    new PutCommand({
      TableName: tableName(),
      Item: item,
      ...(options.ifAbsent ? { ConditionExpression: 'attribute_not_exists(pk)' } : {}),
    }),
  );
}

/** Sets attributes of an item; `ifExists` refuses to create it (ConditionalCheckFailedException). Returns the new item. */
export async function updateItem<T>(
  key: ItemKey,
  set: Readonly<Record<string, unknown>>,
  options: { ifExists?: boolean } = {},
): Promise<Item<T>> {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const assignments = Object.entries(set)
    .filter(([, value]) => value !== undefined)
    .map(([name, value], i) => {
      names[`#a${i}`] = name;
      values[`:v${i}`] = value;
      return `#a${i} = :v${i}`;
    });
  if (assignments.length === 0) throw new Error('updateItem needs at least one attribute to set');
  const answer = await documentClient.send(
    new UpdateCommand({
      TableName: tableName(),
      Key: { pk: key.pk, sk: key.sk },
      UpdateExpression: `SET ${assignments.join(', ')}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ...(options.ifExists ? { ConditionExpression: 'attribute_exists(pk)' } : {}),
      ReturnValues: 'ALL_NEW',
    }),
  );
  return answer.Attributes as Item<T>;
}

export async function deleteItem(key: ItemKey): Promise<void> {
  await documentClient.send(new DeleteCommand({ TableName: tableName(), Key: { pk: key.pk, sk: key.sk } }));
}

export interface QueryOptions {
  /** Query a generic index instead of the table. */
  readonly index?: IndexName;
  readonly pk: string;
  readonly skBeginsWith?: string;
  readonly limit?: number;
  /** Opaque cursor from a previous page. */
  readonly cursor?: string;
  /** Newest first when the sort key is time-ordered. */
  readonly descending?: boolean;
}

export interface Page<T> {
  readonly items: Item<T>[];
  readonly nextCursor?: string;
}

function encodeCursor(key: Record<string, unknown> | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;
}

function decodeCursor(cursor: string | undefined): Record<string, unknown> | undefined {
  if (cursor === undefined) return undefined;
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof key === 'object' && key !== null && !Array.isArray(key)) return key as Record<string, unknown>;
  } catch {
    // fall through to the error below
  }
  throw new BadRequestError('The cursor is not valid', 'INVALID_CURSOR');
}

/** One page of a key-condition query (never a Scan); expired items are left out. */
export async function queryPage<T>(options: QueryOptions): Promise<Page<T>> {
  const pkName = options.index ? `${options.index}pk` : 'pk';
  const skName = options.index ? `${options.index}sk` : 'sk';
  const answer = await documentClient.send(
    new QueryCommand({
      TableName: tableName(),
      IndexName: options.index,
      KeyConditionExpression:
        options.skBeginsWith === undefined ? '#pk = :pk' : '#pk = :pk AND begins_with(#sk, :sk)',
      ExpressionAttributeNames: options.skBeginsWith === undefined ? { '#pk': pkName } : { '#pk': pkName, '#sk': skName },
      ExpressionAttributeValues:
        options.skBeginsWith === undefined ? { ':pk': options.pk } : { ':pk': options.pk, ':sk': options.skBeginsWith },
      Limit: options.limit,
      ExclusiveStartKey: decodeCursor(options.cursor),
      ScanIndexForward: !options.descending,
    }),
  );
  const items = ((answer.Items ?? []) as Item<T>[]).filter((item) => !isExpired(item));
  return { items, nextCursor: encodeCursor(answer.LastEvaluatedKey) };
}

/** Every item of a key condition, following pages up to `max` items. */
export async function queryAll<T>(options: Omit<QueryOptions, 'cursor' | 'limit'>, max = 1000): Promise<Item<T>[]> {
  const items: Item<T>[] = [];
  let cursor: string | undefined;
  do {
    const page = await queryPage<T>({ ...options, cursor });
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== undefined && items.length < max);
  return items.slice(0, max);
}

type SdkTransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
/** One transaction operation (`Put`, `Update`, `Delete` or `ConditionCheck`) without its table name. */
export type TransactItem = { [K in keyof SdkTransactItem]?: Omit<NonNullable<SdkTransactItem[K]>, 'TableName'> };

/** All-or-nothing writes (up to 100 items); the table name is filled in. */
export async function transactWrite(items: readonly TransactItem[]): Promise<void> {
  const table = tableName();
  const withTable = items.map((item) => {
    const entries = Object.entries(item).map(([op, body]) => [op, { ...(body as object), TableName: table }]);
    return Object.fromEntries(entries) as SdkTransactItem;
  });
  await documentClient.send(new TransactWriteCommand({ TransactItems: withTable }));
}

/** True for the error a failed condition expression raises. */
export function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}
