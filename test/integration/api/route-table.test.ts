import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { FakeGithub, fixtureFor, loadRouteFixtures, routeKey, send, startApi, type Api, type RouteFixtures, type TestUser } from './support.ts';
import type { Services } from '../../../lib/local/stack.ts';
import { signAccessToken } from '../../../shared/http/auth.ts';
import { routes, type RouteDecl } from '../../../shared/platform/declarations.ts';

// Every route of the table, iterated: a route added to `routes` is covered here without editing this file.

jest.setTimeout(120_000);

const protectedRoutes = routes.filter((r) => r.access === 'user');
const idRoutes = protectedRoutes.filter((r) => r.path.includes('{'));
const bodyRoutes = routes.filter((r) => r.schemas?.body !== undefined);

let github: FakeGithub;
let services: Services;
let api: Api;
let fixtures: RouteFixtures;
let owner: TestUser;
let intruder: TestUser;

beforeAll(async () => {
  github = new FakeGithub();
  await github.start();
  github.configure({ urls: false });
  ({ services, api } = await startApi());
  fixtures = await loadRouteFixtures(github);
  [owner, intruder] = await Promise.all([api.registerUser(), api.registerUser()]);
}, 120_000);
afterAll(async () => {
  await services?.stop();
  await github?.close();
});

/** Path parameters that name nothing, for requests that must be refused before any lookup. */
const anyParams = (route: RouteDecl) => ({ params: Object.fromEntries([...route.path.matchAll(/\{(\w+)\+?\}/g)].map((m) => [m[1], '0b8d2f9e-1c43-4c1e-9d0a-5f7a2b3c4d5e'])) });

describe('the route table', () => {
  it('has protected routes, and every route with a path parameter is protected', () => {
    expect(protectedRoutes.length).toBeGreaterThan(0);
    expect(routes.filter((r) => r.path.includes('{') && r.access === 'public').map(routeKey)).toEqual([]);
  });
});

describe.each(protectedRoutes.map((r) => [routeKey(r), r] as const))('%s without a valid token', (_key, route) => {
  const expect401 = async (token: string | undefined) => {
    const res = await send(api, route, { ...anyParams(route), body: route.method === 'GET' ? undefined : {} }, token);
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
  };

  it('answers 401 with no token and with a malformed one', async () => {
    await expect401(undefined);
    await expect401('definitely-not-a-jwt');
  });

  it('answers 401 with an expired token', async () => {
    await expect401(await signAccessToken({ userId: owner.id, email: owner.email, subscription: 'free' }, { expiresIn: Math.floor(Date.now() / 1000) - 5 }));
  });

  it('answers 401 with a token revoked by logout', async () => {
    const session = await api.loginAs(owner);
    expect((await api.request('/api/auth/logout', { method: 'POST', token: session.token })).status).toBe(200);
    await expect401(session.token);
  });
});

describe.each(idRoutes.map((r) => [routeKey(r), r] as const))('%s with another user\'s id', (_key, route) => {
  it('answers 404 NOT_FOUND to the other user, leaking nothing, and succeeds for the owner', async () => {
    const fixture = fixtureFor(fixtures, route);
    const request = await fixture.prepare(api, owner);
    const stolen = await send(api, route, { ...request, token: undefined }, intruder.token);
    expect(stolen.status).toBe(404);
    expect(stolen.body).toMatchObject({ code: 'NOT_FOUND' });
    const text = JSON.stringify(stolen.body);
    expect(text).not.toContain(owner.id);
    expect(text).not.toContain(owner.email);
    // The refused request changed nothing: the owner's own request still succeeds.
    const own = await send(api, route, request, owner.token);
    if (request.expectStatus !== undefined) expect(own.status).toBe(request.expectStatus);
    else expect(own.status).toBeGreaterThanOrEqual(200);
    expect(own.status).toBeLessThan(300);
  });
});

describe.each(bodyRoutes.map((r) => [routeKey(r), r] as const))('%s with a malformed body', (_key, route) => {
  it('answers 400 VALIDATION_ERROR listing the field issues', async () => {
    const res = await send(api, route, { ...anyParams(route), body: ['not', 'an', 'object'] }, owner.token);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'VALIDATION_ERROR' });
    const issues = (res.body as { issues?: { path: string; message: string }[] }).issues ?? [];
    expect(issues.length).toBeGreaterThan(0);
    expect(issues.every((i) => i.path.startsWith('body') && i.message.length > 0)).toBe(true);
  });
});

describe.each(routes.map((r) => [routeKey(r), r] as const))('%s with good input', (_key, route) => {
  it('answers 2xx with a body its response schema describes', async () => {
    const request = await fixtureFor(fixtures, route).prepare(api, owner);
    const res = await send(api, route, request, route.access === 'user' ? owner.token : undefined);
    if (request.expectStatus !== undefined) expect(res.status).toBe(request.expectStatus);
    else expect([200, 201, 202, 204]).toContain(res.status);
    const { safeParse } = await import('valibot');
    const schema = route.schemas?.response;
    if (schema && res.status !== 204 && res.headers.get('content-type')?.startsWith('application/json')) {
      const parsed = safeParse(schema, res.body);
      expect(parsed.issues?.map((i) => `${i.path?.map((p) => String(p.key)).join('.')}: ${i.message}`) ?? []).toEqual([]);
    }
  });
});
