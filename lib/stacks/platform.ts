import type { App, Environment } from 'aws-cdk-lib';
import { ApiStack } from './api-stack.ts';
import { DataStack } from './data-stack.ts';
import { MonitoringStack } from './monitoring-stack.ts';
import { RealtimeStack } from './realtime-stack.ts';
import { SchedulesStack } from './schedules-stack.ts';
import type { StageConfig } from './stage-config.ts';
import { WorkflowsStack } from './workflows-stack.ts';

export interface Platform {
  readonly data: DataStack;
  readonly realtime: RealtimeStack;
  readonly workflows: WorkflowsStack;
  readonly api: ApiStack;
  readonly schedules: SchedulesStack;
  readonly monitoring: MonitoringStack;
}

/**
 * Every stack of one stage, named `CodeGuardian-<stage>-<Part>`, in dependency order:
 * data → realtime (WebSocket) → workflows (queues, state machines) → api (HTTP) → schedules → monitoring.
 */
export function createPlatform(app: App, config: StageConfig): Platform {
  const env: Environment | undefined = config.account || config.region ? { account: config.account, region: config.region } : undefined;
  const name = (part: string): string => `CodeGuardian-${config.stage}-${part}`;
  const tags = { project: 'codeguardian', stage: config.stage };
  const common = { env, tags };

  const data = new DataStack(app, name('Data'), { ...common, description: 'CodeGuardian table, bucket and secrets (retained)' });
  const realtime = new RealtimeStack(app, name('Realtime'), { ...common, config, data, description: 'CodeGuardian WebSocket API' });
  const workflows = new WorkflowsStack(app, name('Workflows'), {
    ...common,
    config,
    data,
    realtime,
    description: 'CodeGuardian queues and scan/fix workflows',
  });
  const queues = {
    scanJobs: workflows.workers.scanJobs.queue,
    fixGeneration: workflows.workers.fixGeneration.queue,
    notifications: workflows.workers.notifications.queue,
    githubEvents: workflows.workers.githubEvents.queue,
  };
  const api = new ApiStack(app, name('Api'), {
    ...common,
    config,
    data,
    queues,
    scanWorkflow: workflows.workflows.scan.stateMachine,
    description: 'CodeGuardian HTTP API',
  });
  const schedules = new SchedulesStack(app, name('Schedules'), { ...common, config, data, queues, description: 'CodeGuardian schedules' });
  const monitoring = new MonitoringStack(app, name('Monitoring'), {
    ...common,
    config,
    httpApi: api.api,
    scanWorkflow: workflows.workflows.scan.stateMachine,
    queues: Object.values(workflows.workers).map((w) => ({ name: w.node.id, queue: w.queue, deadLetterQueue: w.deadLetterQueue })),
    description: 'CodeGuardian alarms',
  });
  return { data, realtime, workflows, api, schedules, monitoring };
}
