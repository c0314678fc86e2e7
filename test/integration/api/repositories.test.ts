import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { importSPKI, jwtVerify } from 'jose';
import * as v from 'valibot';
import type { Services } from '../../../lib/local/stack.ts';
import { LOCAL_CREDENTIALS } from '../../../lib/local/provision.ts';
import { getItem } from '../../../shared/db/client.ts';
import { linkGithub } from '../../../shared/db/users.ts';
import { encryptToken } from '../../../shared/runtime/token-crypto.ts';
import { autoScanRepositories, repositoryKey } from '../../../shared/db/repositories.ts';
import { scanKey } from '../../../shared/db/jobs.ts';
import { auditTrail, vulnerabilityKey } from '../../../shared/db/vulnerabilities.ts';
import { ENV } from '../../../shared/platform/declarations.ts';
import { ScanJobSchema } from '../../../shared/runtime/jobs.ts';
import {
  addFixPullRequest,
  connectLocalRepository,
  localRepoRoot,
  makeGitRepository,
  repositoryWithVulnerability,
  seedFindings,
  type RepositoryAnswer,
} from './fixtures-b.ts';
import { startApi, type Api, type TestUser } from './support.ts';

jest.setTimeout(60_000);

interface ErrorBody {
  readonly error: string;
  readonly code: string;
  readonly issues?: { path: string; message: string }[];
  readonly installUrl?: string | null;
}

/** The GitHub App side of GitHub: app JWTs are verified with the App's public key, installation tokens issued. */
class FakeGithubApp {
  readonly keys = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs1', format: 'pem' } });
  readonly installed = new Map<string, { id: number; private: boolean; language: string | null }>();
  /** GitHub accounts (login → id and permission) that can see each repository, by full name. */
  readonly access = new Map<string, Map<string, { id: number; permission: string }>>();
  readonly calls: string[] = [];
  private readonly server = createServer((req, res) => void this.handle(req, res).catch(() => this.send(res, 500, {})));
  base = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private async appAuthenticated(req: IncomingMessage): Promise<boolean> {
    const token = /^bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!token) return false;
    try {
      const { payload } = await jwtVerify(token, await importSPKI(this.keys.publicKey, 'RS256'));
      return payload.iss === '4242';
    } catch {
      return false;
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').replace(/^\/api\/v3/, '');
    this.calls.push(`${req.method} ${path}`);
    const repoInstallation = /^\/repos\/([^/]+)\/([^/]+)\/installation$/.exec(path);
    const tokenRequest = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(path);
    const repoRequest = /^\/repos\/([^/]+)\/([^/]+)$/.exec(path);
    const permissionRequest = /^\/repos\/([^/]+)\/([^/]+)\/collaborators\/([^/]+)\/permission$/.exec(path);
    if (path === '/app' || repoInstallation || tokenRequest) {
      if (!(await this.appAuthenticated(req))) return this.send(res, 401, { message: 'Bad credentials' });
      if (path === '/app') return this.send(res, 200, { id: 4242, slug: 'codeguardian-test' });
      if (tokenRequest) return this.send(res, 201, { token: 'ghs_installationtoken', expires_at: new Date(Date.now() + 3600_000).toISOString() });
      const fullName = `${repoInstallation?.[1]}/${repoInstallation?.[2]}`;
      return this.installed.has(fullName) ? this.send(res, 200, { id: 77, account: { login: repoInstallation?.[1] } }) : this.send(res, 404, { message: 'Not Found' });
    }
    if (permissionRequest) {
      if (req.headers.authorization !== 'token ghs_installationtoken') return this.send(res, 401, { message: 'Bad credentials' });
      const [, owner = '', name = '', login = ''] = permissionRequest;
      if (!this.installed.has(`${owner}/${name}`)) return this.send(res, 404, { message: 'Not Found' });
      // GitHub answers 404 for a login that is no GitHub user, and `none` for a user without access.
      if (login.startsWith('ghost-')) return this.send(res, 404, { message: 'Not Found' });
      const grant = this.access.get(`${owner}/${name}`)?.get(login);
      return this.send(res, 200, { permission: grant?.permission ?? 'none', role_name: grant?.permission ?? 'none', user: { login, id: grant?.id ?? 1 } });
    }
    if (repoRequest) {
      if (req.headers.authorization !== 'token ghs_installationtoken') return this.send(res, 401, { message: 'Bad credentials' });
      const [, owner = '', name = ''] = repoRequest;
      const repo = this.installed.get(`${owner}/${name}`);
      if (!repo) return this.send(res, 404, { message: 'Not Found' });
      return this.send(res, 200, { id: repo.id, name, full_name: `${owner}/${name}`, owner: { login: owner }, private: repo.private, language: repo.language, default_branch: 'trunk' });
    }
    this.send(res, 404, { message: 'Not Found' });
  }
}

