import { Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { queues, workflows, type WorkflowStepDecl } from '../../shared/platform/declarations.ts';
import type { AppFunction } from '../constructs/app-function.ts';
import { JobWorkflow } from '../constructs/job-workflow.ts';
import { acknowledgeWildcardResource } from '../constructs/nag.ts';
import { QueueWorker } from '../constructs/queue-worker.ts';
import { platformFunction, type DataResources, type WebSocketTarget } from './common.ts';
import { bedrockResourceArns, type StageConfig } from './stage-config.ts';

export interface WorkflowsStackProps extends StackProps {
  readonly config: StageConfig;
  readonly data: DataResources;
  readonly realtime: WebSocketTarget;
}

type QueueName = keyof typeof queues;
type WorkflowName = keyof typeof workflows;

/**
 * The asynchronous half of the platform: the declared queues (each with its dead-letter queue and consumer)
 * and the scan and fix state machines built by JobWorkflow from their declarations.
 */
export class WorkflowsStack extends Stack {
  readonly workers: Record<QueueName, QueueWorker>;
  readonly consumers: Record<QueueName, AppFunction>;
  readonly workflows: Record<WorkflowName, JobWorkflow>;
  /** Every function of the workflows' steps, by entry. */
  readonly stepFunctions: ReadonlyMap<string, AppFunction>;

  constructor(scope: Construct, id: string, props: WorkflowsStackProps) {
    super(scope, id, props);
    const { config, data, realtime } = props;
    const models = [...new Set([...bedrockResourceArns(config.bedrockModelId), ...bedrockResourceArns(config.bedrockFastModelId)])];
    const withEvents = (fn: AppFunction): AppFunction =>
      fn.bindTable(data.table, 'write').bindSecret(data.secret).bindWebSocket(realtime.apiId, realtime.stageName, realtime.callbackUrl);

    this.consumers = {} as Record<QueueName, AppFunction>;
    this.workers = {} as Record<QueueName, QueueWorker>;
    for (const [name, decl] of Object.entries(queues) as [QueueName, (typeof queues)[QueueName]][]) {
      const consumer = withEvents(platformFunction(this, config, decl.consumer));
      this.consumers[name] = consumer;
      this.workers[name] = new QueueWorker(this, decl.name, { decl, consumer });
    }
    const queueOf = (name: QueueName) => this.workers[name].queue;

    const steps = new Map<string, AppFunction>();
    const functionFor = (workflow: WorkflowName) => (entry: string, decl: WorkflowStepDecl): lambda.IFunction => {
      let fn = steps.get(entry);
      if (!fn) {
        fn = withEvents(platformFunction(this, config, decl))
          .bindBucket(data.bucket, workflow === 'scan' ? 'write' : 'read')
          .bindQueue(queueOf('notifications'), queues.notifications.envVar);
        if (decl.invokesModel) fn.bindModels(models);
        if (workflow === 'scan') fn.bindQueue(queueOf('fixGeneration'), queues.fixGeneration.envVar);
        steps.set(entry, fn);
      }
      return fn.function;
    };
    this.stepFunctions = steps;

    this.workflows = {} as Record<WorkflowName, JobWorkflow>;
    for (const [name, workflow] of Object.entries(workflows) as [WorkflowName, (typeof workflows)[WorkflowName]][]) {
      const job = new JobWorkflow(this, workflow.name, { workflow, functionFor: functionFor(name) });
      this.workflows[name] = job;
      acknowledgeStateMachineWildcards(job.stateMachine, [...steps.values()].map((fn) => fn.function));
      if ('onExecutionEnded' in workflow) {
        // Executions that end without running their catch (whole-execution timeout, stop) still close their job.
        const ended = withEvents(platformFunction(this, config, workflow.onExecutionEnded));
        new events.Rule(this, `${workflow.name}Ended`, {
          description: `${workflow.name} executions that ended FAILED, TIMED_OUT or ABORTED`,
          eventPattern: {
            source: ['aws.states'],
            detailType: ['Step Functions Execution Status Change'],
            detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: [job.stateMachine.stateMachineArn] },
          },
          targets: [new targets.LambdaFunction(ended.function, { retryAttempts: 4 })],
        });
      }
    }

    this.consumers.scanJobs.bindWorkflow(this.workflows.scan.stateMachine, workflows.scan.envVar);
    this.consumers.fixGeneration.bindWorkflow(this.workflows.fix.stateMachine, workflows.fix.envVar);
    this.consumers.githubEvents.bindQueue(queueOf('scanJobs'), queues.scanJobs.envVar);
    this.consumers.githubEvents.bindBucket(data.bucket, 'read');
    if (config.notificationEmailFrom) this.consumers.notifications.bindEmailSender(config.notificationEmailFrom);
  }
}

/**
 * The wildcards CDK's Step Functions integration grants a state machine's role: invoking any version of
 * each step function (`arn:…:function:name:*`), and X-Ray and CloudWatch Logs delivery, which support no
 * resource-level permissions.
 */
function acknowledgeStateMachineWildcards(stateMachine: sfn.StateMachine, functions: readonly lambda.IFunction[]): void {
  for (const fn of functions) {
    acknowledgeWildcardResource(stateMachine, `${fn.functionArn}:*`, 'Tasks invoke the step function by qualified ARN; the grant covers versions of this one function');
  }
  acknowledgeWildcardResource(stateMachine, '*', 'X-Ray tracing and CloudWatch Logs vended delivery actions support no resource-level permissions');
}
