/**
 * The single declaration of the platform's moving parts. The CDK stacks (lib/stacks) and the local stack
 * (lib/local) are both built from these objects, so a route, queue, schedule or workflow step exists in both
 * or in neither. Handler entries are paths from the repository root; each exports `handler`.
 */

import type { GenericSchema } from 'valibot';
import { aiRoutes } from './routes/ai.ts';
import { authRoutes } from './routes/auth.ts';
import { compatRoutes } from './routes/compat.ts';
import { dashboardRoutes } from './routes/dashboard.ts';
import { fixRoutes } from './routes/fixes.ts';
import { metaRoutes } from './routes/meta.ts';
import { repositoryRoutes } from './routes/repositories.ts';
import { scanRoutes } from './routes/scans.ts';
import { systemRoutes } from './routes/system.ts';
import { vulnerabilityRoutes } from './routes/vulnerabilities.ts';
import { webhookRoutes } from './routes/webhooks.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** `public`: no token. `user`: a valid, unrevoked Bearer JWT. `github`: verified by webhook signature. */
export type RouteAccess = 'public' | 'user' | 'github';

export interface HandlerDecl {
  /** Entry file from the repository root, e.g. `lambdas/http/get-health.ts`. */
  readonly entry: string;
  /** @default 29 for HTTP routes, otherwise the owner's timeout */
  readonly timeoutSeconds?: number;
  /** @default 512 */
  readonly memoryMb?: number;
  /** Calls the configured Bedrock models; only such handlers are granted `bedrock:InvokeModel`. @default false */
  readonly invokesModel?: boolean;
}

export interface RouteDecl extends HandlerDecl {
  readonly method: HttpMethod;
  /** Path under the API stage, API Gateway style parameters: `/api/repositories/{id}`. */
  readonly path: string;
  readonly access: RouteAccess;
  readonly summary: string;
  /**
   * The valibot schemas the handler validates with and answers in; the OpenAPI document is generated from
   * them, so a route's handler must import these same objects.
   */
  readonly schemas?: {
    readonly body?: GenericSchema;
    readonly query?: GenericSchema;
    readonly params?: GenericSchema;
    readonly response?: GenericSchema;
  };
}

/** Names of the environment variables through which handlers find the platform's resources. */
export const ENV = {
  tableName: 'TABLE_NAME',
  bucketName: 'S3_BUCKET_NAME',
  scanJobsQueueUrl: 'SCAN_JOBS_QUEUE_URL',
  fixGenerationQueueUrl: 'FIX_GENERATION_QUEUE_URL',
  notificationsQueueUrl: 'NOTIFICATIONS_QUEUE_URL',
  githubEventsQueueUrl: 'GITHUB_EVENTS_QUEUE_URL',
  scanWorkflowArn: 'SCAN_WORKFLOW_ARN',
  fixWorkflowArn: 'FIX_WORKFLOW_ARN',
  websocketEndpoint: 'WEBSOCKET_ENDPOINT',
  secretsArn: 'APP_SECRETS_ARN',
  tokenKmsKeyId: 'TOKEN_ENCRYPTION_KMS_KEY_ID',
  stage: 'STAGE',
  /** SES v2 sender identity (verified address or domain) of notification e-mail; unset disables e-mail. */
  notificationEmailFrom: 'NOTIFICATION_EMAIL_FROM',
} as const;

/** The route table, one file per area so each area's routes and schemas live together. */
export const routes: readonly RouteDecl[] = [
  ...systemRoutes,
  ...authRoutes,
  ...metaRoutes,
  ...repositoryRoutes,
  ...vulnerabilityRoutes,
  ...scanRoutes,
  ...dashboardRoutes,
  ...compatRoutes,
  ...fixRoutes,
  ...aiRoutes,
  ...webhookRoutes,
];

export interface WebSocketDecl {
  readonly connect: HandlerDecl;
  readonly disconnect: HandlerDecl;
  readonly default: HandlerDecl;
  /** Path of the local WebSocket endpoint and name of the API Gateway stage. */
  readonly path: '/ws';
}

export const websocket: WebSocketDecl = {
  connect: { entry: 'lambdas/ws/connect.ts' },
  disconnect: { entry: 'lambdas/ws/disconnect.ts' },
  default: { entry: 'lambdas/ws/default.ts' },
  path: '/ws',
};

export interface QueueDecl {
  /** Logical name, PascalCase; used for construct ids and local queue names. */
  readonly name: string;
  readonly envVar: (typeof ENV)[keyof typeof ENV];
  readonly consumer: HandlerDecl & { readonly timeoutSeconds: number };
  /** Maximum concurrent consumer invocations. */
  readonly concurrency: number;
  readonly batchSize: number;
  /** Receives before a message moves to the dead-letter queue. */
  readonly maxReceives: number;
}

export const queues = {
  scanJobs: {
    name: 'ScanJobs',
    envVar: ENV.scanJobsQueueUrl,
    consumer: { entry: 'lambdas/jobs/start-scan.ts', timeoutSeconds: 900, memoryMb: 1024 },
    concurrency: 5,
    batchSize: 1,
    maxReceives: 3,
  },
  fixGeneration: {
    name: 'FixGeneration',
    envVar: ENV.fixGenerationQueueUrl,
    consumer: { entry: 'lambdas/jobs/start-fix.ts', timeoutSeconds: 300 },
    concurrency: 3,
    batchSize: 1,
    maxReceives: 3,
  },
  notifications: {
    name: 'Notifications',
    envVar: ENV.notificationsQueueUrl,
    consumer: { entry: 'lambdas/jobs/send-notification.ts', timeoutSeconds: 60 },
    concurrency: 10,
    batchSize: 10,
    maxReceives: 3,
  },
  githubEvents: {
    name: 'GithubEvents',
    envVar: ENV.githubEventsQueueUrl,
    consumer: { entry: 'lambdas/webhooks/process-github-event.ts', timeoutSeconds: 60 },
    concurrency: 5,
    batchSize: 10,
    maxReceives: 3,
  },
} as const satisfies Record<string, QueueDecl>;

