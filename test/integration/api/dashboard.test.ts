import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Services } from '../../../lib/local/stack.ts';
import { recordTrendSnapshot } from '../../../shared/db/trends.ts';
import { addFixPullRequest, connectLocalRepository, localRepoRoot, repositoryWithVulnerability, seedFindings } from './fixtures-b.ts';
import { startApi, type Api, type TestUser } from './support.ts';

jest.setTimeout(60_000);

interface Stats {
  readonly totalRepositories: number;
  readonly totalVulnerabilities: number;
  readonly criticalIssues: number;
  readonly autoFixedThisWeek: number;
  readonly overallSecurityScore: number;
  readonly riskScore: number;
  readonly scanningNow: number;
  readonly trends: { lastWeek: number; lastMonth: number };
}
interface Point {
  readonly date: string;
  readonly critical: number;
  readonly high: number;
  readonly total: number;
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

describe('GET /api/dashboard/stats and risk-score', () => {
  it('answers zeros and a perfect score for a new user', async () => {
    const stats = await api.request<Stats>('/api/dashboard/stats', { token: bob.token });
    expect(stats.body).toEqual({ totalRepositories: 0, totalVulnerabilities: 0, criticalIssues: 0, autoFixedThisWeek: 0, overallSecurityScore: 100, riskScore: 0, scanningNow: 0, trends: { lastWeek: 0, lastMonth: 0 } });
    const risk = await api.request<{ score: number; level: string }>('/api/dashboard/risk-score', { token: bob.token });
    expect(risk.body).toMatchObject({ score: 0, level: 'low', repositories: 0 });
  });

  it('sums the caller’s repositories, fixes and running scans', async () => {
    const { repositoryId, vulnerabilityId } = await repositoryWithVulnerability(api, alice, 'critical');
    await seedFindings(repositoryId, ['critical', 'high', 'medium']);
    const other = await connectLocalRepository(api, alice);
    await seedFindings(other.id, ['low']);
    await addFixPullRequest(vulnerabilityId, repositoryId);
    expect((await api.request(`/api/repositories/${other.id}/scan`, { token: alice.token, body: {} })).status).toBe(202);
    await recordTrendSnapshot(alice.id);

    const stats = await api.request<Stats>('/api/dashboard/stats', { token: alice.token });
    expect(stats.status).toBe(200);
    // The second seeding replaced the first finding set of the repository: it is the latest scan.
    expect(stats.body).toMatchObject({ totalRepositories: 2, totalVulnerabilities: 4, criticalIssues: 1, autoFixedThisWeek: 1, scanningNow: 1, trends: { lastWeek: 4, lastMonth: 4 } });
    expect(stats.body.overallSecurityScore).toBeLessThan(100);
    expect(stats.body.riskScore).toBeGreaterThan(0);
    expect(stats.body.riskScore).toBeLessThanOrEqual(1);

    const risk = await api.request<{ score: number; factors: { name: string; value: number; weight: number }[]; repositories: number }>('/api/dashboard/risk-score', { token: alice.token });
    expect(risk.body.score).toBe(stats.body.riskScore);
    expect(risk.body.factors.map((f) => f.name)).toEqual(['exposure', 'breadth', 'staleness']);
    expect(risk.body.factors.find((f) => f.name === 'breadth')?.value).toBe(0.5);
    expect((await api.request<Stats>('/api/dashboard/stats', { token: bob.token })).body.totalVulnerabilities).toBe(0);
  });
});

describe('GET /api/dashboard/trends', () => {
  it('answers one point per day of the period, ending with today’s snapshot', async () => {
    const user = await api.registerUser();
    const repo = await connectLocalRepository(api, user);
    await seedFindings(repo.id, ['critical', 'high', 'high']);
    await recordTrendSnapshot(user.id);
    for (const [period, days] of [['7d', 7], ['30d', 30], ['90d', 90]] as const) {
      const res = await api.request<{ period: string; series: Point[] }>(`/api/dashboard/trends?period=${period}`, { token: user.token });
      expect(res.status).toBe(200);
      expect(res.body.series).toHaveLength(days);
      expect(res.body.series.at(-1)).toMatchObject({ date: new Date().toISOString().slice(0, 10), critical: 1, high: 2, total: 3 });
      expect(res.body.series[0]).toMatchObject({ total: 0 });
    }
    const byDefault = await api.request<{ period: string }>('/api/dashboard/trends', { token: user.token });
    expect(byDefault.body.period).toBe('30d');
    expect((await api.request('/api/dashboard/trends?period=1y', { token: user.token })).status).toBe(400);
    const other = await api.request<{ series: Point[] }>('/api/dashboard/trends?period=7d', { token: bob.token });
    expect(other.body.series.every((p) => p.total === 0)).toBe(true);
  });
});

describe('GET /api/dashboard/activity', () => {
  it('answers the caller’s latest events, newest first', async () => {
    const user = await api.registerUser();
    const repo = await connectLocalRepository(api, user);
    await api.request(`/api/repositories/${repo.id}/settings`, { method: 'PATCH', token: user.token, body: { autoFixEnabled: true } });
    await api.request(`/api/repositories/${repo.id}/scan`, { token: user.token, body: {} });
    const res = await api.request<{ events: { type: string; repositoryId: string; createdAt: string }[]; nextCursor: string | null }>('/api/dashboard/activity', { token: user.token });
    expect(res.status).toBe(200);
    expect(res.body.events.map((e) => e.type)).toEqual(['scan_queued', 'repository_settings_changed', 'repository_connected']);
    expect(res.body.events.every((e) => e.repositoryId === repo.id)).toBe(true);
    const paged = await api.request<{ events: unknown[]; nextCursor: string | null }>('/api/dashboard/activity?limit=2', { token: user.token });
    expect(paged.body.events).toHaveLength(2);
    const rest = await api.request<{ events: { type: string }[] }>(`/api/dashboard/activity?limit=2&cursor=${paged.body.nextCursor}`, { token: user.token });
    expect(rest.body.events.map((e) => e.type)).toEqual(['repository_connected']);
    const bobs = await api.request<{ events: { repositoryId: string }[] }>('/api/dashboard/activity', { token: bob.token });
    expect(bobs.body.events.some((e) => e.repositoryId === repo.id)).toBe(false);
    for (const query of ['limit=51', 'limit=0', 'cursor=']) {
      expect((await api.request(`/api/dashboard/activity?${query}`, { token: user.token })).status).toBe(400);
    }
  });
});
