import { beforeAll, describe, expect, test } from '@jest/globals';
import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { GLOBAL_INDEXES } from '../../shared/db/table-definition.ts';
import { ENV } from '../../shared/platform/declarations.ts';
import { AppFunction } from '../../lib/constructs/app-function.ts';
import { acknowledgeWildcardResource } from '../../lib/constructs/nag.ts';
import { testApp } from './platform-fixture.ts';

const noBundling = { 'aws:cdk:bundling-stacks': [] };

describe('AppFunction defaults and bind helpers', () => {
  let stack: Stack;
  let t: Template;
  let fn: AppFunction;

  beforeAll(() => {
    const app = testApp(noBundling);
    stack = new Stack(app, 'Fn');
    const table = new dynamodb.Table(stack, 'Table', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
    const bucket = new s3.Bucket(stack, 'Bucket');
    const queue = new sqs.Queue(stack, 'Queue');
    const machine = new sfn.StateMachine(stack, 'Machine', { definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Pass')) });
    const key = new kms.Key(stack, 'Key');
    const secret = new secretsmanager.Secret(stack, 'Secret', { encryptionKey: key });
    fn = new AppFunction(stack, 'Handler', { handler: { entry: 'lambdas/http/get-health.ts', memoryMb: 1024 } })
      .bindTable(table, 'read')
      .bindBucket(bucket, 'write')
      .bindQueue(queue, ENV.scanJobsQueueUrl)
      .bindWorkflow(machine, ENV.scanWorkflowArn)
      .bindSecret(secret)
      .bindWebSocket('abc123', 'ws', 'https://abc123.execute-api.eu-west-1.amazonaws.com/ws');
    t = Template.fromStack(stack);
  });

  test('nodejs22.x on ARM64, tracing, declared memory, 29 s default timeout, Powertools environment', () => {
    t.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 1024,
      Timeout: 29,
      TracingConfig: { Mode: 'Active' },
      Environment: {
        Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'codeguardian', POWERTOOLS_LOG_LEVEL: 'INFO', NODE_OPTIONS: '--enable-source-maps' }),
      },
    });
  });

  test('its own log group with one month retention, and a role that writes only there (no managed policy)', () => {
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    const roles = Object.values(t.findResources('AWS::IAM::Role'));
    const fnRole = roles.find((r) => JSON.stringify(r).includes('lambda.amazonaws.com'));
    expect(fnRole?.Properties.ManagedPolicyArns).toBeUndefined();
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^HandlerLogs'), 'Arn'] } }),
        ]),
      },
    });
  });

  test('each bind sets its declared environment variable', () => {
    const env = Object.values(t.findResources('AWS::Lambda::Function'))[0]?.Properties.Environment.Variables;
    expect(Object.keys(env)).toEqual(
      expect.arrayContaining([ENV.tableName, ENV.bucketName, ENV.scanJobsQueueUrl, ENV.scanWorkflowArn, ENV.secretsArn, ENV.websocketEndpoint]),
    );
    expect(env[ENV.websocketEndpoint]).toBe('https://abc123.execute-api.eu-west-1.amazonaws.com/ws');
    expect(env[ENV.secretsArn]).toEqual({ Ref: expect.stringMatching(/^Secret/) });
  });

  test('table access names the table and each declared index, read access has no write or Scan', () => {
    const statement = policyStatements(t).find((s) => JSON.stringify(s.Action).includes('dynamodb:'));
    expect(statement?.Action).toEqual(['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem', 'dynamodb:DescribeTable']);
    expect(JSON.stringify(statement?.Resource)).not.toContain('*');
    for (const index of GLOBAL_INDEXES) expect(JSON.stringify(statement?.Resource)).toContain(`/index/${index.name}`);
  });

  test('secret access: read the one secret, decrypt only through Secrets Manager', () => {
    const statements = policyStatements(t);
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: { Ref: expect.stringMatching(/^Secret/) } }),
        expect.objectContaining({
          Action: 'kms:Decrypt',
          Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } } },
        }),
      ]),
    );
  });

  test('send-only queue access and StartExecution on the one state machine', () => {
    const actions = policyStatements(t).flatMap((s) => [s.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['sqs:SendMessage', 'states:StartExecution', 'execute-api:ManageConnections']));
    expect(actions).not.toContain('sqs:ReceiveMessage');
    expect(actions).not.toContain('sqs:DeleteMessage');
  });

  test('cdk-nag: its wildcards (X-Ray, bucket objects, connections) are acknowledged, nothing else reported', () => {
    const report = new AwsSolutionsChecks().validateScope(fn);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });

  test('bundling-skipped stacks get a placeholder instead of building', () => {
    expect(Object.values(t.findResources('AWS::Lambda::Function'))[0]?.Properties.Code).toEqual({
      ZipFile: '// bundling skipped for lambdas/http/get-health.ts',
    });
  });

  test('a bundled stack deploys the esbuild output as an asset', () => {
    const app = testApp();
    const bundled = new Stack(app, 'Bundled');
    new AppFunction(bundled, 'Health', { handler: { entry: 'lambdas/http/get-health.ts' } });
    const code = Template.fromStack(bundled).findResources('AWS::Lambda::Function');
    expect(Object.values(code)[0]?.Properties.Code).toEqual({ S3Bucket: expect.anything(), S3Key: expect.stringMatching(/\.zip$/) });
  });
});

