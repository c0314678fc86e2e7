import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { JobWorkflow } from '../constructs/job-workflow.ts';
import type { WorkflowDecl, WorkflowStepDecl } from '../../shared/platform/declarations.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './config.ts';

export interface AslState {
  readonly Type: string;
  readonly Resource?: string;
  readonly ItemProcessor?: { readonly States: Readonly<Record<string, AslState>> };
  readonly Iterator?: { readonly States: Readonly<Record<string, AslState>> };
  readonly [field: string]: unknown;
}

export interface AslDefinition {
  readonly StartAt: string;
  readonly TimeoutSeconds?: number;
  readonly States: Readonly<Record<string, AslState>>;
}

export interface SynthesizedWorkflow {
  readonly decl: WorkflowDecl;
  readonly definition: AslDefinition;
  /** Task state name → the declared step it runs. */
  readonly tasks: ReadonlyMap<string, WorkflowStepDecl>;
}

const FUNCTION_ARN_PREFIX = `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:`;

type Fragment = string | { 'Fn::GetAtt'?: [string, string]; Ref?: string };

function resolveFragment(fragment: Fragment): string {
  if (typeof fragment === 'string') return fragment;
  const getAtt = fragment['Fn::GetAtt'];
  if (getAtt && getAtt[1] === 'Arn') return `${FUNCTION_ARN_PREFIX}${getAtt[0]}`;
  const pseudo: Record<string, string> = {
    'AWS::Partition': 'aws',
    'AWS::Region': LOCAL_REGION,
    'AWS::AccountId': LOCAL_ACCOUNT,
    'AWS::URLSuffix': 'amazonaws.com',
  };
  if (fragment.Ref && pseudo[fragment.Ref]) return pseudo[fragment.Ref] as string;
  throw new Error(`Unsupported token in a state machine definition: ${JSON.stringify(fragment)}`);
}

function* taskStates(states: Readonly<Record<string, AslState>>): Generator<[string, AslState]> {
  for (const [name, state] of Object.entries(states)) {
    if (state.Type === 'Task') yield [name, state];
    const nested = state.ItemProcessor ?? state.Iterator;
    if (nested) yield* taskStates(nested.States);
  }
}

/**
 * Builds the {@link JobWorkflow} construct of each workflow in a throwaway CDK app, exactly as the stacks do,
 * and returns the rendered Amazon States Language with each task's function ARN resolved to a placeholder
 * naming the function's logical id, plus the step each task state runs.
 */
export function synthesizeWorkflows(decls: readonly WorkflowDecl[]): SynthesizedWorkflow[] {
  const outdir = mkdtempSync(join(tmpdir(), 'codeguardian-synth-'));
  try {
    // Only the rendered ASL is needed here; CloudFormation schema validation is most of synth time and runs in `cdk synth`.
    const app = new App({ outdir, builtinCloudFormationValidation: false });
    const stack = new Stack(app, 'LocalWorkflows', { env: { account: LOCAL_ACCOUNT, region: LOCAL_REGION } });
    const built: { decl: WorkflowDecl; machine: sfn.StateMachine; steps: Map<string, WorkflowStepDecl> }[] = [];
    for (const decl of decls) {
      const steps = new Map<string, WorkflowStepDecl>();
      let n = 0;
      const workflow = new JobWorkflow(stack, decl.name, {
        workflow: decl,
        functionFor: (entry, step) => {
          const fn = new lambda.Function(stack, `${decl.name}Fn${n++}`, {
            runtime: lambda.Runtime.NODEJS_22_X,
            handler: 'index.handler',
            code: lambda.Code.fromInline('exports.handler = async () => ({});'),
          });
          steps.set(stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction), { ...step, entry });
          return fn;
        },
      });
      built.push({ decl, machine: workflow.stateMachine, steps });
    }
    const template = app.synth().getStackByName(stack.stackName).template as {
      Resources: Record<string, { Properties?: { DefinitionString?: unknown } }>;
    };
    return built.map(({ decl, machine, steps }) => {
      const id = stack.getLogicalId(machine.node.defaultChild as sfn.CfnStateMachine);
      const raw = template.Resources[id]?.Properties?.DefinitionString;
      const text =
        typeof raw === 'string'
          ? raw
          : ((raw as { 'Fn::Join': [string, Fragment[]] })['Fn::Join'][1] ?? []).map(resolveFragment).join('');
      const definition = JSON.parse(text) as AslDefinition;
      const tasks = new Map<string, WorkflowStepDecl>();
      for (const [name, state] of taskStates(definition.States)) {
        const logicalId = state.Resource?.startsWith(FUNCTION_ARN_PREFIX) ? state.Resource.slice(FUNCTION_ARN_PREFIX.length) : '';
        const step = steps.get(logicalId);
        if (!step) throw new Error(`Task ${name} of ${decl.name} invokes ${state.Resource}, which runs no declared step`);
        tasks.set(name, step);
      }
      return { decl, definition, tasks };
    });
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
