import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sign } from '@octokit/webhooks-methods';
import type { Services } from '../../../lib/local/stack.ts';
import { auditTrail, type Vulnerability } from '../../../shared/db/vulnerabilities.ts';
import { handleClosedPullRequest } from '../../../shared/fix/pull-requests.ts';
import { startConverseServer, toolReply, type ConverseServer } from '../../support/converse-server.ts';
import { FakeGitHub, type FakeRepo } from '../../support/fake-github/server.ts';
import { installGitData, type GitData } from '../../support/fake-github/git-data.ts';
import { startApi, type Api, type TestUser } from '../api/support.ts';
import { eventually } from '../support/local-services.ts';
import { connectFakeRepository, consumeQueued, openEventFeed, runFixJob, seedScan, type EventFeed } from './support.ts';

// Acceptance of validated fix pull requests on the local stack: the API queues the fix, the real fix workflow
// runs on the local runner against the fake GitHub (Git Data API) or a local git repository, and the owner's
// socket sees the events.

const HASH_JS = `const crypto = require('crypto');

function digest(value) {
  return crypto.createHash('md5').update(value).digest('hex');
}

module.exports = { digest };
`;

const EVAL_JS = `const express = require('express');
const app = express();

app.get('/calc', (req, res) => {
  const expression = req.query.expression;
  res.json({ result: eval(expression) });
});

module.exports = app;
`;

let gh: FakeGitHub;
let git: GitData;
let converse: ConverseServer;
let services: Services;
let api: Api;
let owner: TestUser;
let intruder: TestUser;
let feed: EventFeed;
let intruderFeed: EventFeed;
const repoRoot = mkdtempSync(join(tmpdir(), 'codeguardian-fix-repos-'));

beforeAll(async () => {
  gh = await FakeGitHub.start();
  git = installGitData(gh);
  converse = await startConverseServer();
  Object.assign(process.env, gh.env(), { LOCAL_REPO_ROOT: repoRoot, AWS_ENDPOINT_URL_BEDROCK_RUNTIME: converse.endpoint });
  delete process.env.BEDROCK_MODEL_ID;
  ({ services, api } = await startApi());
  owner = await api.registerUser();
  intruder = await api.registerUser();
  feed = await openEventFeed(services, owner.token);
  intruderFeed = await openEventFeed(services, intruder.token);
}, 60_000);

afterAll(async () => {
  feed?.close();
  intruderFeed?.close();
  await services?.stop();
  await gh?.close();
  await converse?.close();
});

const detail = (id: string, token = owner.token) => api.request<Record<string, unknown>>(`/api/vulnerabilities/${id}`, { token });
const requestFix = (id: string, token = owner.token) => api.request<Record<string, unknown>>(`/api/vulnerabilities/${id}/fix`, { method: 'POST', token });

async function githubRepository(name: string, files: Record<string, string>) {
  const fake = gh.addRepository({ owner: 'octo-org', name, files: { 'README.md': '# app\n', ...files } });
  const repo = await connectFakeRepository(owner.id, fake);
  const vulns = await seedScan(repo, fake.headSha(), files);
  return { fake, repo, vulns };
}

const byRule = (vulns: readonly Vulnerability[], ruleId: string): Vulnerability => {
  const found = vulns.find((v) => v.ruleId === ruleId);
  if (!found) throw new Error(`no ${ruleId} among ${vulns.map((v) => v.ruleId).join(', ')}`);
  return found;
};

