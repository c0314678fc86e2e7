import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { WorkflowDecl, WorkflowStepDecl } from '../../shared/platform/declarations.ts';
import { SCAN_REFUSED_ERROR } from '../../shared/pipeline/errors.ts';

/** The step that fans out over `$.shards` in a Map state. */
export const MAP_STEP = 'analyzeShard';
/** Name of the Map state wrapping {@link MAP_STEP}. */
export const MAP_STATE = 'analyzeShards';
/** Name of the task state running the workflow's `fail` handler. */
export const FAIL_STEP = 'recordFailure';
/** Name of the terminal Fail state after {@link FAIL_STEP}. */
export const FAILED_STATE = 'Failed';
/** Errors a task retries on: transient Lambda service errors and failures of the handler itself. */
export const RETRYABLE_ERRORS = [
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'States.TaskFailed',
];
/** Errors no retry can cure (a refused archive, a missing commit, an invalid configuration): caught at once. */
export const PERMANENT_ERRORS = [SCAN_REFUSED_ERROR];

export interface JobWorkflowProps {
  /** The declaration the states are built from. */
  readonly workflow: WorkflowDecl;
  /** The function that runs one handler entry; called once per step and once for `fail`. */
  readonly functionFor: (entry: string, decl: WorkflowStepDecl) => lambda.IFunction;
  /** Where execution logs (level ALL, with data) go. @default a new log group with `logRetention` */
  readonly logGroup?: logs.ILogGroup;
  /** Retention of the log group created when `logGroup` is not given. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Upper bound of shards analysed at once by the Map state. @default 10 */
  readonly mapConcurrency?: number;
}

/**
 * A Step Functions state machine from a {@link WorkflowDecl}: the steps in declaration order as Lambda tasks
 * whose output is the handler's JSON, each retried with exponential backoff and caught into the `fail` step,
 * which receives `{ ...originalStepInput, error: { Error, Cause } }`, records the failure and ends in a Fail
 * state; {@link PERMANENT_ERRORS} go to the catch without a retry. The `analyzeShard` step runs once per item
 * of `$.shards` (the item is its input) and the array of its
 * results is added to the state as `$.shardResults`.
 */
export class JobWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.ILogGroup;

  constructor(scope: Construct, id: string, props: JobWorkflowProps) {
    super(scope, id);
    const { workflow } = props;
    const mapConcurrency = props.mapConcurrency ?? 10;
    const stepNames = Object.keys(workflow.steps);
    if (stepNames.length === 0) throw new Error(`Workflow ${workflow.name} declares no steps`);
    if (!Number.isInteger(mapConcurrency) || mapConcurrency < 1) {
      throw new Error(`mapConcurrency must be a positive integer, got ${mapConcurrency}`);
    }
    for (const name of stepNames) {
      if ([MAP_STATE, FAIL_STEP, FAILED_STATE].includes(name)) {
        throw new Error(`Workflow ${workflow.name}: step name ${name} is reserved`);
      }
    }

    const task = (name: string, decl: WorkflowStepDecl): tasks.LambdaInvoke => {
      const invoke = new tasks.LambdaInvoke(this, name, {
        stateName: name,
        lambdaFunction: props.functionFor(decl.entry, decl),
        payloadResponseOnly: true,
        taskTimeout: sfn.Timeout.duration(Duration.seconds(decl.timeoutSeconds)),
        retryOnServiceExceptions: false,
      });
      const retries = decl.retries ?? 2;
      if (retries > 0) {
        // The first matching retrier decides, so this one must come before the catch-all below.
        invoke.addRetry({ errors: PERMANENT_ERRORS, maxAttempts: 0 });
        invoke.addRetry({
          errors: RETRYABLE_ERRORS,
          maxAttempts: retries,
          interval: Duration.seconds(2),
          backoffRate: 2,
          maxDelay: Duration.seconds(60),
        });
      }
      return invoke;
    };

    const failed = new sfn.Fail(this, FAILED_STATE, {
      stateName: FAILED_STATE,
      error: `${workflow.name}.Failed`,
      cause: 'A step failed; the failure was recorded by the fail step',
    });
    const recordFailure = task(FAIL_STEP, workflow.fail).next(failed);
    const catchInto = (state: tasks.LambdaInvoke | sfn.Map): void => {
      state.addCatch(recordFailure, { errors: ['States.ALL'], resultPath: '$.error' });
    };

    let chain: sfn.Chain | undefined;
    for (const name of stepNames) {
      const decl = workflow.steps[name] as WorkflowStepDecl;
      let state: tasks.LambdaInvoke | sfn.Map;
      if (name === MAP_STEP) {
        state = new sfn.Map(this, MAP_STATE, {
          stateName: MAP_STATE,
          itemsPath: '$.shards',
          maxConcurrency: mapConcurrency,
          resultPath: '$.shardResults',
        });
        state.itemProcessor(task(name, decl));
      } else {
        state = task(name, decl);
      }
      catchInto(state);
      chain = chain ? chain.next(state) : sfn.Chain.start(state);
    }

    this.logGroup =
      props.logGroup ??
      new logs.LogGroup(this, 'Logs', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(chain as sfn.Chain),
      timeout: Duration.seconds(workflow.timeoutSeconds),
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
  }
}
