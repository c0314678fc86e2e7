import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { queues, schedules, type ScheduleDecl } from '../../shared/platform/declarations.ts';
import type { AppFunction } from '../constructs/app-function.ts';
import { platformFunction, type DataResources } from './common.ts';
import type { StageConfig } from './stage-config.ts';

export interface SchedulesStackProps extends StackProps {
  readonly config: StageConfig;
  readonly data: DataResources;
  readonly queues: Readonly<Record<keyof typeof queues, sqs.IQueue>>;
  /** @default every declared schedule */
  readonly schedules?: readonly ScheduleDecl[];
}

/** One EventBridge rule per declared schedule (cron in UTC), each invoking its job function. */
export class SchedulesStack extends Stack {
  readonly rules: ReadonlyMap<string, events.Rule>;
  readonly functions: ReadonlyMap<string, AppFunction>;

  constructor(scope: Construct, id: string, props: SchedulesStackProps) {
    super(scope, id, props);
    const { config, data } = props;
    const rules = new Map<string, events.Rule>();
    const functions = new Map<string, AppFunction>();
    for (const schedule of props.schedules ?? schedules) {
      if (rules.has(schedule.name)) throw new Error(`Schedule ${schedule.name} is declared twice`);
      const fn = platformFunction(this, config, schedule, { defaultTimeout: Duration.minutes(5) })
        .bindTable(data.table, 'write')
        .bindSecret(data.secret)
        .bindQueue(props.queues.scanJobs, queues.scanJobs.envVar)
        .bindQueue(props.queues.notifications, queues.notifications.envVar);
      const rule = new events.Rule(this, schedule.name, {
        description: schedule.description,
        schedule: events.Schedule.cron({ ...schedule.cron }),
      });
      rule.addTarget(new targets.LambdaFunction(fn.function, { retryAttempts: 2, maxEventAge: Duration.hours(1) }));
      rules.set(schedule.name, rule);
      functions.set(schedule.name, fn);
    }
    this.rules = rules;
    this.functions = functions;
  }
}