describe('a fix on GitHub', () => {
  let fake: FakeRepo;
  let vuln: Vulnerability;
  let prNumber: number;

  it('opens a pull request on codeguardian-fix-<vulnId> with one commit changing one file, and tells the owner', async () => {
    const setup = await githubRepository('hash-app', { 'src/digest.js': HASH_JS });
    fake = setup.fake;
    vuln = byRule(setup.vulns, 'javascript.weak-hash');
    const scannedSha = fake.headSha();

    const queued = await requestFix(vuln.id);
    expect(queued.status).toBe(202);
    expect(queued.body).toEqual({ fixId: expect.any(String), status: 'queued', vulnerabilityId: vuln.id });
    const execution = await runFixJob(services, queued.body.fixId as string);
    expect(execution.status).toBe('SUCCEEDED');

    const pulls = git.pulls(fake.fullName);
    expect(pulls).toHaveLength(1);
    const pr = pulls[0]!;
    prNumber = pr.number;
    expect(pr.head).toBe(`codeguardian-fix-${vuln.id}`);
    expect(pr.base).toBe('main');
    expect(pr.title).toBe('🔒 Security Fix: Weak Hashing');
    expect(git.changedPaths(fake.fullName, pr.number)).toEqual(['src/digest.js']);
    const commit = fake.commits.get(pr.headSha)!;
    expect(commit.parents).toEqual([scannedSha]);
    const fixed = commit.tree.get('src/digest.js')!.toString('utf8');
    expect(fixed).toContain("createHash('sha256')");
    expect(fixed).not.toContain('md5');
    expect(pr.body).toContain('### Explanation');
    expect(pr.body).toContain("-  return crypto.createHash('md5')");
    expect(pr.body).toContain("+  return crypto.createHash('sha256')");
    expect(pr.body).toContain('no longer reports this finding');
    expect(pr.body).toMatch(/### Confidence\n\n\d+ %/);
    // Only Git Data endpoints wrote: no contents API writes.
    expect(gh.requestsTo('PUT', /\/contents\//)).toEqual([]);

    const prUrl = `${gh.baseUrl}/${fake.fullName}/pull/${pr.number}`;
    const applied = await eventually(() => feed.events.find((e) => e.event === 'fix:applied' && e.data.vulnId === vuln.id));
    expect(applied.data).toEqual({ vulnId: vuln.id, prUrl, confidence: expect.any(Number) });
    expect(intruderFeed.events.filter((e) => e.event === 'fix:applied')).toEqual([]);

    const shown = await detail(vuln.id);
    expect(shown.body).toMatchObject({ status: 'open', fixPullRequest: { prNumber: pr.number, prUrl, status: 'created' }, fix: { status: 'proposed', reason: null } });
  }, 60_000);

  it('refuses a second fix while the pull request is open, and other users, without queueing anything', async () => {
    const again = await requestFix(vuln.id);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'FIX_PR_ALREADY_OPEN', error: expect.stringContaining(`#${prNumber}`) });
    const foreign = await requestFix(vuln.id, intruder.token);
    expect(foreign.status).toBe(404);
    expect(foreign.body).toMatchObject({ code: 'NOT_FOUND' });
    expect((await detail(vuln.id, intruder.token)).status).toBe(404);
    expect(git.pulls(fake.fullName)).toHaveLength(1);
  });

  it('marks the vulnerability fixed when the merged webhook arrives, once, with pr:merged to the owner', async () => {
    const payload = git.merge(fake.fullName, prNumber);
    expect(payload).toMatchObject({ action: 'closed', pull_request: { merged: true, head: { ref: `codeguardian-fix-${vuln.id}` } } });
    const body = JSON.stringify(payload);
    const deliveryId = randomUUID();
    const deliver = () =>
      api.request('/api/webhooks/github/pr', {
        body,
        headers: { 'x-github-event': 'pull_request', 'x-github-delivery': deliveryId, 'x-hub-signature-256': signature },
      });
    const signature = await sign(gh.webhookSecret, body);
    const received = await deliver();
    expect(received.status).toBeLessThan(300);
    await consumeQueued(services, 'githubEvents', (message) => message.deliveryId === deliveryId);

    const shown = await detail(vuln.id);
    expect(shown.body).toMatchObject({ status: 'fixed', fixPullRequest: { prNumber, status: 'merged' } });
    await eventually(() => feed.events.find((e) => e.event === 'pr:merged' && e.data.vulnId === vuln.id));

    // A redelivery, and a second settlement of the same pull request, change nothing and send nothing.
    expect((await deliver()).status).toBeLessThan(300);
    await handleClosedPullRequest(payload);
    const trail = await auditTrail(vuln.id);
    expect(trail.map((c) => [c.from, c.to, c.reason])).toEqual([['open', 'fixed', `Fix pull request #${prNumber} merged`]]);
    expect(feed.events.filter((e) => e.event === 'pr:merged' && e.data.vulnId === vuln.id)).toHaveLength(1);
    expect(intruderFeed.events.filter((e) => e.event === 'pr:merged')).toEqual([]);
    expect((await requestFix(vuln.id)).body).toMatchObject({ code: 'VULNERABILITY_NOT_OPEN' });
  });

  it('keeps a declined fix open and does not propose it again for the same code', async () => {
    const setup = await githubRepository('declined-app', { 'lib/hash.js': HASH_JS });
    const declined = byRule(setup.vulns, 'javascript.weak-hash');
    const queued = await requestFix(declined.id);
    expect(queued.status).toBe(202);
    await runFixJob(services, queued.body.fixId as string);
    const [pr] = git.pulls(setup.fake.fullName);
    await handleClosedPullRequest(git.close(setup.fake.fullName, pr!.number));

    const shown = await detail(declined.id);
    expect(shown.body).toMatchObject({ status: 'open', fixPullRequest: { status: 'closed' } });
    await eventually(() => feed.events.find((e) => e.event === 'pr:closed' && e.data.vulnId === declined.id));
    const again = await requestFix(declined.id);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'FIX_DECLINED' });
  }, 60_000);

  it('ignores closed pull requests that are not fix pull requests of that repository', async () => {
    const setup = await githubRepository('other-app', { 'src/digest.js': HASH_JS });
    const target = byRule(setup.vulns, 'javascript.weak-hash');
    const queued = await requestFix(target.id);
    await runFixJob(services, queued.body.fixId as string);
    const [pr] = git.pulls(setup.fake.fullName);
    const payload = git.close(setup.fake.fullName, pr!.number);
    // The same branch and number, but another GitHub repository: nothing changes.
    await handleClosedPullRequest({ ...payload, repository: { ...payload.repository, id: payload.repository.id + 1 } });
    await handleClosedPullRequest({ ...payload, pull_request: { ...payload.pull_request, head: { ...payload.pull_request.head, ref: 'feature/x' } } });
    expect((await detail(target.id)).body).toMatchObject({ status: 'open', fixPullRequest: { status: 'created' } });
  }, 60_000);
});