const github = new FakeGithubApp();
const ALICE_GITHUB = { id: 5_001, login: 'alice-gh' };
const BOB_GITHUB = { id: 5_002, login: 'bob-gh' };

/** Link a GitHub account to a user as a GitHub sign-in would (the OAuth exchange itself is tested elsewhere). */
async function linkGithubAccount(user: TestUser, account: { id: number; login: string }): Promise<void> {
  await linkGithub(user.id, { ...account, encryptedToken: await encryptToken(`gho_${account.login}`, user.id) });
}
let services: Services;
let api: Api;
let alice: TestUser;
let bob: TestUser;

beforeAll(async () => {
  await github.start();
  github.installed.set('octo-org/service', { id: 987_654, private: true, language: 'TypeScript' });
  github.access.set('octo-org/service', new Map([[ALICE_GITHUB.login, { id: ALICE_GITHUB.id, permission: 'admin' }], [BOB_GITHUB.login, { id: BOB_GITHUB.id, permission: 'read' }]]));
  github.installed.set('octo-org/secret', { id: 987_655, private: true, language: 'Go' });
  github.access.set('octo-org/secret', new Map([[ALICE_GITHUB.login, { id: ALICE_GITHUB.id, permission: 'write' }]]));
  process.env.GITHUB_APP_ID = '4242';
  process.env.GITHUB_APP_PRIVATE_KEY = github.keys.privateKey;
  process.env.GITHUB_API_URL = `${github.base}/api/v3`;
  process.env.GITHUB_URL = 'https://github.example.com';
  delete process.env.GITHUB_APP_SLUG;
  localRepoRoot();
  ({ services, api } = await startApi());
  [alice, bob] = await Promise.all([api.registerUser(), api.registerUser()]);
  await Promise.all([linkGithubAccount(alice, ALICE_GITHUB), linkGithubAccount(bob, BOB_GITHUB)]);
}, 60_000);

afterAll(async () => {
  await services?.stop();
  await github.close();
  for (const name of ['GITHUB_APP_ID', 'GITHUB_APP_PRIVATE_KEY', 'GITHUB_API_URL', 'GITHUB_URL', 'GITHUB_APP_SLUG']) delete process.env[name];
});

const connect = (user: TestUser, body: unknown) => api.request<RepositoryAnswer & ErrorBody>('/api/repositories/connect', { token: user.token, body });

describe('POST /api/repositories/connect with a local path', () => {
  it('connects a git repository under LOCAL_REPO_ROOT and refuses the same one twice', async () => {
    const localPath = makeGitRepository();
    const res = await connect(alice, { localPath });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: localPath, fullName: `local/${localPath}`, provider: 'local', scanStatus: 'never', totalVulnerabilities: 0, securityScore: 100, lastScanAt: null });
    expect(res.body.id).toEqual(expect.any(String));
    const again = await connect(alice, { localPath: `./${localPath}/` });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('REPOSITORY_ALREADY_CONNECTED');
  });

  it('refuses paths outside the root, directly or through a symbolic link', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'codeguardian-outside-'));
    mkdirSync(join(outside, '.git'));
    const link = `link-${randomUUID().slice(0, 8)}`;
    symlinkSync(outside, join(localRepoRoot(), link));
    for (const localPath of ['../', outside, `${link}`, `${link}/.`]) {
      const res = await connect(alice, { localPath });
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ error: expect.any(String), code: 'PATH_OUTSIDE_ROOT' });
    }
  });

  it('refuses a directory that is not a git repository, and a missing path', async () => {
    const plain = `plain-${randomUUID().slice(0, 8)}`;
    mkdirSync(join(localRepoRoot(), plain));
    expect((await connect(alice, { localPath: plain })).body.code).toBe('NOT_A_GIT_REPOSITORY');
    const missing = await connect(alice, { localPath: 'does-not-exist' });
    expect(missing.status).toBe(400);
    expect(missing.body.code).toBe('PATH_NOT_FOUND');
  });

  it('answers malformed bodies with 400 and the field issues, and no token with 401', async () => {
    for (const body of [{}, { fullName: 'a/b', localPath: 'x' }, { fullName: 'not a repo' }, { localPath: 7 }, { localPath: 'x', extra: true }, '[]']) {
      const res = await connect(alice, body);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_ERROR');
      expect(res.body.issues?.length).toBeGreaterThan(0);
    }
    const anonymous = await api.request('/api/repositories/connect', { body: { localPath: makeGitRepository() } });
    expect(anonymous.status).toBe(401);
  });
});

