import { afterAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { SQSBatchResponse } from 'aws-lambda';
import { awsJson, setBaseEnv, startDynamo, startStubServer } from '../runtime/support/aws-local.ts';
import { startConnectionsEndpoint } from '../realtime/support/connections-endpoint.ts';
import { lambdaContext, sqsEvent } from '../http/support/events.ts';

setBaseEnv();
const dynamo = await startDynamo();
const sockets = await startConnectionsEndpoint();

/** Step Functions StartExecution with its idempotency rule: same name and input → same execution. */
const executions = new Map<string, string>();
const stepFunctions = await startStubServer((request, res) => {
  if (request.headers['x-amz-target'] !== 'AWSStepFunctions.StartExecution') return awsJson(res, 400, { message: 'unexpected' }, 'InvalidRequest');
  const { stateMachineArn, name, input } = JSON.parse(request.body) as { stateMachineArn: string; name: string; input: string };
  const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  if (executions.has(name) && executions.get(name) !== input) return awsJson(res, 400, { message: 'Execution already exists' }, 'ExecutionAlreadyExists');
  executions.set(name, input);
  awsJson(res, 200, { executionArn, startDate: Date.now() / 1000 });
});
process.env.AWS_ENDPOINT_URL_SFN = stepFunctions.endpoint;
process.env.SCAN_WORKFLOW_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:ScanWorkflow';
process.env.FIX_WORKFLOW_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:FixWorkflow';
process.env.WEBSOCKET_ENDPOINT = sockets.endpoint;

const startScan = (await import('../../../lambdas/jobs/start-scan.ts')).handler;
const startFix = (await import('../../../lambdas/jobs/start-fix.ts')).handler;
const failScan = (await import('../../../lambdas/scan-steps/fail-scan.ts')).handler;
const failFix = (await import('../../../lambdas/fix-steps/fail-fix.ts')).handler;
const { putItem, getItem } = await import('../../../shared/db/client.ts');
const { scanKey, fixKey } = await import('../../../shared/db/jobs.ts');
const { saveConnection } = await import('../../../shared/realtime/connections.ts');

afterAll(async () => {
  await Promise.all([dynamo.stop(), sockets.close(), stepFunctions.close()]);
});
beforeEach(() => {
  stepFunctions.requests.length = 0;
});
const ctx = lambdaContext('jobs');
const scanJob = { scanId: 'scan-0001', repositoryId: 'repo-1', userId: 'user-1', trigger: 'manual' };

describe('start-scan and start-fix', () => {
  it('starts one execution named after the scan, with the job as input', async () => {
    const result = (await startScan(sqsEvent([JSON.stringify(scanJob)]), ctx)) as SQSBatchResponse;
    expect(result.batchItemFailures).toEqual([]);
    const sent = JSON.parse(stepFunctions.requests[0]?.body ?? '{}') as Record<string, string>;
    expect(sent).toMatchObject({ stateMachineArn: process.env.SCAN_WORKFLOW_ARN, name: 'scan-scan-0001' });
    expect(JSON.parse(sent.input ?? '{}')).toEqual(scanJob);
  });

  it('treats a redelivered job as done, even when Step Functions refuses the name', async () => {
    const again = (await startScan(sqsEvent([JSON.stringify(scanJob)]), ctx)) as SQSBatchResponse;
    expect(again.batchItemFailures).toEqual([]);
    const changed = (await startScan(sqsEvent([JSON.stringify({ ...scanJob, branch: 'dev' })]), ctx)) as SQSBatchResponse;
    expect(changed.batchItemFailures).toEqual([]);
    expect(stepFunctions.requests.map((r) => JSON.parse(r.body).name)).toEqual(['scan-scan-0001', 'scan-scan-0001']);
  });

  it('fails only the invalid messages of a batch and starts nothing for them', async () => {
    const event = sqsEvent([
      JSON.stringify({ ...scanJob, scanId: 'scan-0002' }),
      JSON.stringify({ ...scanJob, scanId: 'has spaces/and slashes' }),
      JSON.stringify({ ...scanJob, trigger: 'whenever' }),
    ]);
    const result = (await startScan(event, ctx)) as SQSBatchResponse;
    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([event.Records[1]?.messageId, event.Records[2]?.messageId]);
    expect(stepFunctions.requests).toHaveLength(1);
  });

  it('starts the fix workflow named after the fix job', async () => {
    const fixJob = { fixId: 'fix-77', vulnerabilityId: 'vuln-1', repositoryId: 'repo-1', userId: 'user-1' };
    const result = (await startFix(sqsEvent([JSON.stringify(fixJob)]), ctx)) as SQSBatchResponse;
    expect(result.batchItemFailures).toEqual([]);
    expect(JSON.parse(stepFunctions.requests[0]?.body ?? '{}')).toMatchObject({ stateMachineArn: process.env.FIX_WORKFLOW_ARN, name: 'fix-fix-77' });
  });
});

describe('fail-scan and fail-fix', () => {
  const caught = {
    Error: 'NotImplementedError',
    Cause: JSON.stringify({ errorType: 'NotImplementedError', errorMessage: 'The scan step "fetchSource" is not implemented yet', trace: [] }),
  };

  it('marks the scan failed with a readable reason and tells the owner', async () => {
    await putItem({ ...scanKey('scan-0003'), status: 'scanning', repositoryId: 'repo-1', userId: 'user-1' });
    await saveConnection('user-1', 'dash-1');
    const output = await failScan({ ...scanJob, scanId: 'scan-0003', error: caught }, ctx);
    const reason = 'NotImplementedError: The scan step "fetchSource" is not implemented yet';
    expect(output).toEqual({ scanId: 'scan-0003', status: 'failed', reason });
    expect(await getItem(scanKey('scan-0003'))).toMatchObject({ status: 'failed', failureReason: reason, failedAt: expect.any(String) });
    const pushed = JSON.parse(sockets.received.get('dash-1')?.[0] ?? '{}') as Record<string, unknown>;
    expect(pushed).toMatchObject({ event: 'scan:failed', data: { scanId: 'scan-0003', repositoryId: 'repo-1', reason } });
  });

  it('redacts secrets in the reason and keeps plain-text causes', async () => {
    await putItem({ ...scanKey('scan-0004'), status: 'scanning' });
    const output = await failScan({ ...scanJob, scanId: 'scan-0004', error: { Error: 'States.Timeout', Cause: 'clone with token=ghp_abcdefghijklmnopqrstuvwxyz0123456789 timed out' } }, ctx);
    expect(output.reason).toBe('States.Timeout: clone with token=[REDACTED] timed out');
  });

  it('leaves a scan that does not exist uncreated, and refuses input without the caught error', async () => {
    const output = await failScan({ ...scanJob, scanId: 'scan-ghost', error: caught }, ctx);
    expect(output).toMatchObject({ scanId: 'scan-ghost', status: 'failed' });
    expect(await getItem(scanKey('scan-ghost'))).toBeUndefined();
    await expect(failScan({ ...scanJob }, ctx)).rejects.toMatchObject({ name: 'ValidationError' });
  });

  it('marks a fix job failed with its reason', async () => {
    await putItem({ ...fixKey('fix-9'), status: 'building' });
    const fixJob = { fixId: 'fix-9', vulnerabilityId: 'vuln-1', repositoryId: 'repo-1', userId: 'user-1' };
    const output = await failFix({ ...fixJob, error: { Error: 'ValidationFailed', Cause: 'the fixed file no longer parses' } }, ctx);
    expect(output).toMatchObject({ fixId: 'fix-9', status: 'failed' });
    expect(await getItem(fixKey('fix-9'))).toMatchObject({ status: 'failed', failureReason: 'ValidationFailed: the fixed file no longer parses' });
  });
});

describe('scan steps', () => {
  it.each(['fetch-source', 'plan-shards', 'persist-findings', 'write-reports', 'finish-scan'])('%s refuses input that is not a scan job', async (name) => {
    const { handler } = await import(`../../../lambdas/scan-steps/${name}.ts`);
    await expect(handler({ scanId: 'bad id' }, ctx)).rejects.toMatchObject({ name: 'ValidationError' });
  });

  it('the shard step refuses input that is not a shard', async () => {
    const { handler } = await import('../../../lambdas/scan-steps/analyze-shard.ts');
    await expect(handler(scanJob, ctx)).rejects.toMatchObject({ name: 'ValidationError' });
  });
});

describe('fix steps', () => {
  const fixSteps = ['build-fix', 'validate-fix', 'open-pull-request'];
  const fixJob = { fixId: 'fix-1', vulnerabilityId: 'v', repositoryId: 'r', userId: 'u' };

  it.each(fixSteps)('fix step %s validates its input; a job whose vulnerability is gone ends not proposed', async (name) => {
    const { handler } = await import(`../../../lambdas/fix-steps/${name}.ts`);
    await expect(handler({ fixId: 'f' }, ctx)).rejects.toMatchObject({ name: 'ValidationError' });
    const done = { ...fixJob, outcome: { status: 'not_proposed', code: 'VULNERABILITY_NOT_FOUND', reason: 'The vulnerability no longer exists' } };
    await expect(handler(name === 'build-fix' ? fixJob : done, ctx)).resolves.toMatchObject({ outcome: done.outcome });
  });
});
