import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Finding, Severity } from '../../../shared/analysis/types.ts';
import { recordFixPullRequest } from '../../../shared/db/fix-pull-requests.ts';
import { createRepository, type Repository } from '../../../shared/db/repositories.ts';
import { newRepository } from '../../../shared/api/repositories.ts';
import { completeScan, findScan } from '../../../shared/db/scans.ts';
import { saveFindings } from '../../../shared/db/vulnerabilities.ts';
import { saveScanReports } from '../../../shared/api/scan-reports.ts';
import type { Api, PreparedRequest, RouteFixtures, TestUser } from './support.ts';
import { aiRouteFixtures } from '../llm/ai-fixtures.ts';
import { fixRouteFixtures } from '../fixes/route-fixtures.ts';
import { webhookRouteFixtures } from '../webhooks/route-fixtures.ts';

// Resources of the repositories, vulnerabilities, scans, dashboard and second-seed routes, made through the API
// where a route exists and through the data layer the scan pipeline uses where it does not (findings, reports).

/** LOCAL_REPO_ROOT for this test process: a temporary directory, created once. */
export function localRepoRoot(): string {
  if (!process.env.LOCAL_REPO_ROOT) process.env.LOCAL_REPO_ROOT = mkdtempSync(join(tmpdir(), 'codeguardian-repos-'));
  return process.env.LOCAL_REPO_ROOT;
}

/** A fresh `git init` working tree under LOCAL_REPO_ROOT; returns its path relative to the root. */
export function makeGitRepository(name = `repo-${randomUUID().slice(0, 8)}`): string {
  const dir = join(localRepoRoot(), name);
  mkdirSync(dir, { recursive: true });
  execFileSync('git', ['init', '--quiet', dir]);
  return name;
}

export interface RepositoryAnswer {
  readonly id: string;
  readonly fullName: string;
  readonly [key: string]: unknown;
}

