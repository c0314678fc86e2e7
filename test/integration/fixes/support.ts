import { randomUUID } from 'node:crypto';
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import WebSocket from 'ws';
import { LOCAL_CREDENTIALS } from '../../../lib/local/provision.ts';
import type { Services } from '../../../lib/local/stack.ts';
import { stateMachineArn } from '../../../lib/local/workflow-runner.ts';
import { newRepository } from '../../../shared/api/repositories.ts';
import { scanFiles } from '../../../shared/analysis/scanner.ts';
import { createRepository, type Repository } from '../../../shared/db/repositories.ts';
import { createScan, INITIAL_PROGRESS } from '../../../shared/db/scans.ts';
import { saveFindings, vulnerabilitiesOfRepository } from '../../../shared/db/vulnerabilities.ts';
import { queues, workflows } from '../../../shared/platform/declarations.ts';
import type { RealtimeEnvelope } from '../../../shared/realtime/events.ts';
import { eventually, sharedEmulators } from '../support/local-services.ts';

/** The owner's live event feed: every envelope the socket received, in order. */
export interface EventFeed {
  readonly events: RealtimeEnvelope<Record<string, unknown>>[];
  close(): void;
}

/** Opens `ws://…/ws?token=` on the local gateway and records what arrives. */
export async function openEventFeed(services: Services, token: string): Promise<EventFeed> {
  const ws = new WebSocket(`ws://127.0.0.1:${services.apiPort}/ws?token=${encodeURIComponent(token)}`);
  const events: RealtimeEnvelope<Record<string, unknown>>[] = [];
  ws.on('message', (data) => events.push(JSON.parse(String(data)) as RealtimeEnvelope<Record<string, unknown>>));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { events, close: () => ws.close() };
}

/**
 * Scan `files` as the scan pipeline would at `commitSha` and store the findings: a completed scan record with
 * the commit, then saveFindings. Returns the stored vulnerabilities.
 */
export async function seedScan(repo: Repository, commitSha: string, files: Readonly<Record<string, string>>) {
  const scanId = randomUUID();
  const now = new Date().toISOString();
  await createScan({
    id: scanId, userId: repo.userId, repositoryId: repo.id, repositoryName: repo.fullName, status: 'completed', trigger: 'manual',
    branch: repo.defaultBranch, commitSha, startedAt: now, updatedAt: now, completedAt: now, progress: INITIAL_PROGRESS, summary: null, reports: {}, executionId: `scan-${scanId}`,
  });
  const { findings } = scanFiles(Object.entries(files).map(([path, source]) => ({ path, source })));
  await saveFindings(repo.id, scanId, findings);
  return vulnerabilitiesOfRepository(repo.id);
}

/** A GitHub repository record of `userId` for a fake GitHub repository (what connect writes). */
export async function connectFakeRepository(userId: string, fake: { id: number; owner: string; name: string; fullName: string; installationId: number; defaultBranch: string }): Promise<Repository> {
  const repo = newRepository(userId, {
    name: fake.name, fullName: fake.fullName, owner: fake.owner, private: true, language: 'JavaScript', defaultBranch: fake.defaultBranch,
    githubRepoId: fake.id, installationId: fake.installationId,
  });
  await createRepository(repo);
  return repo;
}

const sqs = new SQSClient({ region: 'us-east-1', endpoint: sharedEmulators().endpoints.sqs, credentials: LOCAL_CREDENTIALS });

/**
 * Hands the message of a shared queue that `matches` to the queue's consumer, as the poller would, and deletes
 * it; other messages are put back at once (other test files share the emulated queues).
 */
export async function consumeQueued(services: Services, queue: keyof typeof queues, matches: (body: Record<string, unknown>) => boolean): Promise<void> {
  const queueUrl = services.env[queues[queue].envVar] as string;
  const message = await eventually(async () => {
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, AttributeNames: ['All'] }));
    let mine;
    for (const m of got.Messages ?? []) {
      if (matches(JSON.parse(m.Body ?? '{}') as Record<string, unknown>)) mine = m;
      else await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 }));
    }
    return mine;
  }, 20_000);
  const record = {
    messageId: message.MessageId, receiptHandle: message.ReceiptHandle, body: message.Body, attributes: message.Attributes ?? {}, messageAttributes: {},
    md5OfBody: message.MD5OfBody, eventSource: 'aws:sqs', eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${queues[queue].name}`, awsRegion: 'us-east-1',
  };
  const answer = (await services.runtime.invoke(queues[queue].consumer.entry, { Records: [record] }, { timeoutSeconds: 60 })) as { batchItemFailures: unknown[] };
  if (answer.batchItemFailures.length > 0) throw new Error(`the ${queue} consumer failed the message: ${JSON.stringify(answer)}`);
  await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
}

/** Runs the fix job `fixId` the API queued through the fix-generation consumer and waits for its execution to end. */
export async function runFixJob(services: Services, fixId: string) {
  await consumeQueued(services, 'fixGeneration', (body) => body.fixId === fixId);
  const arn = `${stateMachineArn(workflows.fix.name).replace(':stateMachine:', ':execution:')}:fix-${fixId}`;
  const execution = services.runner.describeExecution(arn);
  await execution.done;
  return execution;
}
