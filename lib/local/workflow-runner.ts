import './polyfills.ts';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExecutionTimeoutError, StateMachine } from 'aws-local-stepfunctions';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './config.ts';
import type { HandlerRuntime } from './handlers.ts';
import type { SynthesizedWorkflow } from './workflow-definitions.ts';

type JSONValue = Parameters<StateMachine['run']>[0];

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface Execution {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly input: string;
  readonly startDate: Date;
  status: ExecutionStatus;
  stopDate?: Date;
  output?: string;
  error?: string;
  cause?: string;
  /** Settles when the execution stops, whatever its status. */
  readonly done: Promise<void>;
}

export class SfnError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export interface WorkflowRunnerOptions {
  readonly workflows: readonly SynthesizedWorkflow[];
  readonly runtime: HandlerRuntime;
  /** Pause between retries of every task, in ms, instead of the definition's backoff (tests). */
  readonly retryIntervalMs?: number;
  readonly log?: (line: string) => void;
}

export function stateMachineArn(name: string): string {
  return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${name}`;
}

interface Machine {
  readonly workflow: SynthesizedWorkflow;
  readonly machine: StateMachine;
}

/**
 * Runs the synthesized state machines with aws-local-stepfunctions, each Lambda task replaced by the local
 * handler of its step, and serves the Step Functions JSON protocol (StartExecution, DescribeExecution,
 * StopExecution) so handlers start workflows through the unchanged SDK client. Executions live in memory.
 */
export class WorkflowRunner {
  private readonly machines = new Map<string, Machine>();
  private readonly executions = new Map<string, Execution>();
  private readonly aborts = new Map<string, () => void>();
  private server: Server | undefined;
  private readonly log: (line: string) => void;

  constructor(private readonly options: WorkflowRunnerOptions) {
    this.log = options.log ?? (() => undefined);
    for (const workflow of options.workflows) {
      const machine = new StateMachine(workflow.definition as never, { validationOptions: { checkPaths: true, checkArn: true } });
      this.machines.set(stateMachineArn(workflow.decl.name), { workflow, machine });
    }
  }

  get stateMachineArns(): string[] {
    return [...this.machines.keys()];
  }

  startExecution(arn: string, input: string = '{}', name: string = randomUUID()): Execution {
    const entry = this.machines.get(arn);
    if (!entry) throw new SfnError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    if (!/^[A-Za-z0-9_.:-]{1,80}$/.test(name)) throw new SfnError('InvalidName', `Invalid Name: '${name}'`);
    let parsed: JSONValue;
    try {
      parsed = JSON.parse(input) as JSONValue;
    } catch {
      throw new SfnError('InvalidExecutionInput', 'Invalid State Machine Execution Input: not JSON');
    }
    const executionArn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:${entry.workflow.decl.name}:${name}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      // Same name and input is idempotent, as in Step Functions; a different input is a conflict.
      if (existing.input === input) return existing;
      throw new SfnError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }

    const handlers: Record<string, (input: JSONValue) => Promise<JSONValue>> = {};
    const retryIntervalOverrides: Record<string, number> = {};
    for (const [stateName, step] of entry.workflow.tasks) {
      handlers[stateName] = async (taskInput) =>
        (await this.options.runtime.invoke(step.entry, taskInput, { timeoutSeconds: step.timeoutSeconds, memoryMb: step.memoryMb })) as JSONValue;
      if (this.options.retryIntervalMs !== undefined) retryIntervalOverrides[stateName] = this.options.retryIntervalMs;
    }
    const startDate = new Date();
    const run = entry.machine.run(parsed, {
      overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides },
      context: {
        Execution: { Id: executionArn, Name: name, RoleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/local` },
        StateMachine: { Id: arn, Name: entry.workflow.decl.name },
      },
    });
    this.aborts.set(executionArn, run.abort);
    const execution: Execution = {
      executionArn,
      stateMachineArn: arn,
      name,
      input,
      startDate,
      status: 'RUNNING',
      done: run.result
        .then(
          (output) => {
            if (execution.status !== 'RUNNING') return;
            execution.status = 'SUCCEEDED';
            execution.output = JSON.stringify(output);
            execution.stopDate = new Date();
            this.log(`${entry.workflow.decl.name} ${name} succeeded`);
          },
          (error: unknown) => {
            if (execution.status !== 'RUNNING') return;
            // ExecutionError wraps the error of the failing state (a Fail state's Error and Cause).
            const outer = error as { message?: string; cause?: { name?: string; message?: string } };
            const inner = outer.cause ?? (error as { name?: string; message?: string });
            execution.status = error instanceof ExecutionTimeoutError ? 'TIMED_OUT' : 'FAILED';
            execution.error = execution.status === 'TIMED_OUT' ? 'States.Timeout' : (inner.name ?? 'Error');
            execution.cause = inner.message ?? String(error);
            execution.stopDate = new Date();
            this.log(`${entry.workflow.decl.name} ${name} ${execution.status.toLowerCase()}: ${execution.error}: ${execution.cause}`);
          },
        )
        .then(() => this.executionEnded(entry.workflow, execution)),
    };
    void execution.done.finally(() => this.aborts.delete(executionArn));
    this.executions.set(executionArn, execution);
    this.log(`${entry.workflow.decl.name} ${name} started`);
    return execution;
  }

  /**
   * What EventBridge does for Step Functions in AWS: an execution that ended FAILED, TIMED_OUT or ABORTED is
   * handed, as an "Execution Status Change" event, to the workflow's declared handler for such endings.
   */
  private async executionEnded(workflow: SynthesizedWorkflow, execution: Execution): Promise<void> {
    const handler = workflow.decl.onExecutionEnded;
    if (!handler || !['FAILED', 'TIMED_OUT', 'ABORTED'].includes(execution.status)) return;
    const event = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Step Functions Execution Status Change',
      source: 'aws.states',
      account: LOCAL_ACCOUNT,
      time: (execution.stopDate ?? new Date()).toISOString(),
      region: LOCAL_REGION,
      resources: [execution.executionArn],
      detail: {
        executionArn: execution.executionArn,
        stateMachineArn: execution.stateMachineArn,
        name: execution.name,
        status: execution.status,
        startDate: execution.startDate.getTime(),
        stopDate: (execution.stopDate ?? new Date()).getTime(),
        input: execution.input,
        output: null,
        error: execution.error ?? null,
        cause: execution.cause ?? null,
      },
    };
    try {
      await this.options.runtime.invoke(handler.entry, event, { timeoutSeconds: handler.timeoutSeconds, memoryMb: handler.memoryMb });
    } catch (error) {
      this.log(`${workflow.decl.name} ${execution.name}: the execution-ended handler failed: ${String(error)}`);
    }
  }

  describeExecution(executionArn: string): Execution {
    const execution = this.executions.get(executionArn);
    if (!execution) throw new SfnError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return execution;
  }

  stopExecution(executionArn: string, error?: string, cause?: string): Execution {
    const execution = this.describeExecution(executionArn);
    if (execution.status === 'RUNNING') {
      execution.status = 'ABORTED';
      execution.stopDate = new Date();
      if (error !== undefined) execution.error = error;
      if (cause !== undefined) execution.cause = cause;
      this.aborts.get(executionArn)?.();
    }
    return execution;
  }

  /** Serves the Step Functions API on 127.0.0.1; port 0 picks a free one. */
  async listen(port: number): Promise<number> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => reply(res, 500, { __type: 'InternalFailure', message: String(error) }));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    return (server.address() as AddressInfo).port;
  }

  /** Aborts running executions and stops the endpoint. */
  async close(): Promise<void> {
    for (const arn of [...this.aborts.keys()]) this.stopExecution(arn, 'Shutdown', 'The local stack stopped');
    await Promise.allSettled([...this.executions.values()].map((e) => e.done));
    const server = this.server;
    this.server = undefined;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('AWSStepFunctions.') ? target.slice('AWSStepFunctions.'.length) : '';
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
    } catch {
      reply(res, 400, { __type: 'SerializationException', message: 'Request body is not JSON' });
      return;
    }
    const str = (field: string): string | undefined => (typeof body[field] === 'string' ? (body[field] as string) : undefined);
    try {
      if (operation === 'StartExecution') {
        const arn = str('stateMachineArn');
        if (!arn) throw new SfnError('ValidationException', 'stateMachineArn is required');
        const execution = this.startExecution(arn, str('input') ?? '{}', str('name'));
        reply(res, 200, { executionArn: execution.executionArn, startDate: execution.startDate.getTime() / 1000 });
      } else if (operation === 'DescribeExecution') {
        reply(res, 200, describe(this.describeExecution(str('executionArn') ?? '')));
      } else if (operation === 'StopExecution') {
        const execution = this.stopExecution(str('executionArn') ?? '', str('error'), str('cause'));
        reply(res, 200, { stopDate: (execution.stopDate ?? new Date()).getTime() / 1000 });
      } else {
        reply(res, 400, { __type: 'UnknownOperationException', message: `Operation ${operation || target} is not served locally` });
      }
    } catch (error) {
      if (error instanceof SfnError) reply(res, 400, { __type: error.type, message: error.message });
      else throw error;
    }
  }
}

function describe(execution: Execution): Record<string, unknown> {
  return {
    executionArn: execution.executionArn,
    stateMachineArn: execution.stateMachineArn,
    name: execution.name,
    status: execution.status,
    startDate: execution.startDate.getTime() / 1000,
    ...(execution.stopDate ? { stopDate: execution.stopDate.getTime() / 1000 } : {}),
    input: execution.input,
    ...(execution.output !== undefined ? { output: execution.output } : {}),
    ...(execution.error !== undefined ? { error: execution.error } : {}),
    ...(execution.cause !== undefined ? { cause: execution.cause } : {}),
  };
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
