import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Services } from '../../../lib/local/stack.ts';
import { allRepositoriesOf, emptyStatusCounts, repositorySummaryOf, SEVERITIES, VULNERABILITY_STATUSES, writeRepositoryCounters } from '../../../shared/db/repositories.ts';
import { recomputeRepositoryCounters } from '../../../shared/db/vulnerabilities.ts';
import { connectLocalRepository, localRepoRoot, seedFindings } from './fixtures-b.ts';
import { startApi, type Api, type TestUser } from './support.ts';

jest.setTimeout(120_000);

let services: Services;
let api: Api;

beforeAll(async () => {
  localRepoRoot();
  ({ services, api } = await startApi());
}, 60_000);
afterAll(async () => {
  await services?.stop();
});

/** The summary must always equal the sum over the repository items it summarises. */
async function expectSummaryMatchesRepositories(userId: string): Promise<{ repositories: number; open: number }> {
  const repos = await allRepositoriesOf(userId);
  const counts = emptyStatusCounts();
  for (const repo of repos) {
    for (const status of VULNERABILITY_STATUSES) for (const severity of SEVERITIES) counts[status][severity] += repo.counts[status][severity];
  }
  const summary = await repositorySummaryOf(userId);
  expect(summary).toEqual({ repositories: repos.length, counts });
  return { repositories: repos.length, open: SEVERITIES.reduce((n, s) => n + counts.open[s], 0) };
}

const totalOf = async (user: TestUser, path: string) => (await api.request<{ total: number }>(path, { token: user.token })).body.total;

describe('the per-user repository summary behind the list totals', () => {
  it('stays equal to the repositories it sums through concurrent connects, scans, recomputations and a disconnect', async () => {
    const user = await api.registerUser();
    const other = await api.registerUser();
    const repos = await Promise.all(Array.from({ length: 6 }, () => connectLocalRepository(api, user)));
    await connectLocalRepository(api, other);
    expect(await expectSummaryMatchesRepositories(user.id)).toEqual({ repositories: 6, open: 0 });
    expect(await totalOf(user, '/api/repositories')).toBe(6);

    // Findings persisted into three repositories at once: each recomputation adds only its own difference.
    await Promise.all([
      seedFindings(repos[0]!.id, ['critical', 'high', 'high']),
      seedFindings(repos[1]!.id, ['low', 'medium']),
      seedFindings(repos[2]!.id, ['high', 'info', 'info', 'critical']),
    ]);
    expect(await expectSummaryMatchesRepositories(user.id)).toEqual({ repositories: 6, open: 9 });
    expect(await totalOf(user, '/api/vulnerabilities')).toBe(9);
    expect(await totalOf(user, '/api/vulnerabilities?severity=high')).toBe(3);
    expect(await totalOf(user, '/api/vulnerabilities?severity=info&status=open')).toBe(2);

    // Racing recomputations of one repository (a scan and a status change at once) must not count twice.
    await Promise.all(Array.from({ length: 5 }, () => recomputeRepositoryCounters(repos[0]!.id)));
    expect(await expectSummaryMatchesRepositories(user.id)).toEqual({ repositories: 6, open: 9 });
    // Racing writes of different counters: whichever lands last is the repository's, and the summary follows it.
    const base = await recomputeRepositoryCounters(repos[3]!.id);
    await Promise.all(Array.from({ length: 6 }, (_, i) => {
      const counts = emptyStatusCounts();
      counts.open.high = i + 1;
      counts.fixed.low = 10 * (i + 1);
      return writeRepositoryCounters(repos[3]!.id, { ...base, counts, highCount: i + 1, totalVulnerabilities: i + 1 });
    }));
    const raced = await expectSummaryMatchesRepositories(user.id);
    expect(raced.open).toBeGreaterThan(9);
    await recomputeRepositoryCounters(repos[3]!.id);
    expect(await expectSummaryMatchesRepositories(user.id)).toEqual({ repositories: 6, open: 9 });

    const vulns = await api.request<{ vulnerabilities: { id: string; repositoryId: string; severity: string }[] }>(`/api/vulnerabilities?repositoryId=${repos[2]!.id}`, { token: user.token });
    const critical = vulns.body.vulnerabilities.find((v) => v.severity === 'critical');
    const patched = await api.request(`/api/vulnerabilities/${critical!.id}/status`, { method: 'PATCH', token: user.token, body: { status: 'false_positive', reason: 'test fixture' } });
    expect(patched.status).toBe(200);
    expect(await expectSummaryMatchesRepositories(user.id)).toEqual({ repositories: 6, open: 8 });
    expect(await totalOf(user, '/api/vulnerabilities?status=false_positive')).toBe(1);

    expect((await api.request(`/api/repositories/${repos[0]!.id}`, { method: 'DELETE', token: user.token })).status).toBe(200);
    expect(await expectSummaryMatchesRepositories(user.id)).toEqual({ repositories: 5, open: 5 });
    expect(await totalOf(user, '/api/repositories')).toBe(5);
    // Every status counts without a filter: 5 open and the false positive.
    expect(await totalOf(user, '/api/vulnerabilities')).toBe(6);
    expect(await totalOf(user, '/api/vulnerabilities?status=open')).toBe(5);

    // The other user's summary never moved.
    expect(await expectSummaryMatchesRepositories(other.id)).toEqual({ repositories: 1, open: 0 });
  });

  it('answers zero totals for a user with no repositories', async () => {
    const user = await api.registerUser();
    expect(await repositorySummaryOf(user.id)).toEqual({ repositories: 0, counts: emptyStatusCounts() });
    expect(await totalOf(user, '/api/repositories')).toBe(0);
    expect(await totalOf(user, '/api/vulnerabilities')).toBe(0);
  });
});
