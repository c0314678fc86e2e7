import { beforeAll, describe, expect, test } from '@jest/globals';
import { Stack, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { AppFunction } from '../../lib/constructs/app-function.ts';
import type { Platform } from '../../lib/stacks/platform.ts';
import { readStageConfig } from '../../lib/stacks/stage-config.ts';
import { queues } from '../../shared/platform/declarations.ts';
import { buildPlatform, TEST_CONTEXT, testApp } from './platform-fixture.ts';

// SES is least privilege: only the notifications consumer may send, only from the configured address, and
// nothing at all may send when no sender is configured.

const FROM = 'reports@mail.example.com';

/** Resolved statements of a function's role that mention SES, ARNs as text with pseudo parameters as `${AWS::Region}`. */
function sesGrants(fn: AppFunction): { actions: string[]; resources: string[]; condition: unknown }[] {
  const policy = fn.role.node.tryFindChild('DefaultPolicy') as iam.Policy | undefined;
  if (!policy) return [];
  const doc = Stack.of(fn).resolve(policy.document.toJSON()) as { Statement: { Action: string | string[]; Resource: unknown; Condition?: unknown }[] };
  const text = (part: unknown): string =>
    typeof part === 'string' ? part : `\${${(part as { Ref: string }).Ref}}`;
  return doc.Statement.filter((s) => [s.Action].flat().some((a) => a.startsWith('ses:'))).map((s) => ({
    actions: [s.Action].flat(),
    resources: [s.Resource].flat().map((r) => {
      const join = (r as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
      return join ? join[1].map(text).join(join[0]) : text(r);
    }),
    condition: s.Condition,
  }));
}

function allFunctions(platform: Platform): AppFunction[] {
  return [
    ...platform.api.routeFunctions.values(),
    ...platform.workflows.stepFunctions.values(),
    ...Object.values(platform.workflows.consumers),
    ...platform.schedules.functions.values(),
  ];
}

function environmentOf(fn: AppFunction): Record<string, unknown> {
  const cfn = fn.function.node.defaultChild as lambda.CfnFunction;
  const env = Stack.of(fn).resolve(cfn.environment) as { variables?: Record<string, unknown> } | undefined;
  return env?.variables ?? {};
}

describe('SES grants', () => {
  let platform: Platform;
  let app: App;
  beforeAll(() => {
    ({ app, platform } = buildPlatform({ ...TEST_CONTEXT, notificationEmailFrom: FROM }));
  });

  test('need no cdk-nag exception: no wildcard resource', () => {
    app.synth();
    const report = new AwsSolutionsChecks().validateScope(app);
    expect(report.violations.map((v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
  });

  test('give the notifications consumer alone SendEmail on the sender address and its domain, with that From address only', () => {
    const consumer = platform.workflows.consumers.notifications;
    expect(consumer.entry).toBe(queues.notifications.consumer.entry);
    const identity = (name: string) => `arn:\${AWS::Partition}:ses:\${AWS::Region}:\${AWS::AccountId}:identity/${name}`;
    expect(sesGrants(consumer)).toEqual([
      { actions: ['ses:SendEmail'], resources: [identity(FROM), identity('mail.example.com')], condition: { StringEquals: { 'ses:FromAddress': FROM } } },
    ]);
    expect(environmentOf(consumer).NOTIFICATION_EMAIL_FROM).toBe(FROM);
    const others = allFunctions(platform).filter((fn) => fn !== consumer);
    expect(others.length).toBeGreaterThan(10);
    expect(others.flatMap((fn) => sesGrants(fn).map(() => fn.entry))).toEqual([]);
    expect(others.filter((fn) => 'NOTIFICATION_EMAIL_FROM' in environmentOf(fn)).map((fn) => fn.entry)).toEqual([]);
  });

  test('are absent, and e-mail is off, when no sender is configured', () => {
    const { platform: bare } = buildPlatform(TEST_CONTEXT);
    expect(allFunctions(bare).flatMap(sesGrants)).toEqual([]);
    expect('NOTIFICATION_EMAIL_FROM' in environmentOf(bare.workflows.consumers.notifications)).toBe(false);
  });

  test.each(['not-an-address', 'Reports <reports@example.com>', 'a@b'])('refuses the sender %j at synth', (value) => {
    const app = testApp({ ...TEST_CONTEXT, notificationEmailFrom: value });
    expect(() => readStageConfig(app.node)).toThrow('Context notificationEmailFrom must be an e-mail address');
  });
});