describe('POST /api/repositories/connect with a GitHub repository', () => {
  it('checks the App installation as the App and stores the repository', async () => {
    const res = await connect(alice, { fullName: 'octo-org/service' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ fullName: 'octo-org/service', owner: 'octo-org', name: 'service', private: true, language: 'TypeScript', provider: 'github', defaultBranch: 'trunk' });
    expect(github.calls).toEqual(expect.arrayContaining(['GET /repos/octo-org/service/installation', 'POST /app/installations/77/access_tokens', 'GET /repos/octo-org/service', `GET /repos/octo-org/service/collaborators/${ALICE_GITHUB.login}/permission`]));
    const twice = await connect(alice, { fullName: 'octo-org/service' });
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe('REPOSITORY_ALREADY_CONNECTED');
    // Another user may connect the same repository to their own account.
    expect((await connect(bob, { fullName: 'octo-org/service' })).status).toBe(201);
  });

  it('answers 409 APP_NOT_INSTALLED with the install URL, the slug read from GET /app', async () => {
    const res = await connect(alice, { fullName: 'octo-org/elsewhere' });
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ error: expect.stringContaining('not installed'), code: 'APP_NOT_INSTALLED', installUrl: 'https://github.example.com/apps/codeguardian-test/installations/new' });
  });

  it('answers 404 for a repository the App is installed on that the caller’s GitHub account cannot see, storing nothing', async () => {
    const denied = await connect(bob, { fullName: 'octo-org/secret' });
    expect(denied.status).toBe(404);
    expect(denied.body).toEqual({ error: expect.stringContaining('octo-org/secret'), code: 'REPOSITORY_NOT_FOUND' });
    expect(github.calls).toContain(`GET /repos/octo-org/secret/collaborators/${BOB_GITHUB.login}/permission`);
    // Alice, a collaborator, may; bob still sees none of it.
    const allowed = await connect(alice, { fullName: 'octo-org/secret' });
    expect(allowed.status).toBe(201);
    const bobs = await api.request<{ repositories: RepositoryAnswer[] }>('/api/repositories', { token: bob.token });
    expect(bobs.body.repositories.map((r) => r.fullName)).not.toContain('octo-org/secret');
    expect((await api.request(`/api/repositories/${allowed.body.id}`, { token: bob.token })).status).toBe(404);
  });

  it('refuses a permission answer about another account with the same login, and a login GitHub does not know', async () => {
    const carol = await api.registerUser();
    // Carol's stored link names alice's login with another id: the login was renamed and taken, or the link is stale.
    await linkGithubAccount(carol, { id: 5_003, login: ALICE_GITHUB.login });
    expect((await connect(carol, { fullName: 'octo-org/secret' })).body.code).toBe('REPOSITORY_NOT_FOUND');
    const dave = await api.registerUser();
    await linkGithubAccount(dave, { id: 5_004, login: 'ghost-dave' });
    const res = await connect(dave, { fullName: 'octo-org/service' });
    expect([res.status, res.body.code]).toEqual([404, 'REPOSITORY_NOT_FOUND']);
    expect((await api.request<{ total: number }>('/api/repositories', { token: dave.token })).body.total).toBe(0);
  });

  it('answers 403 GITHUB_NOT_LINKED to a user without a linked GitHub account, before asking GitHub', async () => {
    const erin = await api.registerUser();
    const before = github.calls.length;
    const res = await connect(erin, { fullName: 'octo-org/service' });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: expect.stringContaining('Link your GitHub account'), code: 'GITHUB_NOT_LINKED' });
    expect(github.calls.slice(before)).toEqual([]);
    expect((await api.request<{ total: number }>('/api/repositories', { token: erin.token })).body.total).toBe(0);
  });

  it('takes the slug from GITHUB_APP_SLUG, and answers APP_NOT_INSTALLED when the App is not configured', async () => {
    process.env.GITHUB_APP_SLUG = 'my-guardian';
    delete process.env.GITHUB_APP_ID;
    try {
      const res = await connect(alice, { fullName: 'octo-org/service' });
      expect(res.status).toBe(409);
      expect(res.body).toEqual({ error: expect.stringContaining('not configured'), code: 'APP_NOT_INSTALLED', installUrl: 'https://github.example.com/apps/my-guardian/installations/new' });
    } finally {
      process.env.GITHUB_APP_ID = '4242';
      delete process.env.GITHUB_APP_SLUG;
    }
  });
});

