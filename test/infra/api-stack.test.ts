import { beforeAll, describe, expect, test } from '@jest/globals';
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { ENV, type RouteDecl } from '../../shared/platform/declarations.ts';
import { ApiStack } from '../../lib/stacks/api-stack.ts';
import { DataStack } from '../../lib/stacks/data-stack.ts';
import { readStageConfig } from '../../lib/stacks/stage-config.ts';
import { testApp } from './platform-fixture.ts';

const ROUTES: readonly RouteDecl[] = [
  { method: 'GET', path: '/api/health', access: 'public', entry: 'lambdas/http/get-health.ts', summary: 'health' },
  { method: 'GET', path: '/api/repositories/{id}', access: 'user', entry: 'lambdas/http/get-repository.ts', summary: 'one' },
  { method: 'DELETE', path: '/api/repositories/{id}', access: 'user', entry: 'lambdas/http/get-repository.ts', summary: 'same entry, other route' },
  { method: 'POST', path: '/api/webhooks/github/pr', access: 'github', entry: 'lambdas/webhooks/receive-github-pr.ts', summary: 'pr' },
  { method: 'POST', path: '/api/webhooks/github', access: 'github', entry: 'lambdas/webhooks/receive-github.ts', summary: 'all events' },
];

function build(routes: readonly RouteDecl[]) {
  const app = testApp({ 'aws:cdk:bundling-stacks': [], frontendUrl: 'https://app.example.com' });
  const config = readStageConfig(app.node);
  const data = new DataStack(app, 'Data');
  const support = new Stack(app, 'Support');
  const queue = (id: string) => new sqs.Queue(support, id, { encryption: sqs.QueueEncryption.SQS_MANAGED });
  const scanWorkflow = new sfn.StateMachine(support, 'Scan', { definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(support, 'Pass')) });
  const api = new ApiStack(app, 'Api', {
    config,
    data,
    routes,
    scanWorkflow,
    queues: { scanJobs: queue('ScanJobs'), fixGeneration: queue('FixGeneration'), notifications: queue('Notifications'), githubEvents: queue('GithubEvents') },
  });
  return { api, data };
}

describe('ApiStack from a route list', () => {
  let api: ApiStack;
  let t: Template;
  beforeAll(() => {
    ({ api } = build(ROUTES));
    t = Template.fromStack(api);
  });

  test('routes sharing an entry share one function; every route gets its own route resource', () => {
    t.resourceCountIs('AWS::Lambda::Function', 4);
    t.resourceCountIs('AWS::ApiGatewayV2::Route', ROUTES.length);
    expect(api.routeFunctions.get('GET /api/repositories/{id}')).toBe(api.routeFunctions.get('DELETE /api/repositories/{id}'));
    t.hasResourceProperties('AWS::ApiGatewayV2::Api', { CorsConfiguration: Match.objectLike({ AllowMethods: ['GET', 'DELETE', 'POST'] }) });
  });

  test('the webhook URL output is the shortest POST route with GitHub access', () => {
    t.hasOutput('WebhookUrl', { Value: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('/api/webhooks/github$')])] } });
  });

  test('webhook functions may only record and enqueue; user routes get the wider set', () => {
    const envOf = (key: string) => {
      const fn = api.routeFunctions.get(key)!;
      return t.toJSON().Resources[api.getLogicalId(fn.function.node.defaultChild as never)].Properties.Environment.Variables as Record<string, unknown>;
    };
    const webhook = envOf('POST /api/webhooks/github');
    expect(webhook[ENV.githubEventsQueueUrl]).toBeDefined();
    for (const name of [ENV.bucketName, ENV.scanJobsQueueUrl, ENV.scanWorkflowArn]) expect(webhook[name]).toBeUndefined();
    const user = envOf('GET /api/repositories/{id}');
    for (const name of [ENV.bucketName, ENV.scanJobsQueueUrl, ENV.fixGenerationQueueUrl, ENV.scanWorkflowArn, ENV.tableName, ENV.secretsArn, ENV.tokenKmsKeyId]) {
      expect(user[name]).toBeDefined();
    }
    expect(user[ENV.githubEventsQueueUrl]).toBeUndefined();
    expect(webhook[ENV.tokenKmsKeyId]).toBeUndefined();
  });
});

test('user routes may envelope-encrypt GitHub tokens with the data stack\'s token key, and nothing more', () => {
  const { api } = build(ROUTES);
  const policies = Template.fromStack(api).findResources('AWS::IAM::Policy');
  const kmsStatements = Object.values(policies)
    .flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: { Action: unknown }[] } } }).Properties.PolicyDocument.Statement)
    .filter((statement) => JSON.stringify(statement.Action).includes('kms:GenerateDataKey'));
  expect(kmsStatements.length).toBeGreaterThan(0);
  for (const statement of kmsStatements) expect(statement.Action).toEqual(['kms:GenerateDataKey', 'kms:Decrypt']);
});

describe('ApiStack refuses bad route lists', () => {
  test('a route declared twice', () => {
    const first = ROUTES[0]!;
    expect(() => build([first, { ...first, entry: 'lambdas/http/other.ts' }])).toThrow('Route GET /api/health is declared twice');
  });

  test('a path without a leading slash', () => {
    expect(() => build([{ ...ROUTES[0]!, path: 'api/health' }])).toThrow('Route GET api/health: path must start with /');
  });
});
