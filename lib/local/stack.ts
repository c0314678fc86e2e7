import { mkdirSync } from 'node:fs';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ENV, routes, schedules, websocket, workflows, type RouteDecl, type ScheduleDecl, type WorkflowDecl } from '../../shared/platform/declarations.ts';
import { LOCAL_BUCKET, LOCAL_TABLE, type LocalConfig } from './config.ts';
import { startEmulators, type Emulators, type Endpoints } from './emulators.ts';
import { LocalGateway } from './gateway.ts';
import { HandlerRuntime } from './handlers.ts';
import { LOCAL_CREDENTIALS, provision, type Provisioned } from './provision.ts';
import { QueuePoller } from './queue-poller.ts';
import { Scheduler } from './scheduler.ts';
import { synthesizeWorkflows } from './workflow-definitions.ts';
import { stateMachineArn, WorkflowRunner } from './workflow-runner.ts';

export interface ServicesOptions {
  readonly endpoints: Endpoints;
  readonly provisioned: Provisioned;
  readonly region: string;
  readonly dataDir: string;
  /** Repository root the handler entries are relative to. */
  readonly root: string;
  /** Port of the gateway; 0 picks a free one. */
  readonly apiPort: number;
  /** Port of the Step Functions endpoint; 0 picks a free one. */
  readonly sfnPort: number;
  readonly retryDelaySeconds: number;
  readonly pollWaitSeconds: number;
  /** Entry → file replacements (tests). */
  readonly handlerOverrides?: Readonly<Record<string, string>>;
  readonly retryIntervalMs?: number;
  readonly now?: () => Date;
  readonly routes?: readonly RouteDecl[];
  readonly schedules?: readonly ScheduleDecl[];
  readonly workflows?: readonly WorkflowDecl[];
  /** Start the queue poller and the scheduler. @default true */
  readonly background?: boolean;
  readonly log?: (line: string) => void;
}

export interface Services {
  readonly apiPort: number;
  readonly sfnEndpoint: string;
  readonly env: Readonly<Record<string, string>>;
  readonly gateway: LocalGateway;
  readonly runner: WorkflowRunner;
  readonly poller: QueuePoller;
  readonly scheduler: Scheduler;
  readonly runtime: HandlerRuntime;
  stop(): Promise<void>;
}

/** The environment the deployed functions get, pointing at the local services through unchanged SDK clients. */
export function handlerEnvironment(options: {
  endpoints: Endpoints & { sfn: string };
  provisioned: Provisioned;
  region: string;
  dataDir: string;
  websocketEndpoint: string;
}): Record<string, string> {
  const env: Record<string, string> = {
    AWS_REGION: options.region,
    AWS_DEFAULT_REGION: options.region,
    AWS_ENDPOINT_URL_DYNAMODB: options.endpoints.dynamodb,
    AWS_ENDPOINT_URL_S3: options.endpoints.s3,
    AWS_ENDPOINT_URL_SQS: options.endpoints.sqs,
    AWS_ENDPOINT_URL_SFN: options.endpoints.sfn,
    [ENV.tableName]: options.provisioned.tableName,
    [ENV.bucketName]: options.provisioned.bucketName,
    [ENV.websocketEndpoint]: options.websocketEndpoint,
    [ENV.stage]: 'local',
    CODEGUARDIAN_DATA_DIR: options.dataDir,
    // The local S3 checks the key id; Bedrock, when configured, can still use a named profile's credentials.
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
  };
  for (const queue of options.provisioned.queues) env[queue.decl.envVar] = queue.url;
  for (const workflow of Object.values(workflows)) env[workflow.envVar] = stateMachineArn(workflow.name);
  return env;
}

/** Gateway, Step Functions endpoint and runner, queue poller and scheduler, against running emulators. */
export async function startServices(options: ServicesOptions): Promise<Services> {
  const log = options.log ?? (() => undefined);
  const runtime = new HandlerRuntime(options.root, options.handlerOverrides);
  const runner = new WorkflowRunner({
    workflows: synthesizeWorkflows(options.workflows ?? Object.values(workflows)),
    runtime,
    retryIntervalMs: options.retryIntervalMs,
    log,
  });
  const gateway = new LocalGateway({ routes: options.routes ?? routes, websocket, runtime, corsOrigin: process.env.FRONTEND_URL, log });
  const stops: (() => Promise<void> | void)[] = [];
  try {
    const sfnPort = await runner.listen(options.sfnPort);
    stops.push(() => runner.close());
    const apiPort = await gateway.listen(options.apiPort);
    stops.push(() => gateway.close());
    const sfnEndpoint = `http://127.0.0.1:${sfnPort}`;
    const env = handlerEnvironment({
      endpoints: { ...options.endpoints, sfn: sfnEndpoint },
      provisioned: options.provisioned,
      region: options.region,
      dataDir: options.dataDir,
      websocketEndpoint: `http://127.0.0.1:${apiPort}${websocket.path}`,
    });
    // Handlers run in this process and read their configuration from process.env when first loaded.
    delete process.env.AWS_SESSION_TOKEN;
    Object.assign(process.env, env);

    const sqs = new SQSClient({ region: options.region, endpoint: options.endpoints.sqs, credentials: LOCAL_CREDENTIALS });
    const poller = new QueuePoller({
      sqs,
      runtime,
      queues: options.provisioned.queues,
      region: options.region,
      retryDelaySeconds: options.retryDelaySeconds,
      waitSeconds: options.pollWaitSeconds,
      log,
    });
    const scheduler = new Scheduler({ schedules: options.schedules ?? schedules, runtime, now: options.now, log });
    if (options.background ?? true) {
      poller.start();
      scheduler.start();
    }
    stops.push(async () => {
      scheduler.stop();
      await poller.stop();
      sqs.destroy();
    });
    const stop = async (): Promise<void> => {
      for (const fn of stops.splice(0).reverse()) await fn();
    };
    return { apiPort, sfnEndpoint, env, gateway, runner, poller, scheduler, runtime, stop };
  } catch (error) {
    for (const fn of stops.splice(0).reverse()) await fn();
    throw error;
  }
}

export interface LocalStack {
  readonly emulators: Emulators;
  readonly services: Services;
  stop(): Promise<void>;
}

/** Everything `npm start` runs, in this process (DynamoDB Local as a Java child). */
export async function startLocalStack(config: LocalConfig, root: string, log: (line: string) => void): Promise<LocalStack> {
  mkdirSync(config.dataDir, { recursive: true });
  const emulators = await startEmulators({ dataDir: config.dataDir, ports: config.ports, log });
  try {
    const provisioned = await provision(emulators.endpoints, { region: config.region, tableName: LOCAL_TABLE, bucketName: LOCAL_BUCKET });
    const services = await startServices({
      endpoints: emulators.endpoints,
      provisioned,
      region: config.region,
      dataDir: config.dataDir,
      root,
      apiPort: config.apiPort,
      sfnPort: config.ports.sfn,
      retryDelaySeconds: config.retryDelaySeconds,
      pollWaitSeconds: config.pollWaitSeconds,
      log,
    });
    return {
      emulators,
      services,
      stop: async () => {
        await services.stop();
        await emulators.stop();
      },
    };
  } catch (error) {
    await emulators.stop();
    throw error;
  }
}
