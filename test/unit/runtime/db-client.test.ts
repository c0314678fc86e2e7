import { afterAll, describe, expect, it } from '@jest/globals';
import { setBaseEnv, startDynamo } from './support/aws-local.ts';

setBaseEnv();
const dynamo = await startDynamo();
const db = await import('../../../shared/db/client.ts');
const access = await import('../../../shared/db/user-access.ts');

afterAll(async () => {
  await dynamo.stop();
});

describe('table helpers', () => {
  it('puts, gets, updates and deletes an item', async () => {
    await db.putItem({ pk: 'THING#1', sk: 'THING', name: 'one', optional: undefined });
    expect(await db.getItem({ pk: 'THING#1', sk: 'THING' })).toEqual({ pk: 'THING#1', sk: 'THING', name: 'one' });
    const updated = await db.updateItem<{ name: string; count: number }>({ pk: 'THING#1', sk: 'THING' }, { name: 'uno', count: 2, skipped: undefined });
    expect(updated).toMatchObject({ name: 'uno', count: 2 });
    await db.deleteItem({ pk: 'THING#1', sk: 'THING' });
    expect(await db.getItem({ pk: 'THING#1', sk: 'THING' })).toBeUndefined();
  });

  it('refuses to overwrite with ifAbsent and to create with ifExists', async () => {
    await db.putItem({ pk: 'ONCE#1', sk: 'ONCE' }, { ifAbsent: true });
    const again = db.putItem({ pk: 'ONCE#1', sk: 'ONCE' }, { ifAbsent: true });
    await expect(again).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    await again.catch((error: unknown) => expect(db.isConditionFailure(error)).toBe(true));
    await expect(db.updateItem({ pk: 'NONE#1', sk: 'NONE' }, { a: 1 }, { ifExists: true })).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    expect(await db.getItem({ pk: 'NONE#1', sk: 'NONE' })).toBeUndefined();
    await expect(db.updateItem({ pk: 'NONE#1', sk: 'NONE' }, { a: undefined })).rejects.toThrow('at least one attribute');
  });

  it('treats items past their TTL as absent before DynamoDB deletes them', async () => {
    await db.putItem({ pk: 'OLD#1', sk: 'OLD', expiresAt: Math.floor(Date.now() / 1000) - 10 });
    await db.putItem({ pk: 'OLD#1', sk: 'NEW', expiresAt: db.expiresIn(60) });
    expect(await db.getItem({ pk: 'OLD#1', sk: 'OLD' })).toBeUndefined();
    expect((await db.queryAll({ pk: 'OLD#1' })).map((i) => i.sk)).toEqual(['NEW']);
  });

  it('pages through a query with opaque cursors, in either order, on the table and on an index', async () => {
    await Promise.all(
      Array.from({ length: 7 }, (_, i) => db.putItem({ pk: 'LIST#1', sk: `ITEM#${i}`, gsi1pk: 'BY#owner', gsi1sk: `T#${i}` })),
    );
    const first = await db.queryPage({ pk: 'LIST#1', skBeginsWith: 'ITEM#', limit: 3 });
    expect(first.items.map((i) => i.sk)).toEqual(['ITEM#0', 'ITEM#1', 'ITEM#2']);
    const second = await db.queryPage({ pk: 'LIST#1', skBeginsWith: 'ITEM#', limit: 3, cursor: first.nextCursor });
    expect(second.items.map((i) => i.sk)).toEqual(['ITEM#3', 'ITEM#4', 'ITEM#5']);
    const newest = await db.queryPage({ index: 'gsi1', pk: 'BY#owner', limit: 2, descending: true });
    expect(newest.items.map((i) => i.sk)).toEqual(['ITEM#6', 'ITEM#5']);
    expect(await db.queryAll({ pk: 'LIST#1' }, 5)).toHaveLength(5);
  });

  it('rejects a forged cursor with 400 INVALID_CURSOR', async () => {
    await expect(db.queryPage({ pk: 'LIST#1', cursor: 'not*base64' })).rejects.toMatchObject({ status: 400, code: 'INVALID_CURSOR' });
    await expect(db.queryPage({ pk: 'LIST#1', cursor: Buffer.from('[1]').toString('base64url') })).rejects.toMatchObject({ code: 'INVALID_CURSOR' });
  });

  it('writes all or nothing in a transaction', async () => {
    await db.transactWrite([
      { Put: { Item: { pk: 'TX#1', sk: 'A' } } },
      { Put: { Item: { pk: 'TX#1', sk: 'B' } } },
    ]);
    expect(await db.queryAll({ pk: 'TX#1' })).toHaveLength(2);
    const clash = db.transactWrite([
      { Put: { Item: { pk: 'TX#2', sk: 'A' } } },
      { Put: { Item: { pk: 'TX#1', sk: 'A' }, ConditionExpression: 'attribute_not_exists(pk)' } },
    ]);
    await expect(clash).rejects.toMatchObject({ name: 'TransactionCanceledException' });
    expect(await db.queryAll({ pk: 'TX#2' })).toEqual([]);
  });

  it('fails naming TABLE_NAME when it is unset', async () => {
    const saved = process.env.TABLE_NAME;
    delete process.env.TABLE_NAME;
    await expect(db.getItem({ pk: 'X', sk: 'Y' })).rejects.toThrow('TABLE_NAME');
    process.env.TABLE_NAME = saved;
  });
});

