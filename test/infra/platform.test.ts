import { beforeAll, describe, expect, test } from '@jest/globals';
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { GLOBAL_INDEXES, TABLE_KEYS, TTL_ATTRIBUTE } from '../../shared/db/table-definition.ts';
import { allHandlerEntries, queues, routes, schedules, websocket, workflows, type HandlerDecl, type RouteDecl } from '../../shared/platform/declarations.ts';
import type { Platform } from '../../lib/stacks/platform.ts';
import { buildPlatform, TEST_CONTEXT } from './platform-fixture.ts';

// One synthesized app for the whole file: synthesis (with cdk-nag) is the slow part.
let platform: Platform;
let app: ReturnType<typeof buildPlatform>['app'];
const templates = new Map<Stack, Template>();
const template = (stack: Stack): Template => {
  let t = templates.get(stack);
  if (!t) {
    t = Template.fromStack(stack);
    templates.set(stack, t);
  }
  return t;
};
const allStacks = (): Stack[] => Object.values(platform);

beforeAll(() => {
  ({ app, platform } = buildPlatform());
  app.synth();
});

describe('every function', () => {
  test('runs nodejs22.x on ARM64 with active tracing, JSON logs to its own log group', () => {
    let functions = 0;
    for (const stack of allStacks()) {
      const fns = template(stack).findResources('AWS::Lambda::Function');
      for (const [id, fn] of Object.entries(fns)) {
        functions += 1;
        expect({ id, runtime: fn.Properties.Runtime, arch: fn.Properties.Architectures }).toEqual({ id, runtime: 'nodejs22.x', arch: ['arm64'] });
        expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
        expect(fn.Properties.LoggingConfig).toEqual(expect.objectContaining({ LogFormat: 'JSON', LogGroup: expect.anything() }));
        expect(fn.Properties.Handler).toBe('index.handler');
        expect(fn.Properties.Environment.Variables).toEqual(
          expect.objectContaining({ POWERTOOLS_SERVICE_NAME: 'codeguardian', POWERTOOLS_LOG_LEVEL: 'INFO', STAGE: 'test', NODE_OPTIONS: '--enable-source-maps' }),
        );
      }
    }
    // One function per declared entry: no handler is deployed twice, none is missing.
    expect(functions).toBe(allHandlerEntries().length);
  });

  test('gets the Bedrock grant only on the configured model and inference profile', () => {
    const t = template(platform.workflows);
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'],
            Resource: Match.arrayWith([
              Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(`inference-profile/${TEST_CONTEXT.bedrockModelId}$`)])] }),
            ]),
          }),
        ]),
      },
    });
    for (const stack of allStacks()) {
      const policies = JSON.stringify(template(stack).findResources('AWS::IAM::Policy'));
      expect(policies).not.toMatch(/"bedrock:\*"/);
      expect(policies).not.toMatch(/"dynamodb:Scan"/);
    }
  });
});

describe('DataStack', () => {
  test('the single table: on-demand, PITR, TTL, declared keys and GSIs, retained', () => {
    const t = template(platform.data);
    t.resourceCountIs('AWS::DynamoDB::Table', 1);
    t.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
        KeySchema: [
          { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: GLOBAL_INDEXES.map((index) => ({
          IndexName: index.name,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: 'HASH' },
            { AttributeName: index.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        })),
      },
    });
  });

  test('the bucket: encrypted, public access blocked, TLS only, versioned, lifecycle, retained', () => {
    const t = template(platform.data);
    t.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        VersioningConfiguration: { Status: 'Enabled' },
        LifecycleConfiguration: {
          Rules: Match.arrayWith([
            Match.objectLike({ Prefix: 'sources/', ExpirationInDays: 3, Status: 'Enabled' }),
            Match.objectLike({ Prefix: 'reports/', ExpirationInDays: 90, Status: 'Enabled' }),
          ]),
        },
      },
    });
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  test('a rotating KMS key protects the retained application secret', () => {
    const t = template(platform.data);
    t.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain', Properties: { EnableKeyRotation: true } });
    t.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Retain',
      Properties: {
        KmsKeyId: Match.anyValue(),
        GenerateSecretString: Match.objectLike({ GenerateStringKey: 'JWT_SECRET', SecretStringTemplate: Match.stringLikeRegexp('GITHUB_APP_PRIVATE_KEY') }),
      },
    });
  });

  test('handlers get the secret ARN, never a value', () => {
    for (const stack of allStacks()) {
      const fns = template(stack).findResources('AWS::Lambda::Function');
      for (const fn of Object.values(fns)) {
        const env = fn.Properties.Environment.Variables as Record<string, unknown>;
        expect(Object.keys(env).filter((k) => /SECRET|PRIVATE_KEY/.test(k) && k !== 'APP_SECRETS_ARN')).toEqual([]);
        expect(env.APP_SECRETS_ARN).toBeDefined();
      }
    }
  });
});

