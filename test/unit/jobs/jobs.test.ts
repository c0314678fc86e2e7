import { afterAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { createSqsServer } from 'local-aws-sqs';
import { CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { setBaseEnv, startDynamo } from '../runtime/support/aws-local.ts';
import { lambdaContext, scheduledEvent } from '../http/support/events.ts';
import { FakeGitHub } from '../../support/fake-github/server.ts';

jest.setTimeout(60_000);
setBaseEnv();
process.env.RATE_LIMIT_FREE_TIER = '2';
const dynamo = await startDynamo();
const gh = await FakeGitHub.start();
Object.assign(process.env, gh.env());
const sqsServer = await createSqsServer({ port: 0, hostname: '127.0.0.1' } as never);
const address = sqsServer.address();
const sqsEndpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
process.env.AWS_ENDPOINT_URL_SQS = sqsEndpoint;
const sqs = new SQSClient({ endpoint: sqsEndpoint });
const queueUrl = async (name: string) => (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl as string;
const scanQueue = await queueUrl('ScanJobs');
const notificationsQueue = await queueUrl('Notifications');
process.env.SCAN_JOBS_QUEUE_URL = scanQueue;
process.env.NOTIFICATIONS_QUEUE_URL = notificationsQueue;

// GitHub's "list installations for the authenticated app", answered from the fake's repositories.
gh.on('GET', /^\/app\/installations$/, (req) => {
  if (!req.asApp) return { status: 401, body: { message: 'A JSON web token could not be decoded' } };
  const ids = [...new Set(gh.repositories().map((r) => r.installationId))];
  return { status: 200, body: ids.map((id) => gh.installationJson(id)) };
});

const nightly = (await import('../../../lambdas/jobs/schedule-nightly-scans.ts')).handler;
const refresh = (await import('../../../lambdas/jobs/refresh-repositories.ts')).handler;
const weekly = (await import('../../../lambdas/jobs/queue-weekly-reports.ts')).handler;
const { createRepository, findRepository, updateRepositorySettings, writeRepositoryCounters } = await import('../../../shared/db/repositories.ts');
const { markRepositoryAccessRemoved } = await import('../../../shared/db/installations.ts');
const { createUser } = await import('../../../shared/db/users.ts');
const { newRepository } = await import('../../../shared/api/repositories.ts');
const { resetGithubClient } = await import('../../../shared/github/client.ts');
resetGithubClient({ backoffUnitMs: 20 });

afterAll(async () => {
  sqs.destroy();
  await Promise.all([dynamo.stop(), gh.close(), new Promise((r) => sqsServer.close(r))]);
});

const ctx = lambdaContext('jobs');
const schedule = (id: string = randomUUID()) => ({ ...scheduledEvent(), id });

/** Every message on the queue; waits up to 5 s for `atLeast` of them (the emulator may answer a receive empty). */
async function drain(url: string, atLeast = 0): Promise<Record<string, unknown>[]> {
  const bodies: Record<string, unknown>[] = [];
  const deadline = Date.now() + 5_000;
  for (;;) {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if (Messages.length === 0 && (bodies.length >= atLeast || Date.now() > deadline)) return bodies;
    for (const m of Messages) {
      bodies.push(JSON.parse(m.Body ?? '{}') as Record<string, unknown>);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
    }
  }
}

let nextId = 3_000_000;
async function user() {
  const suffix = randomUUID().slice(0, 8);
  return createUser({ email: `j-${suffix}@example.com`, username: `j-${suffix}` });
}
async function repository(userId: string, options: { autoScan: boolean; githubRepoId?: number; installationId?: number; fullName?: string }) {
  const fullName = options.fullName ?? `org/r-${randomUUID().slice(0, 6)}`;
  const [owner, name] = fullName.split('/') as [string, string];
  const record = newRepository(userId, { githubRepoId: options.githubRepoId ?? nextId++, installationId: options.installationId ?? 1, name, fullName, owner, private: true, language: null, defaultBranch: 'main' });
  await createRepository(record);
  await updateRepositorySettings(userId, record.id, { autoScanEnabled: options.autoScan });
  return record;
}

beforeEach(async () => {
  await drain(scanQueue);
  await drain(notificationsQueue);
});

describe('nightly scans', () => {
  it('queues a scheduled scan of each auto-scan repository, within each user’s quota, once per schedule event', async () => {
    const [alice, bob] = [await user(), await user()];
    const aliceRepos = [await repository(alice.id, { autoScan: true }), await repository(alice.id, { autoScan: true }), await repository(alice.id, { autoScan: true })];
    const bobRepo = await repository(bob.id, { autoScan: true });
    const manual = await repository(bob.id, { autoScan: false });
    const cut = await repository(bob.id, { autoScan: true });
    await markRepositoryAccessRemoved(cut.githubRepoId as number, 'repository_removed');

    const event = schedule();
    const result = await nightly(event, ctx);
    const jobs = await drain(scanQueue, 3);
    const mine = jobs.filter((j) => [alice.id, bob.id].includes(j.userId as string));
    // The free tier's quota is 2 here: two of Alice's three repositories, and Bob's one with access.
    expect(mine.filter((j) => j.userId === alice.id)).toHaveLength(2);
    expect(mine.filter((j) => j.userId === bob.id).map((j) => j.repositoryId)).toEqual([bobRepo.id]);
    for (const job of mine) expect(job).toMatchObject({ trigger: 'scheduled', branch: 'main' });
    expect(mine.map((j) => j.repositoryId)).not.toContain(manual.id);
    expect(mine.map((j) => j.repositoryId)).not.toContain(cut.id);
    expect(result).toMatchObject({ failed: 0 });
    expect(aliceRepos.filter((r) => mine.some((j) => j.repositoryId === r.id))).toHaveLength(2);

    await nightly(event, ctx);
    expect((await drain(scanQueue)).filter((j) => [alice.id, bob.id].includes(j.userId as string))).toEqual([]);
  });

  it('fails the invocation (for EventBridge to retry) when scans could not be queued, after queueing the rest', async () => {
    const carol = await user();
    await repository(carol.id, { autoScan: true });
    process.env.SCAN_JOBS_QUEUE_URL = `${sqsEndpoint}/000000000000/NoSuchQueue`;
    try {
      await expect(nightly(schedule(), ctx)).rejects.toThrow(/could not be queued/);
    } finally {
      process.env.SCAN_JOBS_QUEUE_URL = scanQueue;
    }
  });
});

describe('repository refresh', () => {
  it('copies GitHub’s metadata onto every connected record and recomputes the security score', async () => {
    const fake = gh.addRepository({ owner: 'octo-org', name: `svc-${randomUUID().slice(0, 6)}`, installationId: 501, defaultBranch: 'trunk', private: false, language: 'Python', files: { 'app.py': 'pass\n' } });
    const [dave, erin] = [await user(), await user()];
    const records = [
      await repository(dave.id, { autoScan: false, githubRepoId: fake.id, installationId: 500, fullName: 'octo-org/old-name' }),
      await repository(erin.id, { autoScan: false, githubRepoId: fake.id, installationId: 500, fullName: 'octo-org/old-name' }),
    ];
    const { totalVulnerabilities, criticalCount, highCount, mediumCount, lowCount, infoCount, counts, staleHighOrCritical } = records[0]!;
    await writeRepositoryCounters(records[0]!.id, { totalVulnerabilities, criticalCount, highCount, mediumCount, lowCount, infoCount, counts, staleHighOrCritical, securityScore: 5, countersUpdatedAt: '2020-01-01T00:00:00.000Z' });
    expect((await findRepository(records[0]!.id))?.securityScore).toBe(5);

    const result = await refresh(schedule(), ctx);
    expect(result).toMatchObject({ failed: 0 });
    for (const record of records) {
      expect(await findRepository(record.id)).toMatchObject({ fullName: fake.fullName, name: fake.name, defaultBranch: 'trunk', language: 'Python', private: false, installationId: 501 });
    }
    const recomputed = await findRepository(records[0]!.id);
    expect(recomputed?.securityScore).toBe(100);
    expect(recomputed?.countersUpdatedAt).not.toBe('2020-01-01T00:00:00.000Z');
  });

  it('fails the invocation when GitHub does not answer, after retrying', async () => {
    gh.failNext('GET', /^\/app\/installations$/, 502, 4);
    await expect(refresh(schedule(), ctx)).rejects.toMatchObject({ status: 502 });
  });
});

describe('weekly reports', () => {
  it('queues one weekly report per user with auto-scanned repositories, once per schedule event', async () => {
    const frank = await user();
    await repository(frank.id, { autoScan: true });
    const quiet = await user();
    await repository(quiet.id, { autoScan: false });
    const event = schedule();
    await weekly(event, ctx);
    const messages = await drain(notificationsQueue, 2);
    const franks = messages.filter((m) => m.userId === frank.id);
    const data = {
      repositories: 1,
      openBySeverity: { critical: 0, high: 0, medium: 0, low: 0, info: 0 },
      newThisWeek: 0,
      fixedThisWeek: 0,
      securityScore: 100,
      lowestSecurityScore: 100,
      openChangeThisWeek: 0,
      scansCompleted: 0,
      since: expect.any(String),
      atRisk: [{ fullName: expect.any(String), securityScore: 100, open: 0 }],
    };
    expect(franks.sort((a, b) => String(a.channel).localeCompare(String(b.channel)))).toEqual([
      { userId: frank.id, channel: 'email', kind: 'weekly-report', data },
      { userId: frank.id, channel: 'slack', kind: 'weekly-report', data },
    ]);
    expect(messages.some((m) => m.userId === quiet.id)).toBe(false);
    await weekly(event, ctx);
    expect((await drain(notificationsQueue)).filter((m) => m.userId === frank.id)).toEqual([]);
  });
});
