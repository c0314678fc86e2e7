import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as v from 'valibot';
import type { Services } from '../../../lib/local/stack.ts';
import { toVulnerabilityFoundData } from '../../../shared/api/mappers.ts';
import { updateRepositoryScanState } from '../../../shared/db/repositories.ts';
import { routes } from '../../../shared/platform/declarations.ts';
import { envelope } from '../../../shared/realtime/events.ts';
import { REPO_ROOT } from '../support/local-services.ts';
import { addFixPullRequest, completeWithReports, finding, githubRepositoryOf, localRepoRoot, repositoryWithVulnerability } from './fixtures-b.ts';
import { startApi, type Api, type TestUser } from './support.ts';

jest.setTimeout(60_000);

/** The seed's JSON examples, copied as data (see test/fixtures/seed-shapes/README.md). */
const seed = (name: string): unknown => JSON.parse(readFileSync(join(REPO_ROOT, 'test/fixtures/seed-shapes', `${name}.json`), 'utf8'));

type Shape = string | { [key: string]: Shape } | Shape[];

/**
 * The key structure of a JSON value: objects by their keys, arrays by their first element, every scalar (null
 * included: the seed shows a filled example of what may be empty) as `scalar`. An empty object in the seed is
 * an open object and matches any object.
 */
function shapeOf(value: unknown, reference?: unknown): Shape {
  if (Array.isArray(value)) return [shapeOf(value[0], Array.isArray(reference) ? reference[0] : undefined)];
  if (typeof value === 'object' && value !== null) {
    if (reference !== undefined && typeof reference === 'object' && reference !== null && Object.keys(reference).length === 0) return 'open object';
    const ref = (reference ?? {}) as Record<string, unknown>;
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, shapeOf((value as Record<string, unknown>)[k], ref[k])]));
  }
  if (typeof reference === 'object' && reference !== null && value === null) return shapeOf(reference);
  return 'scalar';
}

/** Our answer must have exactly the seed example's keys, at every level. */
function expectSeedShape(actual: unknown, name: string): void {
  const expected = seed(name);
  expect(shapeOf(actual, expected)).toEqual(shapeOf(expected, expected));
}

/** The answer also matches the response schema the route declares (and the OpenAPI document publishes). */
function expectDeclaredSchema(method: string, path: string, body: unknown): void {
  const route = routes.find((r) => r.method === method && r.path === path);
  const schema = route?.schemas?.response;
  if (!schema) throw new Error(`${method} ${path} declares no response schema`);
  const result = v.safeParse(schema, body);
  expect(result.issues?.map((i) => `${v.getDotPath(i)}: ${i.message}`) ?? []).toEqual([]);
}

let services: Services;
let api: Api;
let user: TestUser;

beforeAll(async () => {
  localRepoRoot();
  ({ services, api } = await startApi());
  user = await api.registerUser();
}, 60_000);
afterAll(async () => {
  await services?.stop();
});

describe('answers have the seed examples’ keys', () => {
  it('seed shape comparison notices a missing or extra key', () => {
    const example = seed('dashboard-stats') as Record<string, unknown>;
    const { riskScore: _dropped, ...missing } = example;
    expect(shapeOf(missing, example)).not.toEqual(shapeOf(example, example));
    expect(shapeOf({ ...example, extra: 1 }, example)).not.toEqual(shapeOf(example, example));
    expect(shapeOf({ ...example, trends: { lastWeek: 1 } }, example)).not.toEqual(shapeOf(example, example));
  });

  it('Repository List', async () => {
    const { repositoryId } = await repositoryWithVulnerability(api, user);
    await updateRepositoryScanState(repositoryId, { scanStatus: 'completed', lastScanAt: new Date().toISOString() });
    const res = await api.request('/api/repositories?limit=1', { token: user.token });
    expect(res.status).toBe(200);
    const { nextCursor: _cursor, ...body } = res.body;
    expectSeedShape(body, 'repository-list');
    expectDeclaredSchema('GET', '/api/repositories', res.body);
  });

  it('Vulnerability Detail, with and without a fix pull request', async () => {
    const { repositoryId, vulnerabilityId } = await repositoryWithVulnerability(api, user);
    const without = await api.request(`/api/vulnerabilities/${vulnerabilityId}`, { token: user.token });
    expectSeedShape(without.body, 'vulnerability-detail');
    await addFixPullRequest(vulnerabilityId, repositoryId);
    const res = await api.request(`/api/vulnerabilities/${vulnerabilityId}`, { token: user.token });
    expect(res.status).toBe(200);
    expectSeedShape(res.body, 'vulnerability-detail');
    expectDeclaredSchema('GET', '/api/vulnerabilities/{id}', res.body);
    const listed = await api.request<{ vulnerabilities: unknown[] }>(`/api/vulnerabilities?repositoryId=${repositoryId}`, { token: user.token });
    expectSeedShape(listed.body.vulnerabilities[0], 'vulnerability-detail');
    expectDeclaredSchema('GET', '/api/vulnerabilities', listed.body);
  });

  it('Dashboard Stats', async () => {
    const res = await api.request('/api/dashboard/stats', { token: user.token });
    expect(res.status).toBe(200);
    expectSeedShape(res.body, 'dashboard-stats');
    expectDeclaredSchema('GET', '/api/dashboard/stats', res.body);
  });

  it('WebSocket vulnerability:found event', () => {
    const data = toVulnerabilityFoundData({ id: 'v1', repositoryId: 'r1', type: 'XSS', severity: 'high', filePath: 'src/a.html', lineNumber: 3 });
    expectSeedShape(envelope('vulnerability:found', data), 'websocket-event');
  });

  it('second seed: POST /api/scan and GET /api/scan/{scanId}', async () => {
    const repo = await githubRepositoryOf(user.id);
    const started = await api.request<{ scanId: string }>('/api/scan', { token: user.token, body: { repoUrl: `https://github.com/${repo.fullName}`, branch: 'main' } });
    expect(started.status).toBe(202);
    expectSeedShape(started.body, 'compat-scan-started');
    expectDeclaredSchema('POST', '/api/scan', started.body);
    await completeWithReports(started.body.scanId, [finding('shape-a')]);
    const status = await api.request(`/api/scan/${started.body.scanId}`, { token: user.token });
    expectSeedShape(status.body, 'compat-scan-status');
    expectDeclaredSchema('GET', '/api/scan/{scanId}', status.body);
  });
});
