import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_CREDENTIALS, type LocalQueue } from '../../lib/local/provision.ts';
import { HandlerRuntime } from '../../lib/local/handlers.ts';
import { QueuePoller } from '../../lib/local/queue-poller.ts';
import { Scheduler } from '../../lib/local/scheduler.ts';
import type { Services } from '../../lib/local/stack.ts';
import { stateMachineArn } from '../../lib/local/workflow-runner.ts';
import { workflows } from '../../shared/platform/declarations.ts';
import { fixtureLog } from '../fixtures/handlers/fixture-log.ts';
import { eventually, FIXTURE_HANDLERS, REPO_ROOT, sharedEmulators, startTestServices } from './support/local-services.ts';

describe('queue poller', () => {
  const deliveries = fixtureLog<{ body: string; receiveCount: number; batchSize: number }>('deliveries');
  let sqs: SQSClient;
  let queue: LocalQueue;
  let poller: QueuePoller;

  beforeAll(async () => {
    sqs = new SQSClient({ region: 'us-east-1', endpoint: sharedEmulators().endpoints.sqs, credentials: LOCAL_CREDENTIALS });
    const make = async (name: string): Promise<{ url: string; arn: string }> => {
      const url = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl as string;
      const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
      return { url, arn: attrs.Attributes?.QueueArn as string };
    };
    const suffix = Date.now().toString(36);
    const dlq = await make(`it-poller-${suffix}-dlq`);
    const main = await make(`it-poller-${suffix}`);
    queue = {
      key: 'test',
      url: main.url,
      arn: main.arn,
      dlqUrl: dlq.url,
      dlqArn: dlq.arn,
      decl: { name: 'Test', envVar: 'SCAN_JOBS_QUEUE_URL', consumer: { entry: 'test/consumer', timeoutSeconds: 10 }, concurrency: 1, batchSize: 10, maxReceives: 3 },
    };
    const runtime = new HandlerRuntime(REPO_ROOT, { 'test/consumer': `${FIXTURE_HANDLERS}/recording-consumer.ts` });
    poller = new QueuePoller({ sqs, runtime, queues: [queue], region: 'us-east-1', retryDelaySeconds: 1, waitSeconds: 1 });
  });
  afterAll(async () => {
    await poller?.stop();
    sqs?.destroy();
  });

  const seen = (body: string): number[] => deliveries.filter((d) => d.body === body).map((d) => d.receiveCount);
  const deadLettered = async (count: number): Promise<string[]> => {
    const dead: string[] = [];
    await eventually(async () => {
      const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
      for (const m of got.Messages ?? []) dead.push(m.Body ?? '');
      return dead.length >= count ? true : undefined;
    }, 30_000);
    return dead.sort();
  };

  it('deletes successes, retries partial-batch failures and dead-letters them after maxReceives', async () => {
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'ok-1' }));
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'fail-1' }));
    poller.start();
    expect(await deadLettered(1)).toEqual(['fail-1']);
    expect(seen('ok-1')).toEqual([1]);
    expect(seen('fail-1')).toEqual([1, 2, 3]);
  }, 40_000);

  it('retries a whole batch when the consumer throws, then dead-letters it', async () => {
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'throw' }));
    expect(await deadLettered(1)).toEqual(['throw']);
    expect(seen('throw')).toEqual([1, 2, 3]);
    const main = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
    expect(main.Attributes?.ApproximateNumberOfMessages).toBe('0');
    expect(main.Attributes?.ApproximateNumberOfMessagesNotVisible).toBe('0');
  }, 40_000);
});

