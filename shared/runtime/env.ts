import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ENV } from '../platform/declarations.ts';
import { logger } from './powertools.ts';

/** A missing or malformed setting. Raised at cold start or at first use; names the variable, never its value. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Reads a variable that must be set (non-empty), or throws naming it. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value.trim() === '') {
    throw new ConfigError(`Environment variable ${name} is required but not set`);
  }
  return value;
}

function optionalEnv(name: string): string | undefined {
  const value = process.env[name]?.trim();
  return value ? value : undefined;
}

function intEnv(name: string, fallback: number): number {
  const raw = optionalEnv(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new ConfigError(`Environment variable ${name} must be a non-negative integer`);
  return value;
}

/** `unlimited` (or unset for the pro tier) means no daily cap. */
function limitEnv(name: string, fallback: number): number {
  const raw = optionalEnv(name);
  if (raw !== undefined && raw.toLowerCase() === 'unlimited') return Number.POSITIVE_INFINITY;
  return intEnv(name, fallback);
}

/** True on the embedded local stack (`STAGE=local`) or anywhere outside AWS Lambda without a secrets ARN. */
export function isLocalStage(): boolean {
  if (optionalEnv(ENV.stage) === 'local') return true;
  return !optionalEnv('AWS_LAMBDA_FUNCTION_NAME') && !optionalEnv(ENV.secretsArn);
}

/** Non-secret configuration (SPEC §3) with its defaults. Read on each call so tests and the local stack can set env first. */
export function config() {
  return {
    stage: optionalEnv(ENV.stage) ?? (isLocalStage() ? 'local' : 'prod'),
    isLocal: isLocalStage(),
    apiPort: intEnv('API_PORT', 8000),
    jwtExpiry: optionalEnv('JWT_EXPIRY') ?? '7d',
    frontendUrl: optionalEnv('FRONTEND_URL'),
    githubAppId: optionalEnv('GITHUB_APP_ID'),
    githubClientId: optionalEnv('GITHUB_CLIENT_ID'),
    githubAppSlug: optionalEnv('GITHUB_APP_SLUG'),
    githubUrl: (optionalEnv('GITHUB_URL') ?? 'https://github.com').replace(/\/+$/, ''),
    githubApiUrl: (optionalEnv('GITHUB_API_URL') ?? 'https://api.github.com').replace(/\/+$/, ''),
    awsRegion: optionalEnv('AWS_REGION'),
    bedrockModelId: optionalEnv('BEDROCK_MODEL_ID'),
    bedrockFastModelId: optionalEnv('BEDROCK_FAST_MODEL_ID') ?? optionalEnv('BEDROCK_MODEL_ID'),
    bucketName: optionalEnv(ENV.bucketName),
    tableName: optionalEnv(ENV.tableName),
    rateLimitFreeTier: limitEnv('RATE_LIMIT_FREE_TIER', 10),
    rateLimitProTier: limitEnv('RATE_LIMIT_PRO_TIER', Number.POSITIVE_INFINITY),
    dataDir: resolve(optionalEnv('CODEGUARDIAN_DATA_DIR') ?? '.codeguardian'),
    localRepoRoot: optionalEnv('LOCAL_REPO_ROOT'),
    notificationEmailFrom: optionalEnv(ENV.notificationEmailFrom),
  };
}

export type AppConfig = ReturnType<typeof config>;

/** Every secret the platform reads; the same names are the keys of the JSON secret at `APP_SECRETS_ARN`. */
export const SECRET_NAMES = [
  'JWT_SECRET',
  'GITHUB_WEBHOOK_SECRET',
  'GITHUB_APP_PRIVATE_KEY',
  'GITHUB_CLIENT_SECRET',
  'TOKEN_ENCRYPTION_KEY',
  /** Slack incoming-webhook URL of the notifications channel; unset disables Slack delivery. */
  'SLACK_WEBHOOK_URL',
] as const;
export type SecretName = (typeof SECRET_NAMES)[number];
export type Secrets = Readonly<Partial<Record<SecretName, string>>>;