export interface WorkflowStepDecl extends HandlerDecl {
  readonly timeoutSeconds: number;
  /** Retries of a failed step, with exponential backoff, before the workflow's catch runs. @default 2 */
  readonly retries?: number;
}

export interface WorkflowDecl {
  readonly name: string;
  readonly envVar: (typeof ENV)[keyof typeof ENV];
  /**
   * Whole-execution timeout. Step Functions ends such an execution `TIMED_OUT` without running any Catch, so
   * each step also has its own timeout, well inside this one, which the catch does handle.
   */
  readonly timeoutSeconds: number;
  /** Steps in execution order; the construct wires them (Map for `analyze`, Catch to `fail`). */
  readonly steps: Readonly<Record<string, WorkflowStepDecl>>;
  /** Runs when any step fails for good: records the failure and emits the failure event. */
  readonly fail: WorkflowStepDecl;
  /**
   * Runs for an execution that ended FAILED, TIMED_OUT or ABORTED (EventBridge in AWS, the runner locally), with
   * the execution status change event; it closes work the catch never saw, such as a whole-execution timeout.
   */
  readonly onExecutionEnded?: HandlerDecl & { readonly timeoutSeconds: number };
}

export const workflows = {
  scan: {
    name: 'ScanWorkflow',
    envVar: ENV.scanWorkflowArn,
    timeoutSeconds: 900,
    steps: {
      fetchSource: { entry: 'lambdas/scan-steps/fetch-source.ts', timeoutSeconds: 300, memoryMb: 1024 },
      planShards: { entry: 'lambdas/scan-steps/plan-shards.ts', timeoutSeconds: 60 },
      analyzeShard: { entry: 'lambdas/scan-steps/analyze-shard.ts', timeoutSeconds: 600, memoryMb: 2048 },
      triage: { entry: 'lambdas/scan-steps/triage-findings.ts', timeoutSeconds: 600, invokesModel: true },
      persist: { entry: 'lambdas/scan-steps/persist-findings.ts', timeoutSeconds: 300 },
      report: { entry: 'lambdas/scan-steps/write-reports.ts', timeoutSeconds: 120 },
      finish: { entry: 'lambdas/scan-steps/finish-scan.ts', timeoutSeconds: 60 },
    },
    fail: { entry: 'lambdas/scan-steps/fail-scan.ts', timeoutSeconds: 30, retries: 3 },
    onExecutionEnded: { entry: 'lambdas/scan-steps/close-abandoned-scan.ts', timeoutSeconds: 30 },
  },
  fix: {
    name: 'FixWorkflow',
    envVar: ENV.fixWorkflowArn,
    timeoutSeconds: 300,
    steps: {
      buildFix: { entry: 'lambdas/fix-steps/build-fix.ts', timeoutSeconds: 120, invokesModel: true },
      validateFix: { entry: 'lambdas/fix-steps/validate-fix.ts', timeoutSeconds: 120, retries: 0 },
      openPullRequest: { entry: 'lambdas/fix-steps/open-pull-request.ts', timeoutSeconds: 60 },
    },
    fail: { entry: 'lambdas/fix-steps/fail-fix.ts', timeoutSeconds: 30, retries: 3 },
  },
} as const satisfies Record<string, WorkflowDecl>;

export interface ScheduleDecl extends HandlerDecl {
  readonly name: string;
  readonly description: string;
  /** EventBridge cron fields, evaluated in UTC. */
  readonly cron: { readonly minute: string; readonly hour: string; readonly weekDay?: string };
}

export const schedules = [
  {
    name: 'NightlyScans',
    description: 'Daily 02:00 UTC scan of every repository with auto-scan on',
    cron: { minute: '0', hour: '2' },
    entry: 'lambdas/jobs/schedule-nightly-scans.ts',
    timeoutSeconds: 300,
  },
  {
    name: 'MetadataRefresh',
    description: 'Every 6 hours: GitHub metadata refresh and security score recalculation',
    cron: { minute: '0', hour: '*/6' },
    entry: 'lambdas/jobs/refresh-repositories.ts',
    timeoutSeconds: 300,
  },
  {
    name: 'WeeklyReport',
    description: 'Mondays 08:00 UTC: weekly report to the notification queue',
    cron: { minute: '0', hour: '8', weekDay: 'MON' },
    entry: 'lambdas/jobs/queue-weekly-reports.ts',
    timeoutSeconds: 300,
  },
] as const satisfies readonly ScheduleDecl[];

/** Every handler entry the platform deploys, for bundling and for the local stack. */
export function allHandlerEntries(): string[] {
  const entries = new Set<string>();
  for (const r of routes) entries.add(r.entry);
  for (const h of [websocket.connect, websocket.disconnect, websocket.default]) entries.add(h.entry);
  for (const q of Object.values(queues)) entries.add(q.consumer.entry);
  for (const w of Object.values(workflows)) {
    for (const s of Object.values(w.steps)) entries.add(s.entry);
    entries.add(w.fail.entry);
    if ('onExecutionEnded' in w) entries.add(w.onExecutionEnded.entry);
  }
  for (const s of schedules) entries.add(s.entry);
  return [...entries].sort();
}
