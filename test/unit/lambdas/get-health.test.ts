import { afterAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createSqsServer } from 'local-aws-sqs';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { queues } from '../../../shared/platform/declarations.ts';
import { setBaseEnv, startDynamo, startStubServer } from '../runtime/support/aws-local.ts';
import { httpEvent, lambdaContext } from '../http/support/events.ts';

setBaseEnv();
const dynamo = await startDynamo();
const sqsServer = await createSqsServer({ port: 0, hostname: '127.0.0.1' } as never);
const sqsAddress = sqsServer.address();
const sqsEndpoint = `http://127.0.0.1:${typeof sqsAddress === 'object' && sqsAddress ? sqsAddress.port : 0}`;
let bucketMode: 'ok' | 'missing' | 'hang' = 'ok';
const s3 = await startStubServer((request, res) => {
  if (bucketMode === 'hang') return;
  res.writeHead(bucketMode === 'ok' && request.method === 'HEAD' && request.url.startsWith('/reports-bucket') ? 200 : 404);
  res.end();
});
let githubStatus = 200;
const github = await startStubServer((_request, res) => {
  res.writeHead(githubStatus, { 'content-type': 'application/json' });
  res.end('{}');
});
process.env.AWS_ENDPOINT_URL_S3 = s3.endpoint;
process.env.AWS_ENDPOINT_URL_SQS = sqsEndpoint;
process.env.S3_BUCKET_NAME = 'reports-bucket';

const sqs = new SQSClient({ endpoint: sqsEndpoint });
const queueUrls: Record<string, string> = {};
for (const queue of Object.values(queues)) {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: queue.name }));
  queueUrls[queue.envVar] = QueueUrl as string;
}
sqs.destroy();

const { handler } = await import('../../../lambdas/http/get-health.ts');
const { clearSecretsCache } = await import('../../../shared/runtime/env.ts');
const ctx = lambdaContext('get-health');
const call = async () => {
  const result = (await handler(httpEvent({ path: '/api/health' }), ctx)) as APIGatewayProxyStructuredResultV2;
  return { status: result.statusCode, body: JSON.parse(result.body ?? '{}') as Record<string, unknown> };
};

beforeEach(() => {
  Object.assign(process.env, queueUrls);
  bucketMode = 'ok';
  githubStatus = 200;
  for (const name of ['GITHUB_APP_ID', 'GITHUB_APP_PRIVATE_KEY', 'BEDROCK_MODEL_ID', 'GITHUB_API_URL']) delete process.env[name];
});
afterAll(async () => {
  await Promise.all([dynamo.stop(), s3.close(), github.close(), new Promise((r) => sqsServer.close(r))]);
});

describe('GET /api/health', () => {
  it('is healthy locally when the table, bucket and every queue answer, reporting GitHub and the model as not configured', async () => {
    const { status, body } = await call();
    expect(status).toBe(200);
    expect(body).toEqual({
      status: 'healthy',
      version: expect.any(String),
      services: {
        table: 'up',
        bucket: 'up',
        ...Object.fromEntries(Object.keys(queues).map((key) => [`queue:${key}`, 'up'])),
        github: 'not_configured',
        model: 'not_configured',
      },
    });
  });

  it('answers 503 naming a queue that does not exist', async () => {
    process.env.NOTIFICATIONS_QUEUE_URL = `${sqsEndpoint}/123456789012/Missing`;
    const { status, body } = await call();
    expect(status).toBe(503);
    expect(body).toMatchObject({ status: 'unhealthy', code: 'SERVICE_UNAVAILABLE', failing: ['queue:notifications'] });
    expect(body.error).toBe('Unavailable: queue:notifications');
  });

  it('answers 503 naming the bucket when it is missing, and when it does not answer in time', async () => {
    bucketMode = 'missing';
    expect((await call()).body.failing).toEqual(['bucket']);
    bucketMode = 'hang';
    const started = Date.now();
    const { status, body } = await call();
    expect(status).toBe(503);
    expect(body.failing).toEqual(['bucket']);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('answers 503 naming the table when its name is wrong, and when a variable is unset', async () => {
    process.env.TABLE_NAME = 'no-such-table';
    expect((await call()).body.failing).toEqual(['table']);
    process.env.TABLE_NAME = 'codeguardian-unit';
    delete process.env.SCAN_JOBS_QUEUE_URL;
    expect((await call()).body.failing).toEqual(['queue:scanJobs']);
  });

  it('checks GitHub when configured: up when it answers, failing when unreachable', async () => {
    process.env.GITHUB_APP_ID = '12345';
    process.env.GITHUB_APP_PRIVATE_KEY = 'unit-test-key-material';
    process.env.GITHUB_API_URL = github.endpoint;
    process.env.BEDROCK_MODEL_ID = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
    clearSecretsCache();
    const { status, body } = await call();
    expect(status).toBe(200);
    expect(body.services).toMatchObject({ github: 'up', model: 'up' });
    expect(github.requests.at(-1)?.url).toBe('/meta');

    githubStatus = 503;
    const down = await call();
    expect(down.status).toBe(503);
    expect(down.body.failing).toEqual(['github']);
  });
});