/** Secrets the local stack invents when unset, so `npm start` needs no set-up. */
const GENERATED_LOCALLY: Readonly<Record<string, () => string>> = {
  JWT_SECRET: () => randomBytes(48).toString('base64url'),
  GITHUB_WEBHOOK_SECRET: () => randomBytes(32).toString('hex'),
  TOKEN_ENCRYPTION_KEY: () => randomBytes(32).toString('base64'),
};

export const DEV_SECRETS_FILE = 'dev-secrets.json';

function readJsonObject(text: string, source: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(`${source} is not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`${source} must be a JSON object of secret names to values`);
  }
  return parsed as Record<string, unknown>;
}

function pickSecrets(source: Record<string, unknown>): Partial<Record<SecretName, string>> {
  const out: Partial<Record<SecretName, string>> = {};
  for (const name of SECRET_NAMES) {
    const value = source[name];
    if (typeof value === 'string' && value.trim() !== '') out[name] = value;
  }
  return out;
}

function loadLocalSecrets(warn: (message: string) => void): Secrets {
  const fromEnv = pickSecrets(process.env);
  const missing = Object.keys(GENERATED_LOCALLY).filter((name) => !(name in fromEnv));
  if (missing.length === 0) return fromEnv;

  const { dataDir } = config();
  const file = join(dataDir, DEV_SECRETS_FILE);
  let stored: Partial<Record<SecretName, string>> = {};
  try {
    stored = pickSecrets(readJsonObject(readFileSync(file, 'utf8'), file));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const generated = missing.filter((name) => !(name in stored));
  if (generated.length > 0) {
    for (const name of generated) stored[name as SecretName] = GENERATED_LOCALLY[name]?.();
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
    warn(
      `Generated development values for ${generated.join(', ')} in ${file}; set them in the environment for anything but local use`,
    );
  }
  return { ...stored, ...fromEnv };
}

async function loadAwsSecrets(): Promise<Secrets> {
  const arn = requireEnv(ENV.secretsArn);
  const client = new SecretsManagerClient({});
  let text: string | undefined;
  try {
    const answer = await client.send(new GetSecretValueCommand({ SecretId: arn }));
    text = answer.SecretString;
  } catch (error) {
    throw new ConfigError(`Could not read the secret ${ENV.secretsArn} points to: ${(error as Error).name}`);
  } finally {
    client.destroy();
  }
  if (text === undefined) throw new ConfigError(`The secret at ${ENV.secretsArn} has no string value`);
  return { ...pickSecrets(readJsonObject(text, `The secret at ${ENV.secretsArn}`)), ...pickSecrets(process.env) };
}

let secretsPromise: Promise<Secrets> | undefined;

/**
 * All secrets, loaded once per cold start: from the environment plus generated development values locally,
 * from the JSON secret at `APP_SECRETS_ARN` in AWS. Values are never logged.
 */
export function loadSecrets(warn: (message: string) => void = (m) => logger.warn(m)): Promise<Secrets> {
  secretsPromise ??= (isLocalStage() ? Promise.resolve().then(() => loadLocalSecrets(warn)) : loadAwsSecrets()).catch(
    (error: unknown) => {
      secretsPromise = undefined;
      throw error;
    },
  );
  return secretsPromise;
}

/** One secret that must be present, or a ConfigError naming it. */
export async function requireSecret(name: SecretName): Promise<string> {
  const value = (await loadSecrets())[name];
  if (value === undefined) {
    const where = isLocalStage() ? 'the environment' : `the secret at ${ENV.secretsArn}`;
    throw new ConfigError(`Secret ${name} is required but missing from ${where}`);
  }
  return value;
}

/**
 * Starts reading the secrets while the function initialises (AWS only: locally they are read on first use), so a
 * missing or unreadable one is reported at cold start, naming it, and the first request does not wait for it.
 */
export function preloadSecrets(required: readonly SecretName[]): void {
  if (isLocalStage()) return;
  Promise.all(required.map(requireSecret)).catch((error: unknown) => {
    logger.error('Configuration error at cold start', { error: error as Error });
  });
}

/** Forgets the loaded secrets so the next call reads them again (after rotation, and between tests). */
export function clearSecretsCache(): void {
  secretsPromise = undefined;
}
