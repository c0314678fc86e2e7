import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { createPlatform, type Platform } from '../../lib/stacks/platform.ts';
import { readStageConfig } from '../../lib/stacks/stage-config.ts';

/** Context of the test stage: a model and an inference profile so the Bedrock grants and alarms exist. */
export const TEST_CONTEXT = {
  'aws:cdk:bundling-stacks': [],
  stage: 'test',
  frontendUrl: 'https://dashboard.example.com',
  bedrockModelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
  bedrockFastModelId: 'anthropic.claude-3-5-haiku-20241022-v1:0',
  alarmEmail: 'security-oncall@example.com',
  region: 'us-east-1',
  account: '123456789012',
} as const;

/**
 * An App for assertions. CDK's built-in CloudFormation schema validation (most of synth time here) is left
 * to `cdk synth`; cdk-nag runs wherever a test registers it.
 */
export function testApp(context: Record<string, unknown> = {}): App {
  return new App({ context, builtinCloudFormationValidation: false });
}

/** The whole platform with cdk-nag's AwsSolutions checks registered as in bin/app.ts; bundling skipped. */
export function buildPlatform(context: Record<string, unknown> = TEST_CONTEXT): { app: App; platform: Platform } {
  const app = testApp(context);
  const platform = createPlatform(app, readStageConfig(app.node));
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, platform };
}
