import { afterAll, describe, expect, it } from '@jest/globals';
import { setBaseEnv, startDynamo } from './support/aws-local.ts';

setBaseEnv();
const dynamo = await startDynamo();
const db = await import('../../../shared/db/client.ts');
const access = await import('../../../shared/db/user-access.ts');
const leases = await import('../../../shared/db/leases.ts');

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

  it('counts requests in fixed windows, re-opening the window when it has passed, and reports revocation (a write per request at a limit of one)', async () => {
    const start = 1_800_000_000_000;
    expect(await access.admitRequest('u-count', 'j', 3600, 1, start)).toEqual({ count: 1, resetsInSeconds: 3600, revoked: false });
    expect(await access.admitRequest('u-count', 'j', 3600, 1, start + 1000)).toEqual({ count: 2, resetsInSeconds: 3599, revoked: false });
    const counted = await Promise.all(Array.from({ length: 10 }, () => access.admitRequest('u-count', 'j', 3600, 1, start + 2000)));
    expect(counted.map((c) => c.count).sort((a, b) => a - b)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const next = await Promise.all(Array.from({ length: 5 }, () => access.admitRequest('u-count', 'j', 3600, 1, start + 3600_000)));
    expect(next.map((c) => c.count).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
    await access.revokeToken('j', 'u-count', Math.floor(start / 1000) + 7200);
    expect(await access.admitRequest('u-count', 'j', 3600, 1, start + 3601_000)).toMatchObject({ count: 6, revoked: true });
    expect(await access.admitRequest('u-count', 'other', 3600, 1, start + 3601_000)).toMatchObject({ count: 7, revoked: false });
    // Past the token's own expiry its revocation no longer matters.
    expect(await access.admitRequest('u-count', 'j', 3600, 1, start + 7201_000)).toMatchObject({ count: 1, revoked: false });
  });
});

