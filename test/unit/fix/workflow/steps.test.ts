import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { awsJson, setBaseEnv, startDynamo, startStubServer } from '../../runtime/support/aws-local.ts';
import { startConnectionsEndpoint } from '../../realtime/support/connections-endpoint.ts';
import { FakeGitHub } from '../../../support/fake-github/server.ts';
import { installGitData } from '../../../support/fake-github/git-data.ts';

// The fix workflow's steps on DynamoDB Local and the fake GitHub: what a repeated step, a limit reached between
// request and pull request, a failed execution and a queue outage leave behind.

jest.setTimeout(60_000);
setBaseEnv();
const dynamo = await startDynamo();
const sockets = await startConnectionsEndpoint();
process.env.WEBSOCKET_ENDPOINT = sockets.endpoint;
const gh = await FakeGitHub.start();
const gitData = installGitData(gh);
Object.assign(process.env, gh.env());

/** The SQS JSON protocol's SendMessage; `down` makes it answer 500. */
let sqsDown = false;
const sqs = await startStubServer((request, res) => {
  if (sqsDown) return awsJson(res, 500, { message: 'We encountered an internal error' }, 'InternalError');
  const body = (JSON.parse(request.body) as { MessageBody: string }).MessageBody;
  awsJson(res, 200, { MessageId: randomUUID(), MD5OfMessageBody: createHash('md5').update(body).digest('hex') });
});
process.env.AWS_ENDPOINT_URL_SQS = sqs.endpoint;
process.env.FIX_GENERATION_QUEUE_URL = `${sqs.endpoint}/000000000000/FixGeneration`;

const { newRepository } = await import('../../../../shared/api/repositories.ts');
const { scanFiles } = await import('../../../../shared/analysis/scanner.ts');
const { createRepository, updateRepositorySettings } = await import('../../../../shared/db/repositories.ts');
const { createScan, INITIAL_PROGRESS } = await import('../../../../shared/db/scans.ts');
const { saveFindings, vulnerabilitiesOfRepository } = await import('../../../../shared/db/vulnerabilities.ts');
const { getFixJob, latestFixAttempt, startFixAttempt, updateFixAttempt } = await import('../../../../shared/db/fix-pull-requests.ts');
const { buildFixStep, validateFixStep, openPullRequestStep, failFixStep } = await import('../../../../shared/fix/workflow.ts');
const { queueFix, queueAutoFixes } = await import('../../../../shared/fix/request.ts');
const { resetGithubClient } = await import('../../../../shared/github/client.ts');
const { saveConnection } = await import('../../../../shared/realtime/connections.ts');

afterAll(async () => {
  await Promise.all([dynamo.stop(), sockets.close(), sqs.close(), gh.close()]);
});
beforeEach(() => {
  sqsDown = false;
  delete process.env.FIX_PR_MAX_OPEN;
  delete process.env.FIX_PR_MAX_PER_DAY;
});
resetGithubClient({ backoffUnitMs: 1 });

const HASH_JS = "const crypto = require('crypto');\nmodule.exports = (v) => crypto.createHash('md5').update(v).digest('hex');\n";

/** A fake GitHub repository with `count` files holding a weak hash, connected and scanned for a new user. */
async function scannedRepository(count = 1) {
  const userId = randomUUID();
  const name = `steps-${randomUUID().slice(0, 8)}`;
  const files = Object.fromEntries(Array.from({ length: count }, (_, i) => [`src/h${i}.js`, HASH_JS]));
  const fake = gh.addRepository({ owner: 'octo-org', name, files });
  const repo = newRepository(userId, { name, fullName: fake.fullName, owner: 'octo-org', private: true, language: 'JavaScript', defaultBranch: 'main', githubRepoId: fake.id, installationId: fake.installationId });
  await createRepository(repo);
  const scanId = randomUUID();
  const now = new Date().toISOString();
  await createScan({ id: scanId, userId, repositoryId: repo.id, repositoryName: repo.fullName, status: 'completed', trigger: 'manual', branch: 'main', commitSha: fake.headSha(), startedAt: now, updatedAt: now, completedAt: now, progress: INITIAL_PROGRESS, summary: null, reports: {}, executionId: `scan-${scanId}` });
  await saveFindings(repo.id, scanId, scanFiles(Object.entries(files).map(([path, source]) => ({ path, source }))).findings);
  const vulns = (await vulnerabilitiesOfRepository(repo.id)).sort((a, b) => a.filePath.localeCompare(b.filePath));
  return { userId, fake, repo, vulns };
}

/** A fix job for a vulnerability, with its attempt, as the API would queue it. */
async function jobFor(v: { id: string; repositoryId: string; userId: string }) {
  const job = { fixId: randomUUID(), vulnerabilityId: v.id, repositoryId: v.repositoryId, userId: v.userId };
  await startFixAttempt(job);
  return job;
}

async function builtAndValidated(job: Awaited<ReturnType<typeof jobFor>>) {
  return validateFixStep(await buildFixStep(job, { model: null }));
}