describe('GET /api/repositories', () => {
  it('lists only the caller’s repositories, newest first, by page and by cursor', async () => {
    const user = await api.registerUser();
    const created: string[] = [];
    for (let i = 0; i < 5; i++) created.push((await connectLocalRepository(api, user)).id);
    const newestFirst = [...created].reverse();
    const first = await api.request<{ repositories: { id: string }[]; total: number; page: number; perPage: number; nextCursor: string | null }>('/api/repositories?limit=2', { token: user.token });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ total: 5, page: 1, perPage: 2 });
    expect(first.body.repositories.map((r) => r.id)).toEqual(newestFirst.slice(0, 2));
    const byCursor = await api.request<{ repositories: { id: string }[]; nextCursor: string | null }>(`/api/repositories?limit=2&cursor=${first.body.nextCursor}`, { token: user.token });
    expect(byCursor.body.repositories.map((r) => r.id)).toEqual(newestFirst.slice(2, 4));
    const third = await api.request<{ repositories: { id: string }[]; nextCursor: string | null; page: number }>('/api/repositories?limit=2&page=3', { token: user.token });
    expect(third.body.repositories.map((r) => r.id)).toEqual(newestFirst.slice(4));
    expect(third.body.nextCursor).toBeNull();
    const empty = await api.request<{ repositories: unknown[]; total: number }>('/api/repositories', { token: (await api.registerUser()).token });
    expect(empty.body).toEqual({ repositories: [], total: 0, page: 1, perPage: 20, nextCursor: null });
  });

  it('rejects bad pagination with 400', async () => {
    for (const query of ['limit=0', 'limit=101', 'page=0', 'page=x', 'limit=1.5']) {
      const res = await api.request<ErrorBody>(`/api/repositories?${query}`, { token: alice.token });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_ERROR');
      expect(res.body.issues?.[0]?.path).toMatch(/^query\./);
    }
    const badCursor = await api.request<ErrorBody>('/api/repositories?cursor=bm90LWEta2V5', { token: alice.token });
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.code).toBe('INVALID_CURSOR');
    const both = await api.request<ErrorBody>('/api/repositories?cursor=abc&page=2', { token: alice.token });
    expect(both.body.code).toBe('INVALID_PAGINATION');
  });
});