describe('admitting requests: at most one write per user per second and process', () => {
  const start = 1_800_007_200_000;
  const stored = async (userId: string) => (await db.getItem<{ count: number }>(access.userAccessKey(userId), { consistent: true }))?.count;

  it('decides from the last write within ACCESS_REFRESH_MS and adds the requests it kept to the next write', async () => {
    expect(await access.admitRequest('a-keep', 'j', 3600, 1000, start)).toEqual({ count: 1, resetsInSeconds: 3600, revoked: false });
    for (let i = 1; i <= 9; i++) expect((await access.admitRequest('a-keep', 'j', 3600, 1000, start + i * 10)).count).toBe(1 + i);
    expect(await stored('a-keep')).toBe(1);
    const later = await access.admitRequest('a-keep', 'j', 3600, 1000, start + access.ACCESS_REFRESH_MS);
    expect(later.count).toBe(11);
    expect(await stored('a-keep')).toBe(11);
  });

  it('writes every request near the limit, so the limit holds exactly', async () => {
    const counts: number[] = [];
    for (let i = 0; i < 7; i++) counts.push((await access.admitRequest('a-limit', 'j', 3600, 5, start + i)).count);
    expect(counts).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(await stored('a-limit')).toBe(7);
    // With a limit of one there is no room to decide locally at all.
    await access.admitRequest('a-one', 'j', 3600, 1, start);
    expect((await access.admitRequest('a-one', 'j', 3600, 1, start + 1)).count).toBe(2);
    expect(await stored('a-one')).toBe(2);
  });

  it('refuses a token revoked in this process at once, and one revoked elsewhere from the next write', async () => {
    const now = Date.now();
    await access.admitRequest('a-rev', 'mine', 3600, 1000, now);
    await access.revokeToken('mine', 'a-rev', Math.floor(now / 1000) + 600);
    expect((await access.admitRequest('a-rev', 'mine', 3600, 1000, now + 1)).revoked).toBe(true);
    expect((await access.admitRequest('a-rev', 'other', 3600, 1000, now + 2)).revoked).toBe(false);
    // Another process's logout reaches the table only.
    await db.updateItem(access.userAccessKey('a-rev'), { revoked: { mine: Math.floor(now / 1000) + 600, other: Math.floor(now / 1000) + 600 } });
    expect((await access.admitRequest('a-rev', 'other', 3600, 1000, now + 3)).revoked).toBe(false);
    expect((await access.admitRequest('a-rev', 'other', 3600, 1000, now + access.ACCESS_REFRESH_MS)).revoked).toBe(true);
  });

  it('starts a new window with a write and drops nothing of the old one already written', async () => {
    await access.admitRequest('a-window', 'j', 3600, 1000, start);
    await access.admitRequest('a-window', 'j', 3600, 1000, start + 5);
    const next = await access.admitRequest('a-window', 'j', 3600, 1000, start + 3600_000);
    expect(next).toEqual({ count: 1, resetsInSeconds: 3600, revoked: false });
    expect(await stored('a-window')).toBe(1);
  });

  it('lets concurrent first requests share one write and counts every one of them', async () => {
    const counted = await Promise.all(Array.from({ length: 10 }, () => access.admitRequest('a-burst', 'j', 3600, 1000, start)));
    expect(counted.map((c) => c.count).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(await stored('a-burst')).toBe(1);
    await access.admitRequest('a-burst', 'j', 3600, 1000, start + access.ACCESS_REFRESH_MS);
    expect(await stored('a-burst')).toBe(11);
  });

  it('keeps the requests of a failed write for the next one and fails the request that needed it', async () => {
    await access.admitRequest('a-fail', 'j', 3600, 1000, start);
    await access.admitRequest('a-fail', 'j', 3600, 1000, start + 1);
    const saved = process.env.TABLE_NAME;
    process.env.TABLE_NAME = 'no-such-table';
    try {
      await expect(access.admitRequest('a-fail', 'j', 3600, 1000, start + access.ACCESS_REFRESH_MS)).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    } finally {
      process.env.TABLE_NAME = saved;
    }
    expect(await stored('a-fail')).toBe(1);
    expect((await access.admitRequest('a-fail', 'j', 3600, 1000, start + access.ACCESS_REFRESH_MS + 1)).count).toBe(3);
    expect(await stored('a-fail')).toBe(3);
  });
});

describe('leases: one holder at a time', () => {
  it('is taken by one holder, refused to others until released or lapsed, and re-taken by its holder', async () => {
    const now = Date.now();
    expect(await leases.tryAcquireLease('res-1', 'a', 10_000, now)).toBe(true);
    expect(await leases.tryAcquireLease('res-1', 'b', 10_000, now + 1)).toBe(false);
    expect(await leases.tryAcquireLease('res-1', 'a', 10_000, now + 2)).toBe(true);
    // Another holder's release does nothing.
    await leases.releaseLease('res-1', 'b');
    expect(await leases.tryAcquireLease('res-1', 'b', 10_000, now + 3)).toBe(false);
    await leases.releaseLease('res-1', 'a');
    expect(await leases.tryAcquireLease('res-1', 'b', 10_000, now + 4)).toBe(true);
    // A holder that never releases loses the lease when it lapses.
    expect(await leases.tryAcquireLease('res-1', 'c', 10_000, now + 10_005)).toBe(true);
    expect(await db.getItem(leases.leaseKey('res-1'))).toMatchObject({ holder: 'c', heldUntil: now + 20_005 });
  });

  it('runs concurrent holders one after the other and releases after a failure too', async () => {
    let inside = 0;
    let most = 0;
    const order: string[] = [];
    const run = (holder: string) =>
      leases.withLease('res-2', holder, { ttlMs: 10_000, waitMs: 10_000, pollMs: 20 }, async () => {
        inside += 1;
        most = Math.max(most, inside);
        await new Promise((resolve) => setTimeout(resolve, 30));
        inside -= 1;
        order.push(holder);
        if (holder === 'h2') throw new Error('failed inside');
        return holder;
      });
    const results = await Promise.allSettled(['h1', 'h2', 'h3', 'h4'].map(run));
    expect(most).toBe(1);
    expect(order.sort()).toEqual(['h1', 'h2', 'h3', 'h4']);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(await db.getItem(leases.leaseKey('res-2'))).toBeUndefined();
  });

  it('gives up with LeaseBusyError when the lease stays held for the whole wait', async () => {
    expect(await leases.tryAcquireLease('res-3', 'owner', 60_000)).toBe(true);
    let ran = false;
    const attempt = leases.withLease('res-3', 'waiter', { ttlMs: 10_000, waitMs: 100, pollMs: 20 }, async () => {
      ran = true;
    });
    await expect(attempt).rejects.toBeInstanceOf(leases.LeaseBusyError);
    expect(ran).toBe(false);
    expect(await db.getItem(leases.leaseKey('res-3'))).toMatchObject({ holder: 'owner' });
  });
});
