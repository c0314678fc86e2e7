import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { Services } from '../../../lib/local/stack.ts';
import { auditTrail, saveFindings } from '../../../shared/db/vulnerabilities.ts';
import { addFixPullRequest, connectLocalRepository, finding, localRepoRoot } from './fixtures-b.ts';
import { startApi, type Api, type TestUser } from './support.ts';

jest.setTimeout(60_000);

interface Vuln {
  readonly id: string;
  readonly repositoryId: string;
  readonly severity: string;
  readonly status: string;
  readonly type: string;
  readonly cweId: string;
  readonly fixPullRequest: unknown;
  readonly auditTrail?: { from: string; to: string; reason: string | null; actor: string }[];
}
interface VulnList {
  readonly vulnerabilities: Vuln[];
  readonly total: number;
  readonly page: number;
  readonly perPage: number;
  readonly nextCursor: string | null;
}
interface ErrorBody {
  readonly code: string;
  readonly issues?: { path: string }[];
}

let services: Services;
let api: Api;
let alice: TestUser;
let bob: TestUser;
let repo1: string;
let repo2: string;
let bobRepo: string;

const list = (query: string, user: TestUser = alice) => api.request<VulnList & ErrorBody>(`/api/vulnerabilities?${query}`, { token: user.token });
const xss = (key: string, severity: 'critical' | 'high') => finding(key, { severity, type: 'Cross-Site Scripting', cwe: ['CWE-79'], ruleId: 'javascript.xss' });

beforeAll(async () => {
  localRepoRoot();
  ({ services, api } = await startApi());
  [alice, bob] = await Promise.all([api.registerUser(), api.registerUser()]);
  repo1 = (await connectLocalRepository(api, alice)).id;
  repo2 = (await connectLocalRepository(api, alice)).id;
  bobRepo = (await connectLocalRepository(api, bob)).id;
  const p = randomUUID().slice(0, 6);
  await saveFindings(repo1, randomUUID(), [finding(`${p}a`, { severity: 'critical' }), finding(`${p}b`, { severity: 'high' }), finding(`${p}c`, { severity: 'medium' }), finding(`${p}d`, { severity: 'low' })]);
  await saveFindings(repo2, randomUUID(), [xss(`${p}e`, 'critical'), xss(`${p}f`, 'high')]);
  await saveFindings(bobRepo, randomUUID(), [finding(`${p}g`, { severity: 'critical' })]);
}, 60_000);
afterAll(async () => {
  await services?.stop();
});