describe('AppFunction refuses bad props at synth', () => {
  const make = (props: Partial<ConstructorParameters<typeof AppFunction>[2]> & { memoryMb?: number; timeoutSeconds?: number }) => () => {
    const stack = new Stack(testApp(noBundling), 'Bad');
    new AppFunction(stack, 'Fn', {
      handler: { entry: 'lambdas/http/get-health.ts', memoryMb: props.memoryMb, timeoutSeconds: props.timeoutSeconds },
      reservedConcurrency: props.reservedConcurrency,
      defaultTimeout: props.defaultTimeout,
    });
  };

  test.each([
    [{ memoryMb: 64 }, 'lambdas/http/get-health.ts: memoryMb must be an integer from 128 to 10240, got 64'],
    [{ memoryMb: 1000.5 }, 'memoryMb must be an integer from 128 to 10240, got 1000.5'],
    [{ timeoutSeconds: 901 }, 'timeout must be 1 to 900 seconds, got 901'],
    [{ defaultTimeout: Duration.minutes(20) }, 'timeout must be 1 to 900 seconds, got 1200'],
    [{ reservedConcurrency: 0 }, 'reservedConcurrency must be a positive integer'],
  ])('%j', (props, message) => {
    expect(make(props)).toThrow(message);
  });

  test('a missing entry in a bundled stack fails synth naming the entry', () => {
    const stack = new Stack(testApp(), 'Missing');
    expect(() => new AppFunction(stack, 'Fn', { handler: { entry: 'lambdas/http/not-written-yet.ts' } })).toThrow(
      'Handler entry lambdas/http/not-written-yet.ts does not exist',
    );
  });
});

describe('acknowledgeWildcardResource', () => {
  const wildcardStack = (acknowledge: boolean) => {
    const app = testApp();
    const producer = new Stack(app, 'Producer');
    const bucket = new s3.Bucket(producer, 'Bucket');
    const consumer = new Stack(app, 'Consumer');
    const role = new iam.Role(consumer, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [`${bucket.bucketArn}/*`] }));
    if (acknowledge) acknowledgeWildcardResource(role, `${bucket.bucketArn}/*`, 'Objects of this one bucket, keys known at run time only');
    app.synth();
    return new AwsSolutionsChecks().validateScope(role).violations.map((v) => v.ruleName);
  };

  test('a cross-stack wildcard is reported by cdk-nag when not acknowledged', () => {
    expect(wildcardStack(false)).toEqual([expect.stringMatching(/^AwsSolutions-IAM5\[Resource::Producer:ExportsOutput.*\/\*\]$/)]);
  });

  test('the same wildcard, acknowledged with its token, is not', () => {
    expect(wildcardStack(true)).toEqual([]);
  });
});

function policyStatements(t: Template): Array<{ Action: string | string[]; Resource: unknown; Condition?: unknown }> {
  return Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
}
