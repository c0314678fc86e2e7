import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { FakeGithub, fixtureFor, loadRouteFixtures, routeKey, send, startApi, type Api, type RouteFixtures, type TestUser } from './support.ts';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Services } from '../../../lib/local/stack.ts';
import { tableName } from '../../../shared/db/client.ts';
import { routes } from '../../../shared/platform/declarations.ts';
import { documentClient, dynamoClient } from '../../../shared/runtime/clients.ts';

// The handlers run in this process on the shared DynamoDB client, so a middleware on it sees every operation any
// request path sends, whichever helper built it.

jest.setTimeout(300_000);

const recorded: string[] = [];
let recording = false;

let github: FakeGithub;
let services: Services;
let api: Api;
let fixtures: RouteFixtures;
let owner: TestUser;
let intruder: TestUser;

beforeAll(async () => {
  dynamoClient.middlewareStack.add(
    (next, context) => async (args) => {
      if (recording) recorded.push(String(context.commandName));
      return next(args);
    },
    { step: 'initialize', name: 'recordDynamoOperations' },
  );
  github = new FakeGithub();
  await github.start();
  github.configure({ urls: false });
  ({ services, api } = await startApi());
  fixtures = await loadRouteFixtures(github);
  [owner, intruder] = await Promise.all([api.registerUser(), api.registerUser()]);
}, 120_000);
afterAll(async () => {
  dynamoClient.middlewareStack.remove('recordDynamoOperations');
  await services?.stop();
  await github?.close();
});

describe('DynamoDB operations on request paths', () => {
  it('the recorder sees a Scan when one is sent (so the check below can fail)', async () => {
    recording = true;
    await documentClient.send(new ScanCommand({ TableName: tableName(), Limit: 1 }));
    recording = false;
    expect(recorded.splice(0)).toEqual(['ScanCommand']);
  });

  it('no route sends a Scan: good input, no token, a revoked token and another user\'s ids, for every route', async () => {
    const perRoute = new Map<string, string[]>();
    const revoked = await api.loginAs(owner);
    await api.request('/api/auth/logout', { method: 'POST', token: revoked.token });
    for (const route of routes) {
      const request = await fixtureFor(fixtures, route).prepare(api, owner);
      recording = true;
      const before = recorded.length;
      const good = await send(api, route, request, route.access === 'user' ? owner.token : undefined);
      if (route.access === 'user') {
        await send(api, route, { ...request, token: undefined }, undefined);
        await send(api, route, { ...request, token: undefined }, revoked.token);
        if (route.path.includes('{')) await send(api, route, { ...request, token: undefined }, intruder.token);
      }
      recording = false;
      perRoute.set(routeKey(route), recorded.slice(before));
      const ok = request.expectStatus !== undefined ? good.status === request.expectStatus : good.status >= 200 && good.status < 300;
      expect({ route: routeKey(route), status: good.status, ok }).toEqual({ route: routeKey(route), status: good.status, ok: true });
    }
    expect([...perRoute.keys()].sort()).toEqual(routes.map(routeKey).sort());
    const scans = [...perRoute].filter(([, commands]) => commands.includes('ScanCommand')).map(([key]) => key);
    expect(scans).toEqual([]);
    // The record is real: request paths did reach the table, through Get, Query, Put, Update and transactions.
    const all = [...perRoute.values()].flat();
    expect(all.length).toBeGreaterThan(routes.length);
    expect(all).toEqual(expect.arrayContaining(['GetItemCommand', 'QueryCommand', 'UpdateItemCommand', 'TransactWriteItemsCommand']));
    const counts = Object.fromEntries([...new Set(all)].sort().map((name) => [name, all.filter((n) => n === name).length]));
    process.stdout.write(`DynamoDB operations across ${routes.length} routes: ${JSON.stringify(counts)}\n`);
  });
});