describe('user access: revoked tokens and the request window on one item', () => {
  const nowSeconds = () => Math.floor(Date.now() / 1000);

  it('knows a revoked jti until it expires, per user, and drops expired revocations at the next logout', async () => {
    expect(await access.isTokenRevoked('u-1', 'jti-1')).toBe(false);
    await access.revokeToken('jti-1', 'u-1', nowSeconds() + 60);
    expect(await access.isTokenRevoked('u-1', 'jti-1')).toBe(true);
    expect(await access.isTokenRevoked('u-2', 'jti-1')).toBe(false);
    await access.revokeToken('jti-2', 'u-1', nowSeconds() - 1);
    expect(await access.isTokenRevoked('u-1', 'jti-2')).toBe(false);
    await access.revokeToken('jti-3', 'u-1', nowSeconds() + 60);
    const item = await db.getItem<{ revoked: Record<string, number> }>(access.userAccessKey('u-1'));
    expect(Object.keys(item?.revoked ?? {}).sort()).toEqual(['jti-1', 'jti-3']);
  });

  it('revokes concurrently without losing a revocation', async () => {
    const jtis = Array.from({ length: 8 }, (_, i) => `par-${i}`);
    await Promise.all(jtis.map((jti) => access.revokeToken(jti, 'u-par', nowSeconds() + 60)));
    for (const jti of jtis) expect(await access.isTokenRevoked('u-par', jti)).toBe(true);
  });

  it('counts requests in fixed windows, re-opening the window when it has passed, and reports revocation', async () => {
    const start = 1_800_000_000_000;
    expect(await access.countUserRequest('u-count', 'j', 3600, start)).toEqual({ count: 1, resetsInSeconds: 3600, revoked: false });
    expect(await access.countUserRequest('u-count', 'j', 3600, start + 1000)).toEqual({ count: 2, resetsInSeconds: 3599, revoked: false });
    const counted = await Promise.all(Array.from({ length: 10 }, () => access.countUserRequest('u-count', 'j', 3600, start + 2000)));
    expect(counted.map((c) => c.count).sort((a, b) => a - b)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const next = await Promise.all(Array.from({ length: 5 }, () => access.countUserRequest('u-count', 'j', 3600, start + 3600_000)));
    expect(next.map((c) => c.count).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
    await access.revokeToken('j', 'u-count', Math.floor(start / 1000) + 7200);
    expect(await access.countUserRequest('u-count', 'j', 3600, start + 3601_000)).toMatchObject({ count: 6, revoked: true });
    expect(await access.countUserRequest('u-count', 'other', 3600, start + 3601_000)).toMatchObject({ count: 7, revoked: false });
    // Past the token's own expiry its revocation no longer matters.
    expect(await access.countUserRequest('u-count', 'j', 3600, start + 7201_000)).toMatchObject({ count: 1, revoked: false });
  });
});