describe('GET /api/vulnerabilities', () => {
  it('lists only the caller’s vulnerabilities with their total', async () => {
    const res = await list('');
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(6);
    expect(res.body.vulnerabilities).toHaveLength(6);
    expect(new Set(res.body.vulnerabilities.map((v) => v.repositoryId))).toEqual(new Set([repo1, repo2]));
  });

  it('filters by severity, status, repository, type and CWE, with matching totals', async () => {
    const cases: [string, number][] = [
      ['severity=critical', 2],
      ['severity=critical&status=open', 2],
      ['severity=critical&status=fixed', 0],
      ['status=open', 6],
      [`repositoryId=${repo1}`, 4],
      [`repositoryId=${repo1}&severity=high`, 1],
      ['type=Cross-Site%20Scripting', 2],
      ['cwe=79', 2],
      ['cwe=CWE-89', 4],
      ['severity=high&type=Cross-Site%20Scripting', 1],
    ];
    for (const [query, expected] of cases) {
      const res = await list(query);
      expect([query, res.status, res.body.vulnerabilities.length, res.body.total]).toEqual([query, 200, expected, expected]);
    }
    const critical = await list('severity=critical');
    expect(critical.body.vulnerabilities.every((v) => v.severity === 'critical')).toBe(true);
    const byCwe = await list('cwe=cwe-79');
    expect(byCwe.body.vulnerabilities.every((v) => v.cweId === 'CWE-79')).toBe(true);
  });

  it('pages by cursor without repeats or gaps, and by page number', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: VulnList } = await list(`limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...res.body.vulnerabilities.map((v) => v.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(6);
    expect(new Set(seen).size).toBe(6);
    const second = await list('limit=4&page=2');
    expect(second.body.vulnerabilities.map((v) => v.id)).toEqual(seen.slice(4));
    // A filter evaluated after the key condition still fills the page.
    const filtered = await list('type=SQL%20Injection&limit=3');
    expect(filtered.body.vulnerabilities).toHaveLength(3);
    expect(filtered.body.nextCursor).not.toBeNull();
  });

  it('answers 404 for another user’s repository filter and 400 for malformed filters', async () => {
    const foreign = await list(`repositoryId=${bobRepo}`);
    expect(foreign.status).toBe(404);
    expect(foreign.body.code).toBe('NOT_FOUND');
    for (const query of ['severity=urgent', 'status=closed', 'cwe=abc', 'repositoryId=bad%20id', 'limit=500']) {
      const res = await list(query);
      expect([query, res.status, res.body.code]).toEqual([query, 400, 'VALIDATION_ERROR']);
    }
  });
});

describe('GET /api/vulnerabilities/{id}', () => {
  it('answers the detail with its fix pull request, and 404 to another user', async () => {
    const [target] = (await list(`repositoryId=${repo2}&severity=critical`)).body.vulnerabilities;
    if (!target) throw new Error('no vulnerability');
    const before = await api.request<Vuln>(`/api/vulnerabilities/${target.id}`, { token: alice.token });
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ id: target.id, repositoryId: repo2, type: 'Cross-Site Scripting', cweId: 'CWE-79', fixPullRequest: null, autoFixAvailable: true });
    await addFixPullRequest(target.id, repo2, 321);
    const after = await api.request<Vuln>(`/api/vulnerabilities/${target.id}`, { token: alice.token });
    expect(after.body.fixPullRequest).toEqual({ prNumber: 321, prUrl: 'https://github.com/o/r/pull/321', status: 'created', createdAt: expect.any(String) });
    const foreign = await api.request(`/api/vulnerabilities/${target.id}`, { token: bob.token });
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual({ error: 'Vulnerability not found', code: 'NOT_FOUND' });
    expect((await api.request(`/api/vulnerabilities/${randomUUID()}`, { token: alice.token })).status).toBe(404);
  });
});

describe('PATCH /api/vulnerabilities/{id}/status', () => {
  it('changes the status with an audit trail and recomputes the repository counters', async () => {
    const repo = await connectLocalRepository(api, alice);
    await saveFindings(repo.id, randomUUID(), [finding(randomUUID().slice(0, 8), { severity: 'critical' }), finding(randomUUID().slice(0, 8), { severity: 'low' })]);
    const [critical] = (await list(`repositoryId=${repo.id}&severity=critical`)).body.vulnerabilities;
    if (!critical) throw new Error('no vulnerability');
    const path = `/api/vulnerabilities/${critical.id}/status`;

    const noReason = await api.request<ErrorBody>(path, { method: 'PATCH', token: alice.token, body: { status: 'false_positive' } });
    expect(noReason.status).toBe(400);
    expect(noReason.body.issues?.[0]?.path).toBe('body.reason');

    const foreign = await api.request(path, { method: 'PATCH', token: bob.token, body: { status: 'fixed' } });
    expect(foreign.status).toBe(404);

    const res = await api.request<Vuln>(path, { method: 'PATCH', token: alice.token, body: { status: 'false_positive', reason: 'input is a constant' } });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('false_positive');
    expect(res.body.auditTrail).toEqual([expect.objectContaining({ from: 'open', to: 'false_positive', reason: 'input is a constant', actor: 'user' })]);
    const repoAfter = await api.request<{ criticalCount: number; totalVulnerabilities: number }>(`/api/repositories/${repo.id}`, { token: alice.token });
    expect(repoAfter.body).toMatchObject({ criticalCount: 0, totalVulnerabilities: 1 });
    expect((await list(`repositoryId=${repo.id}&status=false_positive`)).body.total).toBe(1);
    expect((await list('severity=critical&status=false_positive')).body.vulnerabilities.map((v) => v.id)).toContain(critical.id);

    const same = await api.request<Vuln>(path, { method: 'PATCH', token: alice.token, body: { status: 'false_positive', reason: 'again' } });
    expect(same.body.auditTrail).toHaveLength(1);
    const reopened = await api.request<Vuln>(path, { method: 'PATCH', token: alice.token, body: { status: 'open' } });
    expect(reopened.body.auditTrail?.map((c) => c.to)).toEqual(['false_positive', 'open']);
    expect((await api.request<{ criticalCount: number }>(`/api/repositories/${repo.id}`, { token: alice.token })).body.criticalCount).toBe(1);

    for (const body of [{ status: 'closed' }, { reason: 'x' }, { status: 'fixed', reason: '' }, { status: 'fixed', extra: 1 }]) {
      expect((await api.request(path, { method: 'PATCH', token: alice.token, body })).status).toBe(400);
    }
  });
});

describe('saveFindings across scans', () => {
  it('marks fixed what a scan no longer finds, reopens it when found again, and keeps triage decisions', async () => {
    const repo = await connectLocalRepository(api, alice);
    const p = randomUUID().slice(0, 6);
    const [a, b, c] = [finding(`${p}a`), finding(`${p}b`), finding(`${p}c`)];
    const first = await saveFindings(repo.id, randomUUID(), [a, b, c, { ...a }]);
    expect(first).toMatchObject({ new: 3, updated: 0, fixed: 0 });
    const all = (await list(`repositoryId=${repo.id}`)).body.vulnerabilities;
    const idOf = (fp: string) => all.find((v) => (v as Vuln & { filePath: string }).filePath === `src/${fp}.js`)?.id as string;
    await api.request(`/api/vulnerabilities/${idOf(`${p}c`)}/status`, { method: 'PATCH', token: alice.token, body: { status: 'ignored', reason: 'test fixture' } });

    const second = await saveFindings(repo.id, randomUUID(), [a, c]);
    expect(second).toMatchObject({ new: 0, updated: 2, fixed: 1, reopened: 0 });
    expect(second.counters.totalVulnerabilities).toBe(1);
    const gone = await api.request<Vuln>(`/api/vulnerabilities/${idOf(`${p}b`)}`, { token: alice.token });
    expect(gone.body.status).toBe('fixed');
    expect((await api.request<Vuln>(`/api/vulnerabilities/${idOf(`${p}c`)}`, { token: alice.token })).body.status).toBe('ignored');

    const third = await saveFindings(repo.id, randomUUID(), [a, b, c]);
    expect(third).toMatchObject({ new: 0, reopened: 1, updated: 2, fixed: 0 });
    const trail = await auditTrail(idOf(`${p}b`));
    expect(trail.map((t) => [t.from, t.to, t.actor])).toEqual([['open', 'fixed', 'scan'], ['fixed', 'open', 'scan']]);
    expect((await api.request<{ totalVulnerabilities: number }>(`/api/repositories/${repo.id}`, { token: alice.token })).body.totalVulnerabilities).toBe(2);
  });
});
