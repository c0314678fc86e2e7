import { afterAll, describe, expect, it } from '@jest/globals';
import { setBaseEnv, startDynamo } from '../runtime/support/aws-local.ts';
import { lambdaContext, wsEvent } from '../http/support/events.ts';

setBaseEnv();
const dynamo = await startDynamo();

const connect = (await import('../../../lambdas/ws/connect.ts')).handler;
const disconnect = (await import('../../../lambdas/ws/disconnect.ts')).handler;
const defaultRoute = (await import('../../../lambdas/ws/default.ts')).handler;
const { signAccessToken } = await import('../../../shared/http/auth.ts');
const { revokeToken } = await import('../../../shared/db/user-access.ts');
const { connectionsOfUser, CONNECTION_TTL_SECONDS } = await import('../../../shared/realtime/connections.ts');
const { getItem } = await import('../../../shared/db/client.ts');

afterAll(async () => {
  await dynamo.stop();
});
const ctx = lambdaContext('ws');
const user = { userId: 'ws-user', email: 'ws@example.com', subscription: 'pro' as const };

describe('$connect', () => {
  it('stores the connection of a valid token under the user and by connection id, with a 2 h TTL', async () => {
    const token = await signAccessToken(user);
    const result = await connect(wsEvent('$connect', { connectionId: 'conn-A=', query: { token } }), ctx);
    expect(result).toEqual({ statusCode: 200 });
    const [stored] = await connectionsOfUser('ws-user');
    expect(stored).toMatchObject({ pk: 'USER#ws-user', sk: 'CONN#conn-A=', connectionId: 'conn-A=', userId: 'ws-user' });
    const item = await getItem<{ gsi1pk: string; expiresAt: number }>({ pk: 'USER#ws-user', sk: 'CONN#conn-A=' });
    expect(item?.gsi1pk).toBe('CONN#conn-A=');
    const ttl = (item?.expiresAt ?? 0) - Math.floor(Date.now() / 1000);
    expect(ttl).toBeGreaterThan(CONNECTION_TTL_SECONDS - 60);
    expect(ttl).toBeLessThanOrEqual(CONNECTION_TTL_SECONDS);
  });

  it('refuses a missing, bad or revoked token with 401 and stores nothing', async () => {
    const revokedToken = await signAccessToken({ ...user, userId: 'revoked-user' }, { jti: 'ws-revoked' });
    await revokeToken('ws-revoked', 'revoked-user', Math.floor(Date.now() / 1000) + 600);
    const cases = [undefined, { token: '' }, { token: 'not-a-jwt' }, { token: revokedToken }];
    for (const query of cases) {
      const result = await connect(wsEvent('$connect', { connectionId: 'conn-X=', ...(query ? { query } : {}) }), ctx);
      expect(result.statusCode).toBe(401);
      expect(JSON.parse(result.body ?? '{}')).toMatchObject({ code: 'UNAUTHORIZED' });
    }
    expect(await connectionsOfUser('revoked-user')).toEqual([]);
  });
});

describe('$disconnect', () => {
  it('deletes the connection found by its id and is harmless for an unknown one', async () => {
    const token = await signAccessToken({ ...user, userId: 'leaver' });
    await connect(wsEvent('$connect', { connectionId: 'conn-B=', query: { token } }), ctx);
    expect(await connectionsOfUser('leaver')).toHaveLength(1);
    expect(await disconnect(wsEvent('$disconnect', { connectionId: 'conn-B=' }), ctx)).toEqual({ statusCode: 200 });
    expect(await connectionsOfUser('leaver')).toEqual([]);
    expect(await disconnect(wsEvent('$disconnect', { connectionId: 'never-seen' }), ctx)).toEqual({ statusCode: 200 });
  });
});

describe('$default', () => {
  it('answers ping with pong, in text or JSON, and ignores everything else', async () => {
    expect(await defaultRoute(wsEvent('$default', { body: 'ping' }), ctx)).toEqual({ statusCode: 200, body: 'pong' });
    const json = await defaultRoute(wsEvent('$default', { body: '{"action":"ping"}' }), ctx);
    expect(JSON.parse(json.body ?? '{}')).toMatchObject({ event: 'pong' });
    for (const body of ['hello', '{"action":"subscribe"}', '{broken', '']) {
      expect(await defaultRoute(wsEvent('$default', { body }), ctx)).toEqual({ statusCode: 200 });
    }
  });
});
