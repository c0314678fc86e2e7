import { Aws } from 'aws-cdk-lib';
import type { Node } from 'constructs';

/** Deployment settings of one stage, read from CDK context (`cdk.json` or `-c key=value`). */
export interface StageConfig {
  /** Stage name, part of every stack name. @default 'dev' */
  readonly stage: string;
  /** CORS origin of the dashboard (FRONTEND_URL). @default 'http://localhost:3000' */
  readonly frontendUrl: string;
  /** GitHub web base for OAuth (GITHUB_URL). @default 'https://github.com' */
  readonly githubUrl: string;
  /** GitHub REST base (GITHUB_API_URL); set for GitHub Enterprise Server. @default 'https://api.github.com' */
  readonly githubApiUrl: string;
  /** Bedrock model id, inference profile id or ARN (BEDROCK_MODEL_ID). @default none: AI features answer 503 */
  readonly bedrockModelId?: string;
  /** Model for triage (BEDROCK_FAST_MODEL_ID). @default bedrockModelId */
  readonly bedrockFastModelId?: string;
  /** Address subscribed to the alarm topic. @default none */
  readonly alarmEmail?: string;
  /** Verified SES sender address of notification e-mail (NOTIFICATION_EMAIL_FROM). @default none: e-mail is off */
  readonly notificationEmailFrom?: string;
  /** GitHub App id and client id (not secrets). @default none */
  readonly githubAppId?: string;
  readonly githubClientId?: string;
  readonly githubAppSlug?: string;
  /** Target account and region; when unset the stacks are environment-agnostic. */
  readonly account?: string;
  readonly region?: string;
}

function text(node: Node, key: string): string | undefined {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new Error(`Context ${key} must be a string, got ${JSON.stringify(value)}`);
  }
  return String(value).trim() || undefined;
}

function httpUrl(key: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`Context ${key} must be an absolute http(s) URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`Context ${key} must be an http(s) URL, got ${JSON.stringify(value)}`);
  }
  return value.replace(/\/+$/, '');
}

/** Reads and checks the stage configuration; a bad value fails synth with a message naming the context key. */
export function readStageConfig(node: Node): StageConfig {
  const stage = text(node, 'stage') ?? 'dev';
  if (!/^[a-z][a-z0-9-]{0,19}$/.test(stage)) {
    throw new Error(`Context stage must be 1-20 lowercase letters, digits or dashes starting with a letter, got ${JSON.stringify(stage)}`);
  }
  const alarmEmail = text(node, 'alarmEmail');
  if (alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(alarmEmail)) {
    throw new Error(`Context alarmEmail must be an e-mail address, got ${JSON.stringify(alarmEmail)}`);
  }
  const notificationEmailFrom = text(node, 'notificationEmailFrom');
  if (notificationEmailFrom !== undefined && !/^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$/.test(notificationEmailFrom)) {
    throw new Error(`Context notificationEmailFrom must be an e-mail address, got ${JSON.stringify(notificationEmailFrom)}`);
  }
  const account = text(node, 'account');
  if (account !== undefined && !/^\d{12}$/.test(account)) {
    throw new Error(`Context account must be a 12-digit AWS account id, got ${JSON.stringify(account)}`);
  }
  const region = text(node, 'region');
  if (region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) {
    throw new Error(`Context region must be an AWS region such as us-east-1, got ${JSON.stringify(region)}`);
  }
  const bedrockModelId = text(node, 'bedrockModelId');
  return {
    stage,
    frontendUrl: httpUrl('frontendUrl', text(node, 'frontendUrl') ?? 'http://localhost:3000'),
    githubUrl: httpUrl('githubUrl', text(node, 'githubUrl') ?? 'https://github.com'),
    githubApiUrl: httpUrl('githubApiUrl', text(node, 'githubApiUrl') ?? 'https://api.github.com'),
    bedrockModelId,
    bedrockFastModelId: text(node, 'bedrockFastModelId') ?? bedrockModelId,
    alarmEmail,
    notificationEmailFrom,
    githubAppId: text(node, 'githubAppId'),
    githubClientId: text(node, 'githubClientId'),
    githubAppSlug: text(node, 'githubAppSlug'),
    account,
    region,
  };
}

/** Cross-region inference profiles are model ids with a geography prefix, e.g. `us.anthropic.claude-…`. */
const PROFILE_PREFIX = /^(us|eu|apac|us-gov|global|jp|au|ca)\./;

/**
 * The IAM resources that let a function invoke one configured model: the model's ARN, or for an inference
 * profile the profile plus the foundation model it routes to in any region (the profile picks the region).
 */
export function bedrockResourceArns(modelId: string | undefined): string[] {
  if (!modelId) return [];
  if (modelId.startsWith('arn:')) return [modelId];
  const prefix = PROFILE_PREFIX.exec(modelId);
  if (prefix) {
    const model = modelId.slice(prefix[0].length);
    return [
      `arn:${Aws.PARTITION}:bedrock:${Aws.REGION}:${Aws.ACCOUNT_ID}:inference-profile/${modelId}`,
      `arn:${Aws.PARTITION}:bedrock:*::foundation-model/${model}`,
    ];
  }
  return [`arn:${Aws.PARTITION}:bedrock:${Aws.REGION}::foundation-model/${modelId}`];
}

/** Environment every handler receives: the stage and the non-secret settings of SPEC §3. */
export function configEnvironment(config: StageConfig): Record<string, string> {
  const env: Record<string, string> = {
    FRONTEND_URL: config.frontendUrl,
    GITHUB_URL: config.githubUrl,
    GITHUB_API_URL: config.githubApiUrl,
  };
  if (config.bedrockModelId) env.BEDROCK_MODEL_ID = config.bedrockModelId;
  if (config.bedrockFastModelId) env.BEDROCK_FAST_MODEL_ID = config.bedrockFastModelId;
  if (config.githubAppId) env.GITHUB_APP_ID = config.githubAppId;
  if (config.githubClientId) env.GITHUB_CLIENT_ID = config.githubClientId;
  if (config.githubAppSlug) env.GITHUB_APP_SLUG = config.githubAppSlug;
  return env;
}
