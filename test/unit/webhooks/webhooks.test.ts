import { afterAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createSqsServer } from 'local-aws-sqs';
import { CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyStructuredResultV2, SQSBatchResponse } from 'aws-lambda';
import { setBaseEnv, startDynamo } from '../runtime/support/aws-local.ts';
import { httpEvent, lambdaContext, sqsEvent } from '../http/support/events.ts';
import {
  installationPayload,
  installationRepositoriesPayload,
  pullRequestPayload,
  pushPayload,
  signedDelivery,
  type PayloadRepo,
} from '../../support/webhook-payloads.ts';

jest.setTimeout(30_000);
setBaseEnv();
const SECRET = 'unit-webhook-secret-0123456789';
process.env.GITHUB_WEBHOOK_SECRET = SECRET;
const dynamo = await startDynamo();
const sqsServer = await createSqsServer({ port: 0, hostname: '127.0.0.1' } as never);
const address = sqsServer.address();
const sqsEndpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
process.env.AWS_ENDPOINT_URL_SQS = sqsEndpoint;
const sqs = new SQSClient({ endpoint: sqsEndpoint });
const queueUrl = async (name: string) => (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl as string;
const eventsQueue = await queueUrl('GithubEvents');
const scanQueue = await queueUrl('ScanJobs');
process.env.GITHUB_EVENTS_QUEUE_URL = eventsQueue;
process.env.SCAN_JOBS_QUEUE_URL = scanQueue;

const receive = (await import('../../../lambdas/http/receive-github-webhook.ts')).handler;
const receivePr = (await import('../../../lambdas/http/receive-github-webhook-pr.ts')).handler;
const consume = (await import('../../../lambdas/webhooks/process-github-event.ts')).handler;
const { isValidSignature } = await import('../../../shared/webhooks/receive.ts');
const { findDelivery } = await import('../../../shared/db/deliveries.ts');
const { findInstallation, installationRepositories } = await import('../../../shared/db/installations.ts');
const { createRepository, findRepository, updateRepositorySettings } = await import('../../../shared/db/repositories.ts');
const { createUser } = await import('../../../shared/db/users.ts');
const { newRepository } = await import('../../../shared/api/repositories.ts');

afterAll(async () => {
  sqs.destroy();
  await Promise.all([dynamo.stop(), new Promise((r) => sqsServer.close(r))]);
});

const ctx = lambdaContext('webhooks');

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

type Handler = typeof receive;
async function post(delivery: { headers: Record<string, string>; body: string }, handler: Handler = receive) {
  const event = httpEvent({ method: 'POST', path: '/api/webhooks/github', headers: delivery.headers, body: delivery.body });
  const res = (await handler(event, ctx)) as APIGatewayProxyStructuredResultV2;
  return { status: res.statusCode, body: JSON.parse(String(res.body ?? '{}')) as Record<string, unknown> };
}

/** Delivers a signed event through the receiver and hands its queue message to the consumer. */
async function deliver(event: string, payload: unknown): Promise<SQSBatchResponse> {
  const res = await post(await signedDelivery(SECRET, event, payload));
  expect(res.status).toBe(202);
  const messages = await drain(eventsQueue, 1);
  expect(messages).toHaveLength(1);
  return (await consume(sqsEvent(messages.map((m) => JSON.stringify(m))), ctx)) as SQSBatchResponse;
}

let nextGithubId = 5_000_000;
async function connectedRepo(owners: number, installationId = 4321): Promise<{ repo: PayloadRepo; repositoryIds: string[] }> {
  const repo: PayloadRepo = { id: nextGithubId++, owner: 'octo-org', name: `svc-${randomUUID().slice(0, 6)}`, defaultBranch: 'main', installationId };
  const repositoryIds: string[] = [];
  for (let i = 0; i < owners; i++) {
    const suffix = randomUUID().slice(0, 8);
    const user = await createUser({ email: `u-${suffix}@example.com`, username: `u-${suffix}` });
    const record = newRepository(user.id, { githubRepoId: repo.id, installationId, name: repo.name, fullName: `${repo.owner}/${repo.name}`, owner: repo.owner, private: true, language: 'JavaScript', defaultBranch: 'main' });
    await createRepository(record);
    repositoryIds.push(record.id);
  }
  return { repo, repositoryIds };
}

const sha = () => createHmac('sha1', randomUUID()).digest('hex');

beforeEach(async () => {
  await drain(eventsQueue);
  await drain(scanQueue);
});

describe('signature verification', () => {
  const body = '{"zen":"Design for failure."}';
  const good = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;

  it('accepts the HMAC-SHA256 of the exact body and nothing else', async () => {
    expect(await isValidSignature(SECRET, body, good)).toBe(true);
    expect(await isValidSignature(SECRET, `${body} `, good)).toBe(false);
    expect(await isValidSignature('another-secret', body, good)).toBe(false);
    expect(await isValidSignature(SECRET, body, undefined)).toBe(false);
    expect(await isValidSignature(SECRET, body, '')).toBe(false);
    expect(await isValidSignature(SECRET, body, good.toUpperCase())).toBe(false);
    expect(await isValidSignature(SECRET, body, `sha1=${createHmac('sha1', SECRET).update(body).digest('hex')}`)).toBe(false);
    expect(await isValidSignature(SECRET, body, good.replace('sha256=', 'sha512='))).toBe(false);
    expect(await isValidSignature(SECRET, '', good)).toBe(false);
  });
});

describe('POST /api/webhooks/github', () => {
  const repo: PayloadRepo = { id: 1, owner: 'octo-org', name: 'shop', defaultBranch: 'main', installationId: 9 };

  it('records, queues and answers 202 for a well-signed delivery', async () => {
    const delivery = await signedDelivery(SECRET, 'push', pushPayload(repo, { after: sha() }));
    const res = await post(delivery);
    expect(res).toEqual({ status: 202, body: { deliveryId: delivery.deliveryId, event: 'push', status: 'queued' } });
    expect(await drain(eventsQueue, 1)).toEqual([{ deliveryId: delivery.deliveryId, event: 'push', installationId: 9, payloadRef: `table:${delivery.deliveryId}` }]);
    const record = await findDelivery(delivery.deliveryId);
    expect(record).toMatchObject({ event: 'push', installationId: 9, queuedAt: expect.any(String), expiresAt: expect.any(Number) });
    expect(record?.payloadGzip).toBeDefined();
  });

  it.each([
    ['a signature made with another secret', async (d: { headers: Record<string, string>; body: string }) => ({ ...d, headers: { ...d.headers, 'x-hub-signature-256': (await signedDelivery('not-the-secret', 'push', JSON.parse(d.body))).headers['x-hub-signature-256'] as string } })],
    ['no signature', async (d: { headers: Record<string, string>; body: string }) => ({ ...d, headers: Object.fromEntries(Object.entries(d.headers).filter(([k]) => k !== 'x-hub-signature-256')) })],
    ['a SHA-1 signature (X-Hub-Signature style)', async (d: { headers: Record<string, string>; body: string }) => ({ ...d, headers: { ...d.headers, 'x-hub-signature-256': `sha1=${createHmac('sha1', SECRET).update(d.body).digest('hex')}` } })],
    ['a body changed after signing', async (d: { headers: Record<string, string>; body: string }) => ({ ...d, body: d.body.replace('"main"', '"evil"') })],
  ])('answers 401 INVALID_SIGNATURE and stores and queues nothing for %s', async (_name, tamper) => {
    const delivery = await signedDelivery(SECRET, 'push', pushPayload(repo, { after: sha() }));
    const res = await post(await tamper(delivery));
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: expect.stringContaining('X-Hub-Signature-256'), code: 'INVALID_SIGNATURE' });
    expect(await drain(eventsQueue)).toEqual([]);
    expect(await findDelivery(delivery.deliveryId)).toBeUndefined();
  });

  it('answers a redelivery with 200 duplicate and queues it once', async () => {
    const delivery = await signedDelivery(SECRET, 'push', pushPayload(repo, { after: sha() }));
    expect((await post(delivery)).status).toBe(202);
    expect(await post(delivery)).toEqual({ status: 200, body: { deliveryId: delivery.deliveryId, event: 'push', status: 'duplicate' } });
    expect(await drain(eventsQueue, 1)).toHaveLength(1);
  });

  it('refuses missing delivery or event headers and payloads that are not JSON objects, after the signature', async () => {
    const delivery = await signedDelivery(SECRET, 'push', pushPayload(repo, { after: sha() }));
    const withoutId = { ...delivery, headers: { ...delivery.headers, 'x-github-delivery': '' } };
    expect(await post(withoutId)).toMatchObject({ status: 400, body: { code: 'INVALID_DELIVERY_ID' } });
    const badEvent = { ...delivery, headers: { ...delivery.headers, 'x-github-event': 'Push Event!' } };
    expect(await post(badEvent)).toMatchObject({ status: 400, body: { code: 'INVALID_EVENT' } });
    const notJson = await signedDelivery(SECRET, 'push', {});
    const broken = { ...notJson, body: '{"ref":', headers: { ...notJson.headers, 'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update('{"ref":').digest('hex')}` } };
    expect(await post(broken)).toMatchObject({ status: 400, body: { code: 'INVALID_JSON' } });
    const array = await signedDelivery(SECRET, 'push', [1, 2]);
    expect(await post(array)).toMatchObject({ status: 400, body: { code: 'INVALID_PAYLOAD' } });
    expect(await drain(eventsQueue)).toEqual([]);
  });

  it('takes form-encoded deliveries (payload=…) too', async () => {
    const json = JSON.stringify(pushPayload(repo, { after: sha() }));
    const body = new URLSearchParams({ payload: json }).toString();
    const delivery = await signedDelivery(SECRET, 'push', {});
    const res = await post({ body, headers: { ...delivery.headers, 'content-type': 'application/x-www-form-urlencoded', 'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` } });
    expect(res.status).toBe(202);
    expect(await drain(eventsQueue, 1)).toHaveLength(1);
  });

  it('answers 503 when the queue is unavailable and forgets the delivery so a redelivery is processed', async () => {
    const delivery = await signedDelivery(SECRET, 'push', pushPayload(repo, { after: sha() }));
    process.env.GITHUB_EVENTS_QUEUE_URL = `${sqsEndpoint}/000000000000/NoSuchQueue`;
    try {
      expect(await post(delivery)).toMatchObject({ status: 503, body: { code: 'WEBHOOK_QUEUE_UNAVAILABLE' } });
    } finally {
      process.env.GITHUB_EVENTS_QUEUE_URL = eventsQueue;
    }
    expect(await findDelivery(delivery.deliveryId)).toBeUndefined();
    expect((await post(delivery)).status).toBe(202);
    expect(await drain(eventsQueue, 1)).toHaveLength(1);
  });

  it('the /pr endpoint takes pull_request (and ping) events only', async () => {
    const pr = await signedDelivery(SECRET, 'pull_request', pullRequestPayload(repo, { action: 'opened', number: 3, headRef: 'feature', headSha: sha(), baseSha: sha() }));
    expect((await post(pr, receivePr)).status).toBe(202);
    const push = await signedDelivery(SECRET, 'push', pushPayload(repo, { after: sha() }));
    expect(await post(push, receivePr)).toMatchObject({ status: 400, body: { code: 'EVENT_NOT_ACCEPTED' } });
    const badSignature = { ...pr, headers: { ...pr.headers, 'x-hub-signature-256': 'sha256=00' } };
    expect((await post(badSignature, receivePr)).status).toBe(401);
    expect(await drain(eventsQueue, 1)).toHaveLength(1);
  });
});

describe('the github-events consumer', () => {
  it('queues a push scan at the pushed commit for every user who connected the repository, once per delivery', async () => {
    const { repo, repositoryIds } = await connectedRepo(2);
    const after = sha();
    const delivery = await signedDelivery(SECRET, 'push', pushPayload(repo, { after, before: sha() }));
    expect((await post(delivery)).status).toBe(202);
    const [message] = await drain(eventsQueue, 1);
    const batch = sqsEvent([JSON.stringify(message)]);
    expect(((await consume(batch, ctx)) as SQSBatchResponse).batchItemFailures).toEqual([]);
    // The queue hands the same message over again: nothing new is queued.
    expect(((await consume(batch, ctx)) as SQSBatchResponse).batchItemFailures).toEqual([]);
    const jobs = await drain(scanQueue, 2);
    expect(jobs.map((j) => j.repositoryId).sort()).toEqual([...repositoryIds].sort());
    for (const job of jobs) expect(job).toMatchObject({ trigger: 'push', branch: 'main', commitSha: after });
    const record = await findRepository(repositoryIds[0] as string);
    expect(record).toMatchObject({ scanStatus: 'queued' });
  });

  it('scans pushes to the branches in scanBranches, and ignores other branches, tags and deletions', async () => {
    const { repo, repositoryIds } = await connectedRepo(1);
    const [repositoryId] = repositoryIds as [string];
    const record = await findRepository(repositoryId);
    await updateRepositorySettings(record!.userId, repositoryId, { scanBranches: ['main', 'release'] });
    for (const payload of [
      pushPayload(repo, { after: sha(), branch: 'feature/x' }),
      pushPayload(repo, { after: sha(), deleted: true, before: sha() }),
      { ...pushPayload(repo, { after: sha() }), ref: 'refs/tags/v1.0.0' },
    ]) {
      expect((await deliver('push', payload)).batchItemFailures).toEqual([]);
    }
    expect(await drain(scanQueue)).toEqual([]);
    const after = sha();
    await deliver('push', pushPayload(repo, { after, branch: 'release' }));
    expect(await drain(scanQueue, 1)).toEqual([expect.objectContaining({ repositoryId, branch: 'release', commitSha: after, trigger: 'push' })]);
  });

  it('stores a default branch renamed on GitHub from the push that reports it, and scans pushes to it', async () => {
    const { repo, repositoryIds } = await connectedRepo(1);
    const [repositoryId] = repositoryIds as [string];
    const renamed = { ...repo, defaultBranch: 'trunk' };
    const after = sha();
    expect((await deliver('push', pushPayload(renamed, { after }))).batchItemFailures).toEqual([]);
    expect(await drain(scanQueue, 1)).toEqual([expect.objectContaining({ repositoryId, branch: 'trunk', commitSha: after })]);
    // Stored before the scan was queued: the scan's findings are kept as the default branch's.
    expect(await findRepository(repositoryId)).toMatchObject({ defaultBranch: 'trunk' });
  });

  it('keeps a payload too large for one item in chunks, and the consumer reads it back whole', async () => {
    const { repo, repositoryIds } = await connectedRepo(1);
    const after = sha();
    // Random text does not compress: about 900 KB of it needs several 300 KB chunks.
    const padding = Array.from({ length: 900 }, () => randomBytes(512).toString('hex')).join('');
    const payload = { ...pushPayload(repo, { after }), padding };
    const delivery = await signedDelivery(SECRET, 'push', payload);
    expect((await post(delivery)).status).toBe(202);
    const record = await findDelivery(delivery.deliveryId);
    expect(record?.payloadGzip).toBeUndefined();
    expect(record?.payloadChunks).toBeGreaterThanOrEqual(2);
    const messages = await drain(eventsQueue, 1);
    expect(((await consume(sqsEvent(messages.map((m) => JSON.stringify(m))), ctx)) as SQSBatchResponse).batchItemFailures).toEqual([]);
    expect(await drain(scanQueue, 1)).toEqual([expect.objectContaining({ repositoryId: repositoryIds[0], commitSha: after })]);
  });

  it('does nothing for a repository nobody connected', async () => {
    const repo: PayloadRepo = { id: nextGithubId++, owner: 'someone', name: 'else', defaultBranch: 'main', installationId: 1 };
    expect((await deliver('push', pushPayload(repo, { after: sha() }))).batchItemFailures).toEqual([]);
    expect(await drain(scanQueue)).toEqual([]);
  });

  it('queues a pull request scan at the head commit with the base commit for opened, synchronize and reopened', async () => {
    const { repo, repositoryIds } = await connectedRepo(1);
    for (const [i, action] of ['opened', 'synchronize', 'reopened'].entries()) {
      const headSha = sha();
      const baseSha = sha();
      await deliver('pull_request', pullRequestPayload(repo, { action, number: 40 + i, headRef: 'feature/login', headSha, baseSha }));
      expect(await drain(scanQueue, 1)).toEqual([
        { scanId: expect.any(String), repositoryId: repositoryIds[0], userId: expect.any(String), trigger: 'pull_request', branch: 'feature/login', commitSha: headSha, baseSha, pullRequestNumber: 40 + i },
      ]);
    }
    for (const action of ['labeled', 'assigned', 'ready_for_review']) {
      expect((await deliver('pull_request', pullRequestPayload(repo, { action, number: 7, headRef: 'f', headSha: sha(), baseSha: sha() }))).batchItemFailures).toEqual([]);
    }
    expect(await drain(scanQueue)).toEqual([]);
  });

  it('hands closed pull requests to the fix pull request bookkeeping without scanning', async () => {
    const { repo } = await connectedRepo(1);
    const payload = pullRequestPayload(repo, { action: 'closed', number: 12, headRef: 'codeguardian-fix-unknown', headSha: sha(), baseSha: sha(), merged: true });
    expect((await deliver('pull_request', payload)).batchItemFailures).toEqual([]);
    expect(await drain(scanQueue)).toEqual([]);
  });

  it('records installations, marks repositories whose access went away and restores them when it returns', async () => {
    const installationId = 880_000 + Math.floor(Math.random() * 1000);
    const { repo, repositoryIds } = await connectedRepo(2, installationId);
    const ref = { id: repo.id, fullName: `${repo.owner}/${repo.name}` };

    await deliver('installation', installationPayload('created', installationId, [ref]));
    expect(await findInstallation(installationId)).toMatchObject({ installationId, suspendedAt: null });
    expect((await installationRepositories(installationId)).map((r) => r.githubRepoId)).toEqual([repo.id]);

    await deliver('installation', installationPayload('suspend', installationId));
    expect((await findInstallation(installationId))?.suspendedAt).toEqual(expect.any(String));
    await deliver('installation', installationPayload('unsuspend', installationId));
    expect((await findInstallation(installationId))?.suspendedAt).toBeNull();

    await deliver('installation_repositories', installationRepositoriesPayload('removed', installationId, [ref]));
    for (const id of repositoryIds) expect(await findRepository(id)).toMatchObject({ accessRemovedAt: expect.any(String), accessRemovedReason: 'repository_removed' });
    expect(await installationRepositories(installationId)).toEqual([]);
    // No scan for a repository the App can no longer read; the records and their data stay.
    await deliver('push', pushPayload(repo, { after: sha() }));
    expect(await drain(scanQueue)).toEqual([]);

    await deliver('installation_repositories', installationRepositoriesPayload('added', installationId, [ref]));
    for (const id of repositoryIds) {
      const record = await findRepository(id);
      expect(record).toMatchObject({ installationId });
      expect(record).not.toHaveProperty('accessRemovedAt');
    }

    await deliver('installation', installationPayload('deleted', installationId, [ref]));
    expect(await findInstallation(installationId)).toBeUndefined();
    for (const id of repositoryIds) expect(await findRepository(id)).toMatchObject({ accessRemovedReason: 'installation_deleted' });
  });

  it('acknowledges other events and malformed payloads without retrying them', async () => {
    expect((await deliver('star', { action: 'created', starred_at: null })).batchItemFailures).toEqual([]);
    expect((await deliver('ping', { zen: 'Keep it logically awesome.', hook_id: 1 })).batchItemFailures).toEqual([]);
    expect((await deliver('push', { ref: 'refs/heads/main' })).batchItemFailures).toEqual([]);
    expect(await drain(scanQueue)).toEqual([]);
  });

  it('acknowledges a message whose delivery record is gone, and fails a message that is not a GitHub event', async () => {
    const gone = { deliveryId: randomUUID(), event: 'push', payloadRef: 'table:x' };
    expect(((await consume(sqsEvent([JSON.stringify(gone)]), ctx)) as SQSBatchResponse).batchItemFailures).toEqual([]);
    const invalid = sqsEvent([JSON.stringify({ event: 'push' })]);
    expect(((await consume(invalid, ctx)) as SQSBatchResponse).batchItemFailures).toHaveLength(1);
  });
});
