import { describe, expect, it } from '@jest/globals';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { FAIL_STEP, FAILED_STATE, JobWorkflow, MAP_STATE, MAP_STEP } from '../../lib/constructs/job-workflow.ts';
import { workflows, type WorkflowDecl } from '../../shared/platform/declarations.ts';

interface AslState {
  Type: string;
  Next?: string;
  End?: boolean;
  Resource?: string;
  TimeoutSeconds?: number;
  ItemsPath?: string;
  MaxConcurrency?: number;
  ResultPath?: string;
  ItemProcessor?: { StartAt: string; States: Record<string, AslState> };
  Retry?: { ErrorEquals: string[]; MaxAttempts: number; IntervalSeconds: number; BackoffRate: number }[];
  Catch?: { ErrorEquals: string[]; Next: string; ResultPath: string }[];
}
interface Asl {
  StartAt: string;
  TimeoutSeconds: number;
  States: Record<string, AslState>;
}

function synth(workflow: WorkflowDecl): { template: Template; asl: Asl; entries: string[] } {
  const stack = new Stack(new App(), 'Test');
  const entries: string[] = [];
  let n = 0;
  new JobWorkflow(stack, 'Workflow', {
    workflow,
    functionFor: (entry) => {
      entries.push(entry);
      return new lambda.Function(stack, `Fn${n++}`, {
        runtime: lambda.Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: lambda.Code.fromInline('export const handler = async () => ({});'),
      });
    },
  });
  const template = Template.fromStack(stack);
  const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] as {
    Properties: { DefinitionString: { 'Fn::Join': [string, unknown[]] } };
  };
  const text = machine.Properties.DefinitionString['Fn::Join'][1]
    .map((part) => (typeof part === 'string' ? part : 'arn:aws:lambda:us-east-1:000000000000:function:stub'))
    .join('');
  return { template, asl: JSON.parse(text) as Asl, entries };
}

describe('JobWorkflow', () => {
  const scan = synth(workflows.scan);
  const fix = synth(workflows.fix);

  it('chains the declared steps in order, the Map in place of analyzeShard', () => {
    const order: string[] = [];
    let name: string | undefined = scan.asl.StartAt;
    while (name && name !== FAIL_STEP) {
      order.push(name);
      name = scan.asl.States[name]?.Next;
    }
    const expected = Object.keys(workflows.scan.steps).map((s) => (s === MAP_STEP ? MAP_STATE : s));
    expect(order).toEqual(expected);
    expect(scan.asl.States.finish?.End).toBe(true);
  });

  it('creates one function per step and one for the fail handler', () => {
    expect(scan.entries.sort()).toEqual(
      [...Object.values(workflows.scan.steps).map((s) => s.entry), workflows.scan.fail.entry].sort(),
    );
  });

  it('runs analyzeShard in a bounded Map over $.shards, keeping the state', () => {
    const map = scan.asl.States[MAP_STATE];
    expect(map?.Type).toBe('Map');
    expect(map?.ItemsPath).toBe('$.shards');
    expect(map?.MaxConcurrency).toBe(10);
    expect(map?.ResultPath).toBe('$.shardResults');
    expect(map?.ItemProcessor?.StartAt).toBe(MAP_STEP);
    expect(map?.ItemProcessor?.States[MAP_STEP]?.Type).toBe('Task');
  });

  it('retries each task with exponential backoff, honouring the declared retries', () => {
    const fetch = scan.asl.States.fetchSource;
    // Permanent errors first: the first matching retrier decides, and these go to the catch at once.
    expect(fetch?.Retry).toEqual([
      { ErrorEquals: ['ScanRefusedError'], MaxAttempts: 0 },
      expect.objectContaining({
        ErrorEquals: expect.arrayContaining(['Lambda.ServiceException', 'States.TaskFailed']),
        MaxAttempts: 2,
        BackoffRate: 2,
      }),
    ]);
    expect(scan.asl.States[FAIL_STEP]?.Retry?.[1]?.MaxAttempts).toBe(3);
    expect(fix.asl.States.validateFix?.Retry).toBeUndefined();
    expect(fix.asl.States.buildFix?.Retry?.[1]?.MaxAttempts).toBe(2);
  });

  it('gives each task its declared timeout', () => {
    expect(scan.asl.States.fetchSource?.TimeoutSeconds).toBe(300);
    expect(scan.asl.States[MAP_STATE]?.ItemProcessor?.States[MAP_STEP]?.TimeoutSeconds).toBe(600);
  });

  it('catches every step into the fail step with the error beside the input, then fails', () => {
    for (const [name, state] of Object.entries(scan.asl.States)) {
      if (name === FAIL_STEP || name === FAILED_STATE) continue;
      expect(state.Catch).toEqual([{ ErrorEquals: ['States.ALL'], Next: FAIL_STEP, ResultPath: '$.error' }]);
    }
    expect(scan.asl.States[FAIL_STEP]?.Next).toBe(FAILED_STATE);
    expect(scan.asl.States[FAILED_STATE]?.Type).toBe('Fail');
  });

  it('times the whole execution out as declared', () => {
    expect(scan.asl.TimeoutSeconds).toBe(workflows.scan.timeoutSeconds);
    expect(fix.asl.TimeoutSeconds).toBe(workflows.fix.timeoutSeconds);
  });

  it('logs ALL with execution data to a log group and enables tracing', () => {
    scan.template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: true,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: Match.anyValue() } }],
      },
    });
    scan.template.resourceCountIs('AWS::Logs::LogGroup', 1);
  });

  it('rejects a workflow without steps or with a reserved step name', () => {
    const stub = (): lambda.IFunction => {
      throw new Error('not reached');
    };
    const stack = new Stack(new App(), 'Bad');
    expect(() => new JobWorkflow(stack, 'Empty', { workflow: { ...workflows.fix, steps: {} }, functionFor: stub })).toThrow(
      /declares no steps/,
    );
    expect(
      () =>
        new JobWorkflow(stack, 'Reserved', {
          workflow: { ...workflows.fix, steps: { [FAIL_STEP]: { entry: 'x.ts', timeoutSeconds: 1 } } },
          functionFor: stub,
        }),
    ).toThrow(/reserved/);
  });
});