describe('GET, PATCH settings and statistics of /api/repositories/{id}', () => {
  it('answers the owner and 404 for anyone else, exactly like a missing id', async () => {
    const repo = await connectLocalRepository(api, alice);
    const own = await api.request<RepositoryAnswer>(`/api/repositories/${repo.id}`, { token: alice.token });
    expect(own.status).toBe(200);
    expect(own.body.id).toBe(repo.id);
    for (const path of [`/api/repositories/${repo.id}`, `/api/repositories/${repo.id}/statistics`]) {
      const foreign = await api.request(path, { token: bob.token });
      expect(foreign.status).toBe(404);
      expect(foreign.body).toEqual({ error: 'Repository not found', code: 'NOT_FOUND' });
    }
    const missing = await api.request(`/api/repositories/${randomUUID()}`, { token: bob.token });
    expect(missing.body).toEqual({ error: 'Repository not found', code: 'NOT_FOUND' });
    const malformed = await api.request<ErrorBody>('/api/repositories/not%20an%20id!', { token: alice.token });
    expect(malformed.status).toBe(400);
    expect(malformed.body.issues?.[0]?.path).toBe('params.id');
  });

  it('changes settings, joining and leaving the nightly scans with auto-scan', async () => {
    const repo = await connectLocalRepository(api, alice);
    expect((await autoScanRepositories()).map((r) => r.id)).toContain(repo.id);
    const res = await api.request<RepositoryAnswer>(`/api/repositories/${repo.id}/settings`, {
      method: 'PATCH',
      token: alice.token,
      body: { autoScanEnabled: false, autoFixEnabled: true, scanBranches: ['main', 'release/1.x'], severityThreshold: 'high' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ autoScanEnabled: false, autoFixEnabled: true, scanBranches: ['main', 'release/1.x'], severityThreshold: 'high' });
    expect((await autoScanRepositories()).map((r) => r.id)).not.toContain(repo.id);
    const foreign = await api.request(`/api/repositories/${repo.id}/settings`, { method: 'PATCH', token: bob.token, body: { autoFixEnabled: false } });
    expect(foreign.status).toBe(404);
    expect((await api.request<RepositoryAnswer>(`/api/repositories/${repo.id}`, { token: alice.token })).body.autoFixEnabled).toBe(true);
    for (const body of [{}, { severityThreshold: 'urgent' }, { scanBranches: [] }, { scanBranches: ['a..b'] }, { autoScanEnabled: 'yes' }, { unknown: 1 }]) {
      const bad = await api.request<ErrorBody>(`/api/repositories/${repo.id}/settings`, { method: 'PATCH', token: alice.token, body });
      expect(bad.status).toBe(400);
      expect(bad.body.code).toBe('VALIDATION_ERROR');
    }
  });

  it('counts vulnerabilities by status, severity, type and file', async () => {
    const repo = await connectLocalRepository(api, alice);
    await seedFindings(repo.id, ['critical', 'high', 'high', 'low']);
    const res = await api.request<Record<string, unknown>>(`/api/repositories/${repo.id}/statistics`, { token: alice.token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      repositoryId: repo.id,
      totalVulnerabilities: 4,
      openBySeverity: { critical: 1, high: 2, medium: 0, low: 1, info: 0 },
      byStatus: { open: 4, fixed: 0, false_positive: 0, ignored: 0 },
      topTypes: [{ type: 'SQL Injection', count: 4 }],
      scans: { total: 0, queued: 0, scanning: 0, completed: 0, failed: 0 },
    });
    expect(res.body.securityScore).toBeLessThan(100);
    const listed = await api.request<{ repositories: { id: string; criticalCount: number; highCount: number; lowCount: number }[] }>('/api/repositories?limit=100', { token: alice.token });
    expect(listed.body.repositories.find((r) => r.id === repo.id)).toMatchObject({ criticalCount: 1, highCount: 2, lowCount: 1 });
  });
});

describe('POST /api/repositories/{id}/scan', () => {
  it('answers 202 with the queued scan and puts the job on the scan-jobs queue', async () => {
    const repo = await connectLocalRepository(api, alice);
    const res = await api.request<{ id: string; status: string; repositoryId: string; trigger: string; branch: string }>(`/api/repositories/${repo.id}/scan`, { token: alice.token, body: { branch: 'feature/x' } });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'queued', repositoryId: repo.id, trigger: 'manual', branch: 'feature/x' });
    const sqs = new SQSClient({ region: services.env.AWS_REGION, endpoint: services.env.AWS_ENDPOINT_URL_SQS, credentials: LOCAL_CREDENTIALS });
    const queueUrl = services.env[ENV.scanJobsQueueUrl];
    let job: v.InferOutput<typeof ScanJobSchema> | undefined;
    for (let i = 0; i < 20 && !job; i++) {
      const answer = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      for (const message of answer.Messages ?? []) {
        const parsed = v.parse(ScanJobSchema, JSON.parse(message.Body ?? '{}'));
        if (parsed.scanId !== res.body.id) continue;
        job = parsed;
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
      }
    }
    sqs.destroy();
    expect(job).toEqual({ scanId: res.body.id, repositoryId: repo.id, userId: alice.id, trigger: 'manual', branch: 'feature/x' });
    const after = await api.request<{ scanStatus: string; lastScanId: string }>(`/api/repositories/${repo.id}`, { token: alice.token });
    expect(after.body).toMatchObject({ scanStatus: 'queued', lastScanId: res.body.id });
  });

  it('stops at the daily quota of the free tier with 429 SCAN_QUOTA_EXCEEDED and Retry-After', async () => {
    const user = await api.registerUser();
    const repo = await connectLocalRepository(api, user);
    process.env.RATE_LIMIT_FREE_TIER = '2';
    try {
      for (let i = 0; i < 2; i++) expect((await api.request(`/api/repositories/${repo.id}/scan`, { token: user.token, body: {} })).status).toBe(202);
      const over = await api.request<ErrorBody>(`/api/repositories/${repo.id}/scan`, { token: user.token, body: {} });
      expect(over.status).toBe(429);
      expect(over.body.code).toBe('SCAN_QUOTA_EXCEEDED');
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
      const scans = await api.request<{ total: number }>(`/api/scans?repositoryId=${repo.id}`, { token: user.token });
      expect(scans.body.total).toBe(2);
    } finally {
      delete process.env.RATE_LIMIT_FREE_TIER;
    }
  });

  it('refuses another user’s repository with 404 and a bad branch with 400, queueing nothing', async () => {
    const repo = await connectLocalRepository(api, alice);
    expect((await api.request(`/api/repositories/${repo.id}/scan`, { token: bob.token, body: {} })).status).toBe(404);
    expect((await api.request(`/api/repositories/${repo.id}/scan`, { token: alice.token, body: { branch: '' } })).status).toBe(400);
    const scans = await api.request<{ total: number }>(`/api/scans?repositoryId=${repo.id}`, { token: alice.token });
    expect(scans.body.total).toBe(0);
  });
});