describe('a fix that fails validation', () => {
  it('is not proposed and its reason shows on the vulnerability', async () => {
    const { fake, vulns } = await githubRepository('eval-app', { 'src/calc.js': EVAL_JS });
    const vuln = byRule(vulns, 'javascript.taint.code-injection');

    // No rewrite exists for eval and no model is configured: nothing to queue.
    const refused = await requestFix(vuln.id);
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ code: 'NO_FIX_AVAILABLE' });

    // A model that answers with code that does not parse.
    process.env.BEDROCK_MODEL_ID = 'anthropic.claude-test';
    try {
      converse.script(toolReply('propose_fix', { startLine: 6, endLine: 6, replacement: '  res.json({ result: safeEval(expression) ;', explanation: 'Evaluate safely', confidence: 0.7 }));
      const queued = await requestFix(vuln.id);
      expect(queued.status).toBe(202);
      const execution = await runFixJob(services, queued.body.fixId as string);
      expect(execution.status).toBe('SUCCEEDED');
    } finally {
      delete process.env.BEDROCK_MODEL_ID;
    }
    expect(git.pulls(fake.fullName)).toEqual([]);
    expect(gh.requestsTo('POST', new RegExp(`/repos/${fake.fullName}/git/`))).toEqual([]);
    const shown = await detail(vuln.id);
    expect(shown.body).toMatchObject({
      status: 'open',
      fixPullRequest: null,
      fix: { status: 'not_proposed', code: 'PARSE_ERROR', reason: expect.stringContaining('did not pass validation') },
    });
    expect(feed.events.filter((e) => e.event === 'fix:applied' && e.data.vulnId === vuln.id)).toEqual([]);
  }, 60_000);
});

