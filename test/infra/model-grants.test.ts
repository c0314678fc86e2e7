import { beforeAll, describe, expect, test } from '@jest/globals';
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { AppFunction } from '../../lib/constructs/app-function.ts';
import type { Platform } from '../../lib/stacks/platform.ts';
import { routes, workflows } from '../../shared/platform/declarations.ts';
import { buildPlatform, TEST_CONTEXT } from './platform-fixture.ts';

// Bedrock access is least privilege: exactly the handlers declared `invokesModel` may call a model, and only the
// configured model, inference profile and the foundation model behind that profile.

let platform: Platform;

beforeAll(() => {
  ({ platform } = buildPlatform());
});

/** A resolved ARN (`Fn::Join` of parts and `Ref`s) as one string, pseudo parameters as `${AWS::Region}`. */
function arnText(resolved: unknown): string {
  if (typeof resolved === 'string') return resolved;
  const join = (resolved as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (join) return join[1].map(arnText).join(join[0]);
  const ref = (resolved as { Ref?: string }).Ref;
  if (ref) return `\${${ref}}`;
  const attribute = (resolved as { 'Fn::GetAtt'?: string[] })['Fn::GetAtt'];
  if (attribute) return `\${${attribute.join('.')}}`;
  throw new Error(`unexpected ARN form ${JSON.stringify(resolved)}`);
}

interface Grant {
  readonly actions: string[];
  readonly resources: string[];
}

/** The statements of a function's role that mention Bedrock, resolved. */
function bedrockGrants(fn: AppFunction): Grant[] {
  const policy = fn.role.node.tryFindChild('DefaultPolicy') as iam.Policy | undefined;
  if (!policy) return [];
  const doc = Stack.of(fn).resolve(policy.document.toJSON()) as { Statement: { Action: string | string[]; Resource: unknown }[] };
  return doc.Statement.filter((s) => [s.Action].flat().some((a) => a.startsWith('bedrock:'))).map((s) => ({
    actions: [s.Action].flat(),
    resources: [s.Resource].flat().map(arnText),
  }));
}

const modelEntries = new Set([
  ...routes.filter((r) => r.invokesModel).map((r) => r.entry),
  ...Object.values(workflows).flatMap((w) => Object.values(w.steps).filter((s) => 'invokesModel' in s && s.invokesModel).map((s) => s.entry)),
]);

const PROFILE = TEST_CONTEXT.bedrockModelId;
const PROFILE_MODEL = PROFILE.replace(/^us\./, '');
const EXPECTED = [
  `arn:\${AWS::Partition}:bedrock:\${AWS::Region}:\${AWS::AccountId}:inference-profile/${PROFILE}`,
  `arn:\${AWS::Partition}:bedrock:*::foundation-model/${PROFILE_MODEL}`,
  `arn:\${AWS::Partition}:bedrock:\${AWS::Region}::foundation-model/${TEST_CONTEXT.bedrockFastModelId}`,
].sort();

function allFunctions(): Map<string, AppFunction> {
  const out = new Map<string, AppFunction>();
  for (const fn of platform.api.routeFunctions.values()) out.set(fn.entry, fn);
  for (const fn of platform.workflows.stepFunctions.values()) out.set(fn.entry, fn);
  for (const fn of Object.values(platform.workflows.consumers)) out.set(fn.entry, fn);
  return out;
}

describe('Bedrock grants', () => {
  test('are declared on the triage step, the fix build step, the four AI routes and the synchronous fix route', () => {
    expect([...modelEntries].sort()).toEqual(
      [
        'lambdas/fix-steps/build-fix.ts',
        'lambdas/http/ai-chat.ts',
        'lambdas/http/compat-scan-fix.ts',
        'lambdas/http/explain-vulnerability.ts',
        'lambdas/http/get-ai-suggestions.ts',
        'lambdas/http/get-vulnerability-explanation.ts',
        'lambdas/scan-steps/triage-findings.ts',
      ].sort(),
    );
  });

  test('give exactly those functions InvokeModel on the configured model and inference profile only', () => {
    const functions = allFunctions();
    for (const entry of modelEntries) expect(functions.has(entry)).toBe(true);
    for (const [entry, fn] of functions) {
      const grants = bedrockGrants(fn);
      if (!modelEntries.has(entry)) {
        expect({ entry, grants }).toEqual({ entry, grants: [] });
        continue;
      }
      expect({ entry, count: grants.length }).toEqual({ entry, count: 1 });
      const [grant] = grants;
      expect(grant?.actions.sort()).toEqual(['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream']);
      expect(grant?.resources.sort()).toEqual(EXPECTED);
    }
  });

  test('are absent when no model is configured', () => {
    const { bedrockModelId: _main, bedrockFastModelId: _fast, ...withoutModels } = TEST_CONTEXT;
    const { platform: bare } = buildPlatform(withoutModels);
    const fns = [...bare.api.routeFunctions.values(), ...bare.workflows.stepFunctions.values()];
    expect(fns.length).toBeGreaterThan(0);
    expect(fns.flatMap(bedrockGrants)).toEqual([]);
  });
});