describe('openPullRequest', () => {
  it('opens one pull request even when the step runs again, and tells the owner once', async () => {
    const { userId, fake, vulns } = await scannedRepository();
    await saveConnection(userId, 'conn-steps-1');
    const job = await jobFor(vulns[0]!);
    const validated = await builtAndValidated(job);
    expect(validated.evidence).toMatchObject({ parses: true, findingGone: true, newFindings: 0 });

    const first = await openPullRequestStep(validated);
    const again = await openPullRequestStep(validated);
    expect(first.outcome).toMatchObject({ status: 'proposed', prNumber: 1 });
    expect(again.outcome).toEqual(first.outcome);
    expect(gitData.pulls(fake.fullName)).toHaveLength(1);
    const events = (sockets.received.get('conn-steps-1') ?? []).map((p) => JSON.parse(p) as { event: string });
    expect(events.filter((e) => e.event === 'fix:applied')).toHaveLength(1);
    expect(await latestFixAttempt(vulns[0]!.id)).toMatchObject({ status: 'proposed', source: 'rule', confidence: expect.any(Number) });
    expect(await getFixJob(job.fixId)).toMatchObject({ status: 'proposed' });
  });

  it('does not propose a fix when the repository reached its open limit after the fix was requested', async () => {
    const { fake, vulns } = await scannedRepository(2);
    const [a, b] = [await jobFor(vulns[0]!), await jobFor(vulns[1]!)];
    const [readyA, readyB] = [await builtAndValidated(a), await builtAndValidated(b)];
    process.env.FIX_PR_MAX_OPEN = '1';
    expect((await openPullRequestStep(readyA)).outcome).toMatchObject({ status: 'proposed' });
    const refused = await openPullRequestStep(readyB);
    expect(refused.outcome).toMatchObject({ status: 'not_proposed', code: 'OPEN_FIX_PR_LIMIT', reason: expect.stringContaining('limit 1') });
    expect(gitData.pulls(fake.fullName)).toHaveLength(1);
    expect(fake.refs.has(`heads/codeguardian-fix-${vulns[1]!.id}`)).toBe(false);
    expect(await latestFixAttempt(vulns[1]!.id)).toMatchObject({ status: 'not_proposed', code: 'OPEN_FIX_PR_LIMIT' });
  });
});

describe('buildFix', () => {
  it('ends not proposed, with the reason, for a vulnerability that is no longer open or whose file is gone', async () => {
    const { fake, vulns } = await scannedRepository(2);
    const { changeVulnerabilityStatus } = await import('../../../../shared/db/vulnerabilities.ts');
    await changeVulnerabilityStatus(vulns[0]!, 'ignored', 'test helper');
    const ignored = await buildFixStep(await jobFor(vulns[0]!), { model: null });
    expect(ignored.outcome).toMatchObject({ status: 'not_proposed', code: 'VULNERABILITY_NOT_OPEN' });

    // The scanned commit is gone from the repository (force-pushed away).
    fake.commits.clear();
    const lost = await buildFixStep(await jobFor(vulns[1]!), { model: null });
    expect(lost.outcome).toMatchObject({ status: 'not_proposed' });
    expect(await latestFixAttempt(vulns[1]!.id)).toMatchObject({ status: 'not_proposed', reason: expect.any(String) });
    // Later steps pass a decided state through untouched.
    expect(await validateFixStep(lost)).toEqual(lost);
    expect(await openPullRequestStep(lost)).toEqual(lost);
  });
});

describe('the workflow catch', () => {
  it('marks the job and the vulnerability’s attempt failed with the reason', async () => {
    const { vulns } = await scannedRepository();
    const job = await jobFor(vulns[0]!);
    await failFixStep(job, 'States.Timeout: the step timed out');
    expect(await latestFixAttempt(vulns[0]!.id)).toMatchObject({ status: 'failed', reason: 'States.Timeout: the step timed out' });
    expect(await getFixJob(job.fixId)).toMatchObject({ status: 'failed', failureReason: 'States.Timeout: the step timed out' });
  });

  it('never overwrites a newer attempt with an older job’s outcome', async () => {
    const { vulns } = await scannedRepository();
    const old = await jobFor(vulns[0]!);
    await updateFixAttempt(old, { status: 'not_proposed', code: 'X', reason: 'old' });
    const fresh = await jobFor(vulns[0]!);
    await failFixStep(old, 'late failure of the old job');
    expect(await latestFixAttempt(vulns[0]!.id)).toMatchObject({ fixId: fresh.fixId, status: 'queued' });
  });
});

describe('queueing fixes', () => {
  it('refuses a second attempt while one is moving', async () => {
    const { vulns } = await scannedRepository();
    await queueFix(vulns[0]!);
    await expect(queueFix(vulns[0]!)).rejects.toMatchObject({ status: 409, code: 'FIX_IN_PROGRESS' });
  });

  it('leaves nothing behind when the queue is down', async () => {
    const { vulns } = await scannedRepository();
    sqsDown = true;
    await expect(queueFix(vulns[0]!)).rejects.toMatchObject({ status: 503, code: 'FIX_QUEUE_UNAVAILABLE' });
    expect(await latestFixAttempt(vulns[0]!.id)).toBeUndefined();
    sqsDown = false;
    const job = await queueFix(vulns[0]!);
    expect(await getFixJob(job.fixId)).toMatchObject({ status: 'queued' });
  });

  it('auto-fix queues no more than the limits leave room for, and nothing when auto-fix is off', async () => {
    const { repo, vulns } = await scannedRepository(3);
    expect(await queueAutoFixes(repo, vulns)).toEqual([]);
    const on = await updateRepositorySettings(repo.userId, repo.id, { autoFixEnabled: true });
    const sent = sqs.requests.length;
    const queued = await queueAutoFixes(on, vulns, { maxOpen: 2, maxPerDay: 10 });
    expect(queued).toHaveLength(2);
    expect(sqs.requests.length - sent).toBe(2);
    expect(new Set(queued.map((j) => j.vulnerabilityId)).size).toBe(2);
  });
});