/** Connect a new local git repository for `user` through `POST /api/repositories/connect`. */
export async function connectLocalRepository(api: Api, user: Pick<TestUser, 'token'>, name?: string): Promise<RepositoryAnswer> {
  const localPath = makeGitRepository(name);
  const res = await api.request<RepositoryAnswer>('/api/repositories/connect', { token: user.token, body: { localPath } });
  if (res.status !== 201) throw new Error(`connect answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** A scanner finding with sensible defaults; `key` makes the fingerprint (and the code) distinct. */
export function finding(key: string, overrides: Partial<Finding> = {}): Finding {
  return {
    ruleId: 'javascript.sql-injection',
    kind: 'rule',
    type: 'SQL Injection',
    message: 'User input concatenated into a SQL query',
    severity: 'high',
    confidence: 'high',
    cwe: ['CWE-89'],
    owasp: 'A03:2021-Injection',
    cvss: 8.1,
    location: { path: `src/${key}.js`, startLine: 10, startColumn: 3, endLine: 10, endColumn: 40 },
    snippet: `db.query('SELECT * FROM t WHERE id=' + ${key})`,
    fingerprint: `fp-${key}`,
    fix: { description: 'Use a parameterised query', edits: [] },
    ...overrides,
  };
}

/** Findings of the given severities, as one scan of `repositoryId` would persist them; returns the scan id used. */
export async function seedFindings(repositoryId: string, severities: readonly Severity[], prefix = randomUUID().slice(0, 8)): Promise<string> {
  const scanId = randomUUID();
  await saveFindings(repositoryId, scanId, severities.map((severity, i) => finding(`${prefix}-${i}`, { severity })));
  return scanId;
}

interface VulnerabilityAnswer {
  readonly id: string;
}

/** A repository of `user` with one open vulnerability; returns both ids. */
export async function repositoryWithVulnerability(api: Api, user: Pick<TestUser, 'token'>, severity: Severity = 'critical') {
  const repo = await connectLocalRepository(api, user);
  await seedFindings(repo.id, [severity]);
  const list = await api.request<{ vulnerabilities: VulnerabilityAnswer[] }>(`/api/vulnerabilities?repositoryId=${repo.id}`, { token: user.token });
  const vulnerability = list.body.vulnerabilities[0];
  if (!vulnerability) throw new Error(`no vulnerability listed: ${JSON.stringify(list.body)}`);
  return { repositoryId: repo.id, vulnerabilityId: vulnerability.id };
}

/** Give a vulnerability a fix pull request record (what the fix pipeline writes). */
export async function addFixPullRequest(vulnerabilityId: string, repositoryId: string, prNumber = 123) {
  return recordFixPullRequest({ vulnerabilityId, repositoryId, prNumber, prUrl: `https://github.com/o/r/pull/${prNumber}`, status: 'created' });
}

interface ScanAnswer {
  readonly id: string;
}

/** Queue a scan of a new repository of `user` through the API; returns the scan and repository ids. */
export async function queuedScan(api: Api, user: Pick<TestUser, 'token'>) {
  const repo = await connectLocalRepository(api, user);
  const res = await api.request<ScanAnswer>(`/api/repositories/${repo.id}/scan`, { token: user.token, body: {} });
  if (res.status !== 202) throw new Error(`scan answered ${res.status}: ${JSON.stringify(res.body)}`);
  return { scanId: res.body.id, repositoryId: repo.id };
}

/** Complete a queued scan with findings and its JSON and SARIF reports, as the scan pipeline will. */
export async function completeWithReports(scanId: string, findings: readonly Finding[]): Promise<void> {
  const scan = await findScan(scanId);
  if (!scan) throw new Error(`no scan ${scanId}`);
  const saved = await saveFindings(scan.repositoryId, scanId, findings);
  const result = { findings: [...findings], suppressed: [], filesScanned: 3, linesScanned: 120, skipped: [], errors: [], durationMs: 42, rulesetVersion: 'test' };
  const reports = await saveScanReports(scanId, result, '0.1.0');
  const counts = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
  for (const f of findings) counts[f.severity] += 1;
  await completeScan(scanId, { ...counts, total: findings.length, new: saved.new, fixed: saved.fixed }, reports);
}

/**
 * A connected GitHub repository of `userId`, written as the connect route writes it once the App installation
 * was confirmed (the API tests of connect itself run against a fake GitHub).
 */
export async function githubRepositoryOf(userId: string): Promise<Repository> {
  const name = `repo-${randomUUID().slice(0, 8)}`;
  const repo = newRepository(userId, {
    name,
    fullName: `octo-org/${name}`,
    owner: 'octo-org',
    private: false,
    language: 'JavaScript',
    defaultBranch: 'main',
    githubRepoId: Math.floor(Math.random() * 1e9),
    installationId: 42,
  });
  await createRepository(repo);
  return repo;
}

const withParams = (params: Record<string, string>, rest: Omit<PreparedRequest, 'params'> = {}): PreparedRequest => ({ params, ...rest });

/**
 * A valid request per route of these areas, for `owner`: the cross-route table uses them to prove that another
 * user's ids answer 404 and that every protected route needs a valid token.
 */
export const routeFixtures: RouteFixtures = {
  'GET /api/repositories': { prepare: async () => ({ query: { limit: '10' } }) },
  'POST /api/repositories/connect': { prepare: async () => ({ body: { localPath: makeGitRepository() } }) },
  'GET /api/repositories/{id}': { prepare: async (api, owner) => withParams({ id: (await connectLocalRepository(api, owner)).id }) },
  'DELETE /api/repositories/{id}': { prepare: async (api, owner) => withParams({ id: (await connectLocalRepository(api, owner)).id }) },
  'PATCH /api/repositories/{id}/settings': {
    prepare: async (api, owner) => withParams({ id: (await connectLocalRepository(api, owner)).id }, { body: { autoFixEnabled: true, severityThreshold: 'high' } }),
  },
  'POST /api/repositories/{id}/scan': { prepare: async (api, owner) => withParams({ id: (await connectLocalRepository(api, owner)).id }, { body: {} }) },
  'GET /api/repositories/{id}/statistics': { prepare: async (api, owner) => withParams({ id: (await connectLocalRepository(api, owner)).id }) },
  'GET /api/vulnerabilities': { prepare: async () => ({ query: { severity: 'critical', status: 'open' } }) },
  'GET /api/vulnerabilities/{id}': { prepare: async (api, owner) => withParams({ id: (await repositoryWithVulnerability(api, owner)).vulnerabilityId }) },
  'PATCH /api/vulnerabilities/{id}/status': {
    prepare: async (api, owner) =>
      withParams({ id: (await repositoryWithVulnerability(api, owner)).vulnerabilityId }, { body: { status: 'false_positive', reason: 'test code only' } }),
  },
  'GET /api/scans': { prepare: async () => ({ query: { limit: '5' } }) },
  'GET /api/scans/{id}': { prepare: async (api, owner) => withParams({ id: (await queuedScan(api, owner)).scanId }) },
  'GET /api/scans/{id}/report': {
    prepare: async (api, owner) => {
      const { scanId } = await queuedScan(api, owner);
      await completeWithReports(scanId, [finding(randomUUID().slice(0, 8))]);
      return withParams({ id: scanId }, { query: { format: 'sarif' } });
    },
  },
  'POST /api/scans/bulk': { prepare: async (api, owner) => ({ body: { repositoryIds: [(await connectLocalRepository(api, owner)).id] } }) },
  'GET /api/dashboard/stats': { prepare: async () => ({}) },
  'GET /api/dashboard/activity': { prepare: async () => ({ query: { limit: '10' } }) },
  'GET /api/dashboard/trends': { prepare: async () => ({ query: { period: '7d' } }) },
  'GET /api/dashboard/risk-score': { prepare: async () => ({}) },
  'POST /api/scan': {
    prepare: async (_api, owner) => {
      const repo = await githubRepositoryOf(owner.id);
      return { body: { repoUrl: `https://github.com/${repo.fullName}`, branch: 'main' } };
    },
  },
  'GET /api/scan/{scanId}': { prepare: async (api, owner) => withParams({ scanId: (await queuedScan(api, owner)).scanId }) },
  ...aiRouteFixtures,
  ...webhookRouteFixtures,
  ...fixRouteFixtures,
};