describe('ApiStack', () => {
  test('one function per route entry and one route per declaration, integrated with that function', () => {
    const t = template(platform.api);
    t.resourceCountIs('AWS::Lambda::Function', new Set(routes.map((r) => r.entry)).size);
    t.resourceCountIs('AWS::ApiGatewayV2::Route', routes.length);
    for (const route of routes) {
      const fn = platform.api.routeFunctions.get(`${route.method} ${route.path}`);
      expect(fn?.entry).toBe(route.entry);
      const fnLogicalId = platform.api.getLogicalId(fn!.function.node.defaultChild as never);
      const integrations = t.findResources('AWS::ApiGatewayV2::Integration', {
        Properties: { IntegrationUri: { 'Fn::GetAtt': [fnLogicalId, 'Arn'] } },
      });
      expect(Object.keys(integrations)).toHaveLength(1);
      t.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: `${route.method} ${route.path}`,
        Target: { 'Fn::Join': ['', ['integrations/', { Ref: Object.keys(integrations)[0] }]] },
      });
    }
  });

  test('CORS for the dashboard origin, throttling and JSON access logs on the stage', () => {
    const t = template(platform.api);
    t.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'HTTP',
      CorsConfiguration: Match.objectLike({ AllowOrigins: [TEST_CONTEXT.frontendUrl], AllowHeaders: ['Authorization', 'Content-Type'] }),
    });
    t.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('"status":"\\$context.status"') },
    });
  });

  test('outputs the API URL, and the webhook URL when a GitHub route is declared', () => {
    const t = template(platform.api);
    t.hasOutput('ApiUrl', { Value: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('/api$')])] } });
    const hasWebhookRoute = (routes as readonly RouteDecl[]).some((r) => r.access === 'github' && r.method === 'POST');
    expect(Object.keys(t.findOutputs('WebhookUrl'))).toHaveLength(hasWebhookRoute ? 1 : 0);
  });
});

describe('RealtimeStack', () => {
  test('WebSocket routes from the declaration, each on its own function, on the declared stage', () => {
    const t = template(platform.realtime);
    t.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'WEBSOCKET' });
    for (const key of ['$connect', '$disconnect', '$default']) t.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: key });
    t.resourceCountIs('AWS::ApiGatewayV2::Route', 3);
    t.resourceCountIs('AWS::Lambda::Function', new Set([websocket.connect, websocket.disconnect, websocket.default].map((h) => h.entry)).size);
    t.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: websocket.path.slice(1),
      DefaultRouteSettings: Match.objectLike({ ThrottlingRateLimit: Match.anyValue() }),
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
    });
    t.hasOutput('WebSocketUrl', Match.anyValue());
  });

  test('functions that post events get the management endpoint and ManageConnections on that stage only', () => {
    const t = template(platform.workflows);
    const fns = t.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: { WEBSOCKET_ENDPOINT: Match.anyValue() } } },
    });
    expect(Object.keys(fns).length).toBeGreaterThan(0);
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'execute-api:ManageConnections',
            Resource: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(`^/${websocket.path.slice(1)}/\\*/@connections/\\*$`)])] },
          }),
        ]),
      },
    });
  });
});

