import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Services } from '../../../lib/local/stack.ts';
import { completeWithReports, finding, githubRepositoryOf, localRepoRoot } from './fixtures-b.ts';
import { startApi, type Api, type TestUser } from './support.ts';

jest.setTimeout(60_000);

interface Started {
  readonly scanId: string;
  readonly status: string;
  readonly executionId: string;
  readonly message: string;
  readonly code?: string;
}

let services: Services;
let api: Api;
let alice: TestUser;
let bob: TestUser;

beforeAll(async () => {
  localRepoRoot();
  ({ services, api } = await startApi());
  [alice, bob] = await Promise.all([api.registerUser(), api.registerUser()]);
}, 60_000);
afterAll(async () => {
  await services?.stop();
});

describe('POST /api/scan and GET /api/scan/{scanId}', () => {
  it('queues a scan of a connected repository by URL and reports its progress and results', async () => {
    const repo = await githubRepositoryOf(alice.id);
    const res = await api.request<Started>('/api/scan', { token: alice.token, body: { repoUrl: `https://github.com/${repo.fullName}.git`, branch: 'main' } });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ scanId: expect.any(String), status: 'initiated', executionId: `scan-${res.body.scanId}`, message: 'Scan workflow started' });

    const queued = await api.request<Record<string, unknown>>(`/api/scan/${res.body.scanId}`, { token: alice.token });
    expect(queued.status).toBe(200);
    expect(queued.body).toEqual({
      scanId: res.body.scanId,
      status: 'initiated',
      progress: { cloned: false, scanned: false, issuesFound: 0, issuesFixed: 0, prCreated: false },
      results: null,
    });
    await completeWithReports(res.body.scanId, [finding('compat-a', { severity: 'critical' })]);
    const done = await api.request<{ status: string; progress: { issuesFound: number; scanned: boolean }; results: { summary: Record<string, number>; reports: { format: string; url: string }[] } }>(
      `/api/scan/${res.body.scanId}`,
      { token: alice.token },
    );
    expect(done.body.status).toBe('completed');
    expect(done.body.progress).toMatchObject({ scanned: true, issuesFound: 1 });
    expect(done.body.results.summary).toMatchObject({ total: 1, critical: 1, new: 1 });
    expect(done.body.results.reports.map((r) => r.url)).toEqual([`/api/scans/${res.body.scanId}/report?format=json`, `/api/scans/${res.body.scanId}/report?format=sarif`]);

    const foreign = await api.request(`/api/scan/${res.body.scanId}`, { token: bob.token });
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual({ error: 'Scan not found', code: 'NOT_FOUND' });
  });

  it('answers 404 for a repository that is not connected by the caller, and 400 for bad bodies', async () => {
    const bobs = await githubRepositoryOf(bob.id);
    for (const repoUrl of [`https://github.com/${bobs.fullName}`, 'https://github.com/octo-org/unknown', `https://gitlab.com/${bobs.fullName}`]) {
      const res = await api.request<Started>('/api/scan', { token: alice.token, body: { repoUrl, branch: 'main' } });
      expect([repoUrl, res.status, res.body.code]).toEqual([repoUrl, 404, 'REPOSITORY_NOT_CONNECTED']);
    }
    for (const body of [{}, { repoUrl: 'not a url' }, { repoUrl: 'https://github.com/a/b', branch: 'a..b' }]) {
      expect((await api.request('/api/scan', { token: alice.token, body })).status).toBe(400);
    }
    expect((await api.request('/api/scan', { body: { repoUrl: 'https://github.com/a/b' } })).status).toBe(401);
    expect((await api.request('/api/scan/bad%20id', { token: alice.token })).status).toBe(400);
  });
});