describe('DELETE /api/repositories/{id}', () => {
  it('removes the repository with its vulnerabilities, audit trail, fix records and scans', async () => {
    const { repositoryId, vulnerabilityId } = await repositoryWithVulnerability(api, alice);
    await addFixPullRequest(vulnerabilityId, repositoryId);
    const patched = await api.request(`/api/vulnerabilities/${vulnerabilityId}/status`, { method: 'PATCH', token: alice.token, body: { status: 'ignored', reason: 'vendored' } });
    expect(patched.status).toBe(200);
    const scan = await api.request<{ id: string }>(`/api/repositories/${repositoryId}/scan`, { token: alice.token, body: {} });
    expect(scan.status).toBe(202);

    const foreign = await api.request(`/api/repositories/${repositoryId}`, { method: 'DELETE', token: bob.token });
    expect(foreign.status).toBe(404);
    expect(await getItem(repositoryKey(repositoryId))).toBeDefined();

    const res = await api.request(`/api/repositories/${repositoryId}`, { method: 'DELETE', token: alice.token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: repositoryId, deleted: true, vulnerabilitiesRemoved: 1, scansRemoved: 1 });
    expect(await getItem(repositoryKey(repositoryId))).toBeUndefined();
    expect(await getItem(vulnerabilityKey(vulnerabilityId))).toBeUndefined();
    expect(await auditTrail(vulnerabilityId)).toEqual([]);
    expect(await getItem(scanKey(scan.body.id))).toBeUndefined();
    expect((await autoScanRepositories()).map((r) => r.id)).not.toContain(repositoryId);
    expect((await api.request(`/api/repositories/${repositoryId}`, { token: alice.token })).status).toBe(404);
    expect((await api.request(`/api/vulnerabilities/${vulnerabilityId}`, { token: alice.token })).status).toBe(404);
    expect((await api.request(`/api/repositories/${repositoryId}`, { method: 'DELETE', token: alice.token })).status).toBe(404);
  });

  it('lets the same path be connected again once disconnected', async () => {
    const name = makeGitRepository();
    const first = await connect(alice, { localPath: name });
    expect((await api.request(`/api/repositories/${first.body.id}`, { method: 'DELETE', token: alice.token })).status).toBe(200);
    expect((await connect(alice, { localPath: name })).status).toBe(201);
  });
});