describe('WorkflowsStack', () => {
  const queueEntries = Object.values(queues);

  test('each declared queue: SQS-managed encryption, DLQ after maxReceives, visibility at least 6x the consumer timeout', () => {
    const t = template(platform.workflows);
    t.resourceCountIs('AWS::SQS::Queue', queueEntries.length * 2);
    for (const [name, decl] of Object.entries(queues)) {
      const worker = platform.workflows.workers[name as keyof typeof queues];
      const queueId = platform.workflows.getLogicalId(worker.queue.node.defaultChild as never);
      const dlqId = platform.workflows.getLogicalId(worker.deadLetterQueue.node.defaultChild as never);
      const queue = t.toJSON().Resources[queueId].Properties;
      expect(queue.SqsManagedSseEnabled).toBe(true);
      expect(queue.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: decl.maxReceives });
      expect(decl.maxReceives).toBe(3);
      expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * decl.consumer.timeoutSeconds);
      expect(t.toJSON().Resources[dlqId].Properties.SqsManagedSseEnabled).toBe(true);
      t.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queueId }],
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
    }
  });

  test('each consumer: declared timeout, batch size, max concurrency and partial batch failures', () => {
    const t = template(platform.workflows);
    for (const [name, decl] of Object.entries(queues)) {
      const worker = platform.workflows.workers[name as keyof typeof queues];
      const consumer = platform.workflows.consumers[name as keyof typeof queues];
      const fnId = platform.workflows.getLogicalId(consumer.function.node.defaultChild as never);
      t.hasResourceProperties('AWS::Lambda::Function', { Timeout: decl.consumer.timeoutSeconds, MemorySize: (decl.consumer as HandlerDecl).memoryMb ?? 512 });
      t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: fnId },
        EventSourceArn: { 'Fn::GetAtt': [platform.workflows.getLogicalId(worker.queue.node.defaultChild as never), 'Arn'] },
        BatchSize: decl.batchSize,
        ScalingConfig: { MaximumConcurrency: decl.concurrency },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    }
  });

  test('scan and fix state machines, started by their queue consumers', () => {
    const t = template(platform.workflows);
    t.resourceCountIs('AWS::StepFunctions::StateMachine', Object.keys(workflows).length);
    const pairs = [
      ['scanJobs', 'scan'],
      ['fixGeneration', 'fix'],
    ] as const;
    for (const [queueName, workflowName] of pairs) {
      const smId = platform.workflows.getLogicalId(platform.workflows.workflows[workflowName].stateMachine.node.defaultChild as never);
      const consumer = platform.workflows.consumers[queueName];
      t.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ [workflows[workflowName].envVar]: { Ref: smId } }) },
        Role: { 'Fn::GetAtt': [platform.workflows.getLogicalId(consumer.role.node.defaultChild as never), 'Arn'] },
      });
      t.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: platform.workflows.getLogicalId(consumer.role.node.defaultChild as never) }],
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'states:StartExecution', Resource: { Ref: smId } })]) },
      });
    }
  });

  test('executions that end FAILED, TIMED_OUT or ABORTED reach the workflow\'s closing function', () => {
    const t = template(platform.workflows);
    const closing = (Object.entries(workflows) as [keyof typeof workflows, (typeof workflows)[keyof typeof workflows]][]).filter(([, w]) => 'onExecutionEnded' in w);
    expect(closing.length).toBeGreaterThan(0);
    t.resourceCountIs('AWS::Events::Rule', closing.length);
    for (const [name, workflow] of closing) {
      const smId = platform.workflows.getLogicalId(platform.workflows.workflows[name].stateMachine.node.defaultChild as never);
      const rules = t.findResources('AWS::Events::Rule', {
        Properties: {
          EventPattern: {
            source: ['aws.states'],
            'detail-type': ['Step Functions Execution Status Change'],
            detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: [{ Ref: smId }] },
          },
          State: 'ENABLED',
        },
      });
      expect(Object.keys(rules)).toHaveLength(1);
      const [rule] = Object.values(rules) as { Properties: { Targets: { Arn: { 'Fn::GetAtt': [string, string] } }[] } }[];
      const [fnId] = rule?.Properties.Targets[0]?.Arn['Fn::GetAtt'] ?? [];
      const fn = t.findResources('AWS::Lambda::Function')[fnId ?? ''] as { Properties: { Description?: string } } | undefined;
      expect(fn?.Properties.Description).toContain('onExecutionEnded' in workflow ? workflow.onExecutionEnded.entry : '');
      t.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        FunctionName: { 'Fn::GetAtt': [fnId, 'Arn'] },
      });
    }
  });

  test('step functions use the declared timeouts and memory', () => {
    for (const workflow of Object.values(workflows)) {
      for (const step of [...Object.values(workflow.steps), workflow.fail]) {
        const fn = platform.workflows.stepFunctions.get(step.entry);
        expect(fn?.function.timeout?.toSeconds()).toBe(step.timeoutSeconds);
        template(platform.workflows).hasResourceProperties('AWS::Lambda::Function', {
          Timeout: step.timeoutSeconds,
          MemorySize: step.memoryMb ?? 512,
          Description: Match.stringLikeRegexp(step.entry),
        });
      }
    }
  });
});