describe('limits per repository', () => {
  it('hold open fix pull requests and fix pull requests per day', async () => {
    const files = { 'a/one.js': HASH_JS, 'b/two.js': HASH_JS, 'c/three.js': HASH_JS };
    const { fake, vulns } = await githubRepository('busy-app', files);
    const [first, second, third] = ['a/one.js', 'b/two.js', 'c/three.js'].map((p) => vulns.find((v) => v.filePath === p)!);
    process.env.FIX_PR_MAX_OPEN = '1';
    process.env.FIX_PR_MAX_PER_DAY = '2';
    try {
      const queued = await requestFix(first!.id);
      await runFixJob(services, queued.body.fixId as string);
      const open = await requestFix(second!.id);
      expect(open.status).toBe(409);
      expect(open.body).toMatchObject({ code: 'OPEN_FIX_PR_LIMIT', error: expect.stringContaining('limit 1') });

      await handleClosedPullRequest(git.merge(fake.fullName, git.pulls(fake.fullName)[0]!.number));
      const queuedSecond = await requestFix(second!.id);
      expect(queuedSecond.status).toBe(202);
      await runFixJob(services, queuedSecond.body.fixId as string);
      await handleClosedPullRequest(git.merge(fake.fullName, git.pulls(fake.fullName)[1]!.number));

      const daily = await requestFix(third!.id);
      expect(daily.status).toBe(429);
      expect(daily.body).toMatchObject({ code: 'DAILY_FIX_PR_LIMIT' });
      expect(Number(daily.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(git.pulls(fake.fullName)).toHaveLength(2);
    } finally {
      delete process.env.FIX_PR_MAX_OPEN;
      delete process.env.FIX_PR_MAX_PER_DAY;
    }
  }, 90_000);

  it('hold for a burst of fix workflows of one repository running at the same time', async () => {
    const paths = ['a/one.js', 'b/two.js', 'c/three.js', 'd/four.js', 'e/five.js'];
    const { fake, vulns } = await githubRepository('burst-app', Object.fromEntries(paths.map((p) => [p, HASH_JS])));
    const targets = paths.map((p) => vulns.find((v) => v.filePath === p)!);
    process.env.FIX_PR_MAX_OPEN = '2';
    try {
      // Every request sees no open pull request yet, so all five are queued.
      const fixIds: string[] = [];
      for (const target of targets) {
        const queued = await requestFix(target.id);
        expect(queued.status).toBe(202);
        fixIds.push(queued.body.fixId as string);
      }
      const executions = await Promise.all(fixIds.map((fixId) => runFixJob(services, fixId)));
      expect(executions.map((e) => e.status)).toEqual(fixIds.map(() => 'SUCCEEDED'));
      expect(git.pulls(fake.fullName)).toHaveLength(2);
      const fixes = await Promise.all(targets.map(async (target) => (await detail(target.id)).body.fix as { status: string; code?: string }));
      expect(fixes.filter((f) => f.status === 'proposed')).toHaveLength(2);
      expect(fixes.filter((f) => f.status === 'not_proposed').map((f) => f.code)).toEqual(['OPEN_FIX_PR_LIMIT', 'OPEN_FIX_PR_LIMIT', 'OPEN_FIX_PR_LIMIT']);
    } finally {
      delete process.env.FIX_PR_MAX_OPEN;
    }
  }, 120_000);
});

describe('a fix in a connected local repository', () => {
  const dir = join(repoRoot, 'local-app');
  const run = (...args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim();
  let vulns: Vulnerability[];
  let base: string;

  beforeAll(async () => {
    mkdirSync(join(dir, 'src'), { recursive: true });
    run('init', '--quiet', '--initial-branch=main');
    writeFileSync(join(dir, 'src/digest.js'), HASH_JS);
    writeFileSync(join(dir, 'src/checksum.js'), HASH_JS);
    run('add', '.');
    run('-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', 'commit', '--quiet', '-m', 'initial');
    base = run('rev-parse', 'HEAD');
    // Uncommitted work in progress must survive.
    writeFileSync(join(dir, 'notes.txt'), 'work in progress\n');
    const connected = await api.request<{ id: string }>('/api/repositories/connect', { token: owner.token, body: { localPath: 'local-app' } });
    expect(connected.status).toBe(201);
    const { findRepository } = await import('../../../shared/db/repositories.ts');
    const repo = (await findRepository(connected.body.id))!;
    vulns = (await seedScan(repo, base, { 'src/digest.js': HASH_JS, 'src/checksum.js': HASH_JS })).filter((v) => v.ruleId === 'javascript.weak-hash');
    expect(vulns.map((v) => v.filePath).sort()).toEqual(['src/checksum.js', 'src/digest.js']);
  }, 60_000);

  const vulnIn = (path: string) => vulns.find((v) => v.filePath === path)!;

  it('is one commit on its own branch; the working tree and current branch are untouched', async () => {
    const vuln = vulnIn('src/digest.js');
    const queued = await requestFix(vuln.id);
    expect(queued.status).toBe(202);
    expect((await runFixJob(services, queued.body.fixId as string)).status).toBe('SUCCEEDED');

    const branch = `codeguardian-fix-${vuln.id}`;
    expect(run('rev-list', '--count', `${base}..${branch}`)).toBe('1');
    expect(run('rev-parse', `${branch}^`)).toBe(base);
    expect(run('diff', '--name-only', base, branch)).toBe('src/digest.js');
    expect(run('show', `${branch}:src/digest.js`)).toContain("createHash('sha256')");
    expect(run('symbolic-ref', '--short', 'HEAD')).toBe('main');
    expect(run('rev-parse', 'HEAD')).toBe(base);
    expect(readFileSync(join(dir, 'src/digest.js'), 'utf8')).toBe(HASH_JS);
    expect(run('status', '--porcelain')).toBe('?? notes.txt');

    const applied = await eventually(() => feed.events.find((e) => e.event === 'fix:applied' && e.data.vulnId === vuln.id));
    expect(applied.data.prUrl).toContain(`#${branch}`);
    expect((await detail(vuln.id)).body).toMatchObject({ fix: { status: 'proposed' }, fixPullRequest: { status: 'created' } });
  }, 60_000);

  it('counts a fix branch squash-merged into the default branch as merged, and a deleted one as declined', async () => {
    const merged = vulnIn('src/digest.js');
    run('merge', '--quiet', '--squash', `codeguardian-fix-${merged.id}`);
    run('-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', 'commit', '--quiet', '-m', 'Use SHA-256 for digests');
    run('branch', '--quiet', '-D', `codeguardian-fix-${merged.id}`);
    const declined = vulnIn('src/checksum.js');
    const queued = await requestFix(declined.id);
    expect(queued.status).toBe(202);
    await runFixJob(services, queued.body.fixId as string);
    expect(run('branch', '--list', `codeguardian-fix-${declined.id}`)).not.toBe('');

    // The merge was noticed when the second fix was requested.
    expect((await detail(merged.id)).body).toMatchObject({ status: 'fixed', fixPullRequest: { status: 'merged' } });
    await eventually(() => feed.events.find((e) => e.event === 'pr:merged' && e.data.vulnId === merged.id));
    expect((await auditTrail(merged.id)).map((c) => c.reason)).toEqual([`Fix branch codeguardian-fix-${merged.id} merged`]);

    run('branch', '--quiet', '-D', `codeguardian-fix-${declined.id}`);
    const again = await requestFix(declined.id);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'FIX_DECLINED' });
    expect((await detail(declined.id)).body).toMatchObject({ status: 'open', fixPullRequest: { status: 'closed' } });
  }, 60_000);
});

describe('POST /api/scan/fix', () => {
  const finding = { file: 'src/digest.js', line: 4, rule: 'weak-hash', severity: 'medium', message: 'MD5' };

  it('answers a validated unified diff of the given content', async () => {
    const res = await api.request<{ fixed: boolean; patch: string; explanation: string }>('/api/scan/fix', { token: owner.token, body: { finding, fileContent: HASH_JS, context: {} } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ fixed: true, explanation: expect.any(String) });
    expect(res.body.patch).toContain("-  return crypto.createHash('md5').update(value).digest('hex');\n+  return crypto.createHash('sha256').update(value).digest('hex');");
  });

  it('answers 422 with the reason when no fix validates, and 400 for a path outside the repository', async () => {
    const missing = await api.request('/api/scan/fix', { token: owner.token, body: { finding: { ...finding, line: 1 }, fileContent: HASH_JS } });
    expect(missing.status).toBe(422);
    expect(missing.body).toMatchObject({ code: 'FINDING_NOT_FOUND', error: expect.stringContaining('line 1') });
    const none = await api.request('/api/scan/fix', { token: owner.token, body: { finding: { file: 'src/calc.js', line: 6, rule: 'code-injection' }, fileContent: EVAL_JS } });
    expect(none.status).toBe(422);
    expect(none.body).toMatchObject({ code: 'NO_FIX_AVAILABLE' });
    const outside = await api.request('/api/scan/fix', { token: owner.token, body: { finding: { ...finding, file: '../../etc/x.js' }, fileContent: HASH_JS } });
    expect(outside.status).toBe(400);
    expect(outside.body).toMatchObject({ code: 'INVALID_PATH' });
    expect((await api.request('/api/scan/fix', { body: { finding, fileContent: HASH_JS } })).status).toBe(401);
  });
});