describe('workflow runner and Step Functions endpoint', () => {
  const calls = fixtureLog<{ step: string; input: Record<string, unknown> }>('calls');
  let services: Services;

  beforeAll(async () => {
    const overrides: Record<string, string> = {};
    for (const step of [...Object.values(workflows.scan.steps), workflows.scan.fail]) overrides[step.entry] = `${FIXTURE_HANDLERS}/workflow-step.ts`;
    services = await startTestServices({ handlerOverrides: overrides });
  });
  afterAll(async () => {
    await services?.stop();
  });

  const sfnCall = async (operation: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
    const res = await fetch(services.sfnEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `AWSStepFunctions.${operation}` },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  it('runs the synthesized scan workflow: every step in order, the Map over each shard', async () => {
    calls.length = 0;
    const { SFNClient, StartExecutionCommand, DescribeExecutionCommand } = await import('@aws-sdk/client-sfn');
    const sfn = new SFNClient({});
    try {
      const started = await sfn.send(new StartExecutionCommand({ stateMachineArn: process.env.SCAN_WORKFLOW_ARN, name: 'ok-run', input: '{"scanId":"s1"}' }));
      expect(started.executionArn).toContain(':execution:ScanWorkflow:ok-run');
      const done = await eventually(async () => {
        const d = await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
        return d.status === 'RUNNING' ? undefined : d;
      });
      expect(done.status).toBe('SUCCEEDED');
      const output = JSON.parse(done.output ?? '{}') as Record<string, unknown>;
      expect(output.scanId).toBe('s1');
      expect(output.shardResults).toEqual([
        { shard: 'a', findings: 1 },
        { shard: 'b', findings: 1 },
        { shard: 'c', findings: 1 },
      ]);
      expect(output.trail).toEqual(['fetch-source', 'triage-findings', 'persist-findings', 'write-reports', 'finish-scan']);
      expect(calls.filter((c) => c.step === 'analyze-shard')).toHaveLength(3);
    } finally {
      sfn.destroy();
    }
  });

  it('retries a failing step, then runs the fail step with the error and the input, and fails', async () => {
    calls.length = 0;
    const arn = stateMachineArn(workflows.scan.name);
    const started = await sfnCall('StartExecution', { stateMachineArn: arn, name: 'bad-run', input: '{"scanId":"s2","failAt":"triage-findings"}' });
    expect(started.status).toBe(200);
    const done = await eventually(async () => {
      const d = await sfnCall('DescribeExecution', { executionArn: started.json.executionArn });
      return d.json.status === 'RUNNING' ? undefined : d.json;
    });
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('ScanWorkflow.Failed');
    expect(calls.filter((c) => c.step === 'triage-findings')).toHaveLength(3);
    expect(calls.some((c) => c.step === 'persist-findings')).toBe(false);
    const fail = calls.find((c) => c.step === 'fail-scan');
    expect(fail?.input).toMatchObject({
      scanId: 's2',
      error: { Error: 'StepFailedError', Cause: 'triage-findings could not finish' },
    });
  });

  it('is idempotent by execution name and rejects bad requests with typed errors', async () => {
    const arn = stateMachineArn(workflows.scan.name);
    const first = await sfnCall('StartExecution', { stateMachineArn: arn, name: 'same', input: '{"scanId":"s3","failAt":"fetch-source"}' });
    const again = await sfnCall('StartExecution', { stateMachineArn: arn, name: 'same', input: '{"scanId":"s3","failAt":"fetch-source"}' });
    expect(again.json.executionArn).toBe(first.json.executionArn);
    const conflict = await sfnCall('StartExecution', { stateMachineArn: arn, name: 'same', input: '{"scanId":"other"}' });
    expect(conflict).toMatchObject({ status: 400, json: { __type: 'ExecutionAlreadyExists' } });
    expect((await sfnCall('StartExecution', { stateMachineArn: `${arn}Nope` })).json.__type).toBe('StateMachineDoesNotExist');
    expect((await sfnCall('StartExecution', { stateMachineArn: arn, input: 'not json' })).json.__type).toBe('InvalidExecutionInput');
    expect((await sfnCall('DescribeExecution', { executionArn: `${arn}:nope` })).json.__type).toBe('ExecutionDoesNotExist');
    expect((await sfnCall('ListTagsForResource', {})).json.__type).toBe('UnknownOperationException');
  });
});

describe('scheduler', () => {
  it('invokes the handler with a scheduled event at the next matching minute', async () => {
    const events = fixtureLog<{ 'detail-type': string; source: string; time: string; resources: string[] }>('events');
    events.length = 0;
    const runtime = new HandlerRuntime(REPO_ROOT, { 'test/job': `${FIXTURE_HANDLERS}/scheduled-job.ts` });
    // A clock 300 ms before the next whole minute, so the every-minute schedule fires almost at once.
    const offset = 60_000 - (Date.now() % 60_000) - 300;
    const scheduler = new Scheduler({
      schedules: [{ name: 'EveryMinute', description: 'test', cron: { minute: '*', hour: '*' }, entry: 'test/job', timeoutSeconds: 5 }],
      runtime,
      now: () => new Date(Date.now() + offset),
    });
    scheduler.start();
    try {
      const event = await eventually(() => events[0], 5000);
      expect(event['detail-type']).toBe('Scheduled Event');
      expect(event.source).toBe('aws.events');
      expect(event.time).toMatch(/:00Z$/);
      expect(event.resources[0]).toMatch(/rule\/EveryMinute$/);
    } finally {
      scheduler.stop();
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(events).toHaveLength(1);
  });
});
