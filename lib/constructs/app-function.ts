import { Aws, Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { bundleHandler } from '../../esbuild.config.ts';
import { GLOBAL_INDEXES } from '../../shared/db/table-definition.ts';
import { ENV, type HandlerDecl } from '../../shared/platform/declarations.ts';
import { acknowledgeRule, acknowledgeWildcardResource } from './nag.ts';
import type * as kms from 'aws-cdk-lib/aws-kms';

type EnvVar = (typeof ENV)[keyof typeof ENV];

export interface AppFunctionProps {
  /** The declared handler: entry file, and optionally timeout and memory. */
  readonly handler: HandlerDecl;
  /** Timeout when the declaration has none. @default Duration.seconds(29), the HTTP API's own limit */
  readonly defaultTimeout?: Duration;
  /** @default a description naming the entry */
  readonly description?: string;
  /** Extra environment variables, merged over the defaults. @default none */
  readonly environment?: Readonly<Record<string, string>>;
  /** Powertools service name (logs, metrics, traces). @default 'codeguardian' */
  readonly serviceName?: string;
  /** Powertools log level. @default 'INFO' */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** Retention of the function's own log group. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Concurrency reserved for (and capping) this function. @default none: the account's unreserved pool */
  readonly reservedConcurrency?: number;
}

const DEFAULT_MEMORY_MB = 512;
const XRAY_REASON = 'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions';

/**
 * One platform Lambda function: nodejs22.x on ARM64, the handler's own esbuild bundle, Powertools
 * environment, active X-Ray tracing, a dedicated log group with retention and a role that may write only to
 * it. The `bind*` helpers grant exactly what a handler needs and set the environment variable through which
 * it finds the resource, in one call.
 */
export class AppFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly entry: string;

  constructor(scope: Construct, id: string, props: AppFunctionProps) {
    super(scope, id);
    const { handler } = props;
    this.entry = handler.entry;
    const memorySize = handler.memoryMb ?? DEFAULT_MEMORY_MB;
    const timeout = handler.timeoutSeconds !== undefined ? Duration.seconds(handler.timeoutSeconds) : (props.defaultTimeout ?? Duration.seconds(29));
    if (!Number.isInteger(memorySize) || memorySize < 128 || memorySize > 10240) {
      throw new Error(`${handler.entry}: memoryMb must be an integer from 128 to 10240, got ${memorySize}`);
    }
    if (timeout.toSeconds() < 1 || timeout.toSeconds() > 900) {
      throw new Error(`${handler.entry}: timeout must be 1 to 900 seconds, got ${timeout.toSeconds()}`);
    }
    if (props.reservedConcurrency !== undefined && (!Number.isInteger(props.reservedConcurrency) || props.reservedConcurrency < 1)) {
      throw new Error(`${handler.entry}: reservedConcurrency must be a positive integer`);
    }

    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs ${handler.entry}`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new lambda.Function(this, 'Function', {
      description: props.description ?? `CodeGuardian ${handler.entry}`,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: AppFunction.codeFor(this, handler.entry),
      memorySize,
      timeout,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: lambda.Tracing.ACTIVE,
      reservedConcurrentExecutions: props.reservedConcurrency,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: props.serviceName ?? 'codeguardian',
        POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
        POWERTOOLS_METRICS_NAMESPACE: 'CodeGuardian',
        ...props.environment,
      },
    });
    acknowledgeWildcardResource(this, '*', XRAY_REASON);
    acknowledgeRule(this.function, 'AwsSolutions-L1', 'The platform targets the nodejs22.x runtime (SPEC); newer runtimes are adopted deliberately, not by default');
  }

  /**
   * The bundle built by esbuild.config.ts for this entry. Stacks excluded from bundling (the
   * `aws:cdk:bundling-stacks` context, `[]` in tests, `cdk synth -e` for other stacks) get a placeholder,
   * as CDK's own bundled functions do, so an entry still being written cannot break their synth.
   */
  static codeFor(scope: Construct, entry: string): lambda.Code {
    if (!Stack.of(scope).bundlingRequired) {
      return lambda.Code.fromInline(`// bundling skipped for ${entry}`);
    }
    return lambda.Code.fromAsset(bundleHandler(entry).outDir);
  }

  private setEnv(name: string, value: string): void {
    this.function.addEnvironment(name, value);
  }

  /** Item access to the single table and its declared indexes (never `Scan`); sets TABLE_NAME. */
  bindTable(table: dynamodb.ITable, access: 'read' | 'write'): this {
    const read = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem', 'dynamodb:DescribeTable'];
    const write = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: access === 'write' ? [...read, ...write] : read,
        resources: [table.tableArn, ...GLOBAL_INDEXES.map((index) => `${table.tableArn}/index/${index.name}`)],
      }),
    );
    this.setEnv(ENV.tableName, table.tableName);
    return this;
  }

  /** Objects of the bucket (read, or read and write) plus listing; sets S3_BUCKET_NAME. */
  bindBucket(bucket: s3.IBucket, access: 'read' | 'write'): this {
    const objects = `${bucket.bucketArn}/*`;
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }));
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: access === 'write' ? ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'] : ['s3:GetObject'],
        resources: [objects],
      }),
    );
    acknowledgeWildcardResource(this, objects, 'Object keys are per repository and scan (sources/, reports/); the grant covers objects of this one bucket');
    this.setEnv(ENV.bucketName, bucket.bucketName);
    return this;
  }

  /** Send (only) to a queue; sets the queue URL under its declared variable. */
  bindQueue(queue: sqs.IQueue, envVar: EnvVar): this {
    queue.grantSendMessages(this.role);
    this.setEnv(envVar, queue.queueUrl);
    return this;
  }

  /** Start executions of a state machine; sets its ARN under the workflow's declared variable. */
  bindWorkflow(stateMachine: sfn.IStateMachine, envVar: EnvVar): this {
    stateMachine.grantStartExecution(this.role);
    this.setEnv(envVar, stateMachine.stateMachineArn);
    return this;
  }

  /** Read the application secret; sets APP_SECRETS_ARN (the ARN, never the value). */
  bindSecret(secret: secretsmanager.ISecret): this {
    // Identity policies only: `secret.grantRead` would also edit the key policy in the data stack, which
    // would make the data stack depend on every consumer's role.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], resources: [secret.secretArn] }),
    );
    if (secret.encryptionKey) {
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['kms:Decrypt'],
          resources: [secret.encryptionKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com` } },
        }),
      );
    }
    this.setEnv(ENV.secretsArn, secret.secretArn);
    return this;
  }

  /** Envelope encryption of stored GitHub tokens with this key; sets TOKEN_ENCRYPTION_KMS_KEY_ID. */
  bindTokenKey(key: kms.IKey): this {
    // Identity policy only, as in bindSecret: no key-policy edits in the data stack.
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [key.keyArn] }));
    this.setEnv(ENV.tokenKmsKeyId, key.keyArn);
    return this;
  }

  /** Post to and drop WebSocket connections of one stage; sets WEBSOCKET_ENDPOINT to its management endpoint. */
  bindWebSocket(apiId: string, stageName: string, callbackUrl: string): this {
    const connections = `arn:${Aws.PARTITION}:execute-api:${Aws.REGION}:${Aws.ACCOUNT_ID}:${apiId}/${stageName}/*/@connections/*`;
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['execute-api:ManageConnections'], resources: [connections] }));
    acknowledgeWildcardResource(this, connections, 'Connection ids are only known at run time; the grant is limited to this API stage\'s @connections');
    this.setEnv(ENV.websocketEndpoint, callbackUrl);
    return this;
  }

  /** Invoke the given Bedrock models or inference profiles (ARNs); nothing when none are configured. */
  bindModels(resourceArns: readonly string[], reason?: string): this {
    if (resourceArns.length === 0) return this;
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'],
        resources: [...resourceArns],
      }),
    );
    for (const arn of resourceArns) {
      if (arn.includes('*')) acknowledgeWildcardResource(this, arn, reason ?? 'A cross-region inference profile routes to this model in any of its regions');
    }
    return this;
  }

  /**
   * Send e-mail through SES from one sender address only: the address's own identity or its domain's (SES
   * authorises against whichever verified it), and only with that From address; sets NOTIFICATION_EMAIL_FROM.
   */
  bindEmailSender(fromAddress: string): this {
    const domain = fromAddress.slice(fromAddress.lastIndexOf('@') + 1);
    const identity = (name: string) => `arn:${Aws.PARTITION}:ses:${Aws.REGION}:${Aws.ACCOUNT_ID}:identity/${name}`;
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ses:SendEmail'],
        resources: [identity(fromAddress), identity(domain)],
        conditions: { StringEquals: { 'ses:FromAddress': fromAddress } },
      }),
    );
    this.setEnv(ENV.notificationEmailFrom, fromAddress);
    return this;
  }

  /** Sets a plain configuration variable (never a secret). */
  withEnvironment(name: string, value: string): this {
    this.setEnv(name, value);
    return this;
  }
}