describe('SchedulesStack', () => {
  test('one rule per declared schedule with its cron expression, targeting its function', () => {
    const t = template(platform.schedules);
    t.resourceCountIs('AWS::Events::Rule', schedules.length);
    const expected: Record<string, string> = {
      NightlyScans: 'cron(0 2 * * ? *)',
      MetadataRefresh: 'cron(0 */6 * * ? *)',
      WeeklyReport: 'cron(0 8 ? * MON *)',
    };
    for (const schedule of schedules) {
      const fn = platform.schedules.functions.get(schedule.name)!;
      t.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: expected[schedule.name],
        State: 'ENABLED',
        Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [platform.schedules.getLogicalId(fn.function.node.defaultChild as never), 'Arn'] } })],
      });
    }
  });
});

describe('MonitoringStack', () => {
  test('alarms of SPEC §10 notify the alarm topic', () => {
    const t = template(platform.monitoring);
    const queueCount = Object.keys(queues).length;
    // scan failure rate + API 5xx + per queue (DLQ not empty, depth) + one Bedrock alarm per configured model
    t.resourceCountIs('AWS::CloudWatch::Alarm', 2 + 2 * queueCount + 2);
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: TEST_CONTEXT.alarmEmail });
    const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm'));
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^AlarmTopic/) }]);
    const byDescription = (pattern: RegExp) => alarms.filter((a) => pattern.test(a.Properties.AlarmDescription));
    expect(byDescription(/scan workflow executions failed/).map((a) => a.Properties.Threshold)).toEqual([10]);
    expect(byDescription(/API requests answered 5xx/).map((a) => a.Properties.Threshold)).toEqual([5]);
    expect(byDescription(/dead-letter queue holds messages/)).toHaveLength(queueCount);
    for (const a of byDescription(/dead-letter queue holds messages/)) {
      expect(a.Properties).toEqual(expect.objectContaining({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', MetricName: 'ApproximateNumberOfMessagesVisible' }));
    }
    expect(byDescription(/More than 1000 messages wait/).map((a) => a.Properties.Threshold)).toEqual(Array(queueCount).fill(1000));
    expect(byDescription(/Bedrock model/)).toHaveLength(2);
  });
});

describe('cdk-nag AwsSolutions', () => {
  test('reports no unacknowledged error or warning on the synthesized app', () => {
    const report = new AwsSolutionsChecks().validateScope(app);
    const unacknowledged = report.violations.map((v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
    expect(unacknowledged).toEqual([]);
  });

  test('every acknowledgement carries a reason', () => {
    const acks = app.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules'))
      .flatMap((m) => Object.entries(m.data as Record<string, string>));
    expect(acks.length).toBeGreaterThan(0);
    for (const [id, reason] of acks) {
      // A specific reason, not a placeholder: the id stays in the assertion so a failure names the rule.
      expect({ id, specific: reason.trim().length > 30 }).toEqual({ id, specific: true });
    }
  });
});
